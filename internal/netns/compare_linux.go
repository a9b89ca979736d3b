package netns

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/capture/pcapfile"
	"github.com/wringcap/wring/spec"
)

// Capturer is a capture program (wring capture, tcpdump) running inside a
// namespace until Stop.
type Capturer struct {
	Name    string
	cmd     *exec.Cmd
	stderr  *lockedBuffer
	waitErr chan error
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// StartCapture runs argv inside namespace ns (ip netns exec, so /sys is
// the namespace's too) and returns once its standard error has a line
// says "listening on", as tcpdump and wring capture print when the
// capture is open, or an error if it exits or says nothing for 20 s.
func StartCapture(name, ns string, argv []string, env ...string) (*Capturer, error) {
	c := &Capturer{Name: name, stderr: &lockedBuffer{}}
	c.cmd = exec.Command("ip", append([]string{"netns", "exec", ns}, argv...)...)
	c.cmd.Stderr = c.stderr
	c.cmd.Stdout = io.Discard
	c.cmd.Env = append(os.Environ(), env...)
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- c.cmd.Wait() }()
	deadline := time.After(20 * time.Second)
	for {
		if strings.Contains(c.stderr.String(), "listening on ") {
			c.waitErr = exited
			return c, nil
		}
		select {
		case err := <-exited:
			return nil, fmt.Errorf("%s exited before listening: %v: %s", name, err, c.stderr.String())
		case <-deadline:
			_ = c.cmd.Process.Kill()
			<-exited
			return nil, fmt.Errorf("%s did not start listening in 20 s: %s", name, c.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Pid returns the process id of the capture: the capturer's own, as ip
// netns exec executes it in its place.
func (c *Capturer) Pid() int { return c.cmd.Process.Pid }

// Stderr returns what the capture has written to its standard error so far.
func (c *Capturer) Stderr() string { return c.stderr.String() }

// Stop interrupts the capture (SIGINT, as Ctrl-C), waits for it to write
// its file and exit, and returns its standard error.
func (c *Capturer) Stop() (string, error) {
	_ = c.cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-c.waitErr:
		if err != nil {
			return c.stderr.String(), fmt.Errorf("%s: %w: %s", c.Name, err, c.stderr.String())
		}
	case <-time.After(20 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.waitErr
		return c.stderr.String(), fmt.Errorf("%s did not stop within 20 s of SIGINT: %s", c.Name, c.stderr.String())
	}
	return c.stderr.String(), nil
}

// Frame is one captured frame as ComparePcaps sees it.
type Frame struct {
	Ts   int64 // the capture's stamp, nanoseconds
	Data []byte
	Flow string // protocol and both endpoints, the same in both directions
	Dir  string // "a>b" or "b>a": which endpoint sent it, by their order in Flow
}

// Capture is a capture file's link type and frames.
type Capture struct {
	LinkType spec.LinkType
	Frames   []Frame
}

// ReadCapture reads a pcap or pcapng file and keys each frame by flow.
func ReadCapture(path string) (Capture, error) {
	r, err := pcapfile.Open(path)
	if err != nil {
		return Capture{}, err
	}
	defer r.Close()
	c := Capture{LinkType: r.LinkType()}
	var info packet.Info
	for {
		data, err := r.ReadPacket(&info)
		if err == io.EOF {
			break
		}
		if err != nil {
			return c, fmt.Errorf("%s: %w", path, err)
		}
		f := Frame{Ts: info.Timestamp, Data: append([]byte(nil), data...)}
		f.Flow, f.Dir = flowOf(c.LinkType, f.Data)
		c.Frames = append(c.Frames, f)
	}
	return c, nil
}

// flowOf finds a frame's IPv4 5-tuple under its link layer (Ethernet with
// any VLAN tags, raw IP, LINUX_SLL2); other frames are keyed by their
// link type and protocol number.
func flowOf(lt spec.LinkType, b []byte) (flow, dir string) {
	off, proto := 0, uint16(0x0800)
	switch lt {
	case spec.LinkEthernet:
		off = 12
		for off+2 <= len(b) && (binary.BigEndian.Uint16(b[off:]) == 0x8100 || binary.BigEndian.Uint16(b[off:]) == 0x88a8) {
			off += 4
		}
		if off+2 > len(b) {
			return "short", "a>b"
		}
		proto = binary.BigEndian.Uint16(b[off:])
		off += 2
	case spec.LinkLinuxSLL2:
		if len(b) < 20 {
			return "short", "a>b"
		}
		proto, off = binary.BigEndian.Uint16(b[0:]), 20
	case spec.LinkRaw:
		if len(b) > 0 && b[0]>>4 != 4 {
			proto = 0x86dd
		}
	}
	if proto != 0x0800 || off+20 > len(b) {
		return fmt.Sprintf("%s proto 0x%04x", lt, proto), "a>b"
	}
	ip := b[off:]
	ihl := int(ip[0]&15) * 4
	src := netip.AddrFrom4([4]byte(ip[12:16]))
	dst := netip.AddrFrom4([4]byte(ip[16:20]))
	var sp, dp uint16
	if (ip[9] == 6 || ip[9] == 17) && ihl+4 <= len(ip) {
		sp, dp = binary.BigEndian.Uint16(ip[ihl:]), binary.BigEndian.Uint16(ip[ihl+2:])
	}
	s, d := netip.AddrPortFrom(src, sp).String(), netip.AddrPortFrom(dst, dp).String()
	if s <= d {
		return fmt.Sprintf("ip proto %d %s %s", ip[9], s, d), "a>b"
	}
	return fmt.Sprintf("ip proto %d %s %s", ip[9], d, s), "b>a"
}

// Difference is how two captures of the same traffic disagree.
type Difference struct {
	Flows    int      // flows in the reference capture
	Frames   int      // frames in the reference capture
	Problems []string // each difference found, at most the first per flow
}

// Same reports whether the captures agree.
func (d Difference) Same() bool { return len(d.Problems) == 0 }

// CrossWindow is how close in time (by the reference's stamps) two frames
// of one flow going opposite ways must be for ComparePcaps to accept them
// in either order: the captures take them at different hooks (tc on one
// side of the tap, on different CPUs), so two frames crossing within a few
// microseconds can reach each in a different order.
const CrossWindow = 200_000 // nanoseconds

// ComparePcaps compares a capture with a reference capture of the same
// traffic: the same link type, and per flow the same frames (every byte),
// in the same directions and, per direction, the same order. Between the
// two directions the order must agree too, except for frames that the
// reference stamps within CrossWindow of each other. Frames of different
// flows may interleave differently (the captures read different rings).
func ComparePcaps(reference, got Capture) Difference {
	var d Difference
	if reference.LinkType != got.LinkType {
		d.Problems = append(d.Problems, fmt.Sprintf("link type %s, reference %s", got.LinkType, reference.LinkType))
	}
	byFlow := func(c Capture) (map[string][]Frame, []string) {
		m := map[string][]Frame{}
		var order []string
		for _, f := range c.Frames {
			if _, ok := m[f.Flow]; !ok {
				order = append(order, f.Flow)
			}
			m[f.Flow] = append(m[f.Flow], f)
		}
		return m, order
	}
	ref, order := byFlow(reference)
	have, haveOrder := byFlow(got)
	d.Flows, d.Frames = len(ref), len(reference.Frames)
	for _, flow := range order {
		if p := compareFlow(flow, ref[flow], have[flow]); p != "" {
			d.Problems = append(d.Problems, p)
		}
	}
	for _, flow := range haveOrder {
		if _, ok := ref[flow]; !ok {
			d.Problems = append(d.Problems, fmt.Sprintf("%s: %d frames not in the reference", flow, len(have[flow])))
		}
	}
	return d
}

// compareFlow compares one flow's frames (see ComparePcaps) and returns
// its first difference, or "".
func compareFlow(flow string, r, g []Frame) string {
	if len(r) != len(g) {
		for i := range max(len(r), len(g)) {
			switch {
			case i >= len(g):
				return fmt.Sprintf("%s: %d frames, reference %d: missing from frame %d (%s, %d bytes)", flow, len(g), len(r), i, r[i].Dir, len(r[i].Data))
			case i >= len(r):
				return fmt.Sprintf("%s: %d frames, reference %d: extra from frame %d (%s, %d bytes)", flow, len(g), len(r), i, g[i].Dir, len(g[i].Data))
			case r[i].Dir != g[i].Dir || !bytes.Equal(r[i].Data, g[i].Data):
				return fmt.Sprintf("%s: %d frames, reference %d: they differ from frame %d", flow, len(g), len(r), i)
			}
		}
	}
	// Per direction: the same frames in the same order. refIdx maps each
	// frame of g to its reference frame.
	refIdx := make([]int, len(g))
	for _, dir := range []string{"a>b", "b>a"} {
		var ri, gi []int
		for i := range r {
			if r[i].Dir == dir {
				ri = append(ri, i)
			}
		}
		for i := range g {
			if g[i].Dir == dir {
				gi = append(gi, i)
			}
		}
		if len(ri) != len(gi) {
			return fmt.Sprintf("%s: %d frames go %s, reference %d", flow, len(gi), dir, len(ri))
		}
		for k := range ri {
			a, b := r[ri[k]], g[gi[k]]
			if !bytes.Equal(a.Data, b.Data) {
				return fmt.Sprintf("%s: frame %d going %s differs (%d bytes, reference %d): % x\nreference: % x", flow, k, dir, len(b.Data), len(a.Data), head(b.Data), head(a.Data))
			}
			refIdx[gi[k]] = ri[k]
		}
	}
	// Between directions: every frame g holds before one the reference
	// holds after it must lie within CrossWindow of it.
	for i := 0; i+1 < len(g); i++ {
		x, y := refIdx[i], refIdx[i+1]
		if x > y {
			if dt := r[x].Ts - r[y].Ts; dt > CrossWindow || dt < -CrossWindow {
				return fmt.Sprintf("%s: frame %d goes %s, reference %s (reference frames %d and %d, %d ns apart)", flow, i, g[i].Dir, r[i].Dir, y, x, dt)
			}
		}
	}
	return ""
}

func head(b []byte) []byte { return b[:min(len(b), 64)] }

// errNoFrames is returned by CompareFiles when the reference captured
// nothing: an empty comparison proves nothing.
var errNoFrames = errors.New("the reference capture holds no frames")

// CompareFiles reads two capture files and compares them (see
// ComparePcaps).
func CompareFiles(reference, got string) (Difference, error) {
	r, err := ReadCapture(reference)
	if err != nil {
		return Difference{}, err
	}
	if len(r.Frames) == 0 {
		return Difference{}, fmt.Errorf("%s: %w", reference, errNoFrames)
	}
	g, err := ReadCapture(got)
	if err != nil {
		return Difference{}, err
	}
	return ComparePcaps(r, g), nil
}

// droppedRe finds tcpdump's closing count of packets the kernel dropped.
var droppedRe = regexp.MustCompile(`(?m)^(\d+) packets? dropped by kernel$`)

// Comparison is one run of a capture program against tcpdump: both
// capture on Interface in namespace NS with the same Filter while Load
// runs from ClientNS to Server in ServerNS.
type Comparison struct {
	NS        string
	Interface string // -i argument for both
	// GotInterface, when set, is the program's -i argument instead (e.g.
	// lo@0, a queue tcpdump cannot name).
	GotInterface string
	Filter       string   // pcap expression for both ("" captures everything)
	Capture      []string // the program under test and its arguments before -i, -w and the filter (e.g. wring capture --mode packet)
	Env          []string // extra environment for it
	Tcpdump      []string // extra tcpdump arguments (e.g. -Q in)
	Load         Load
	ServerNS     string
	ClientNS     string
	Server       netip.Addr
	Dir          string // where the files go (a test's TempDir)
}

// ComparisonResult is what a comparison found.
type ComparisonResult struct {
	Load       LoadResult
	Reference  Capture // tcpdump's file
	Got        Capture // the program's file
	Difference Difference
	Stderr     string // the program's standard error
	RefStderr  string // tcpdump's
}

// Run starts tcpdump and the program, waits until both listen, runs the
// load, lets the captures drain, stops both with SIGINT and compares the
// files. An error means the comparison could not be made.
func (c Comparison) Run() (ComparisonResult, error) {
	var res ComparisonResult
	refFile, gotFile := c.Dir+"/tcpdump.pcap", c.Dir+"/got.pcap"
	var filter []string
	if c.Filter != "" {
		filter = []string{c.Filter}
	}
	td := append([]string{"tcpdump", "-i", c.Interface, "-w", refFile, "-U", "--immediate-mode", "-s", "262144", "-n", "-B", "65536"}, c.Tcpdump...)
	ref, err := StartCapture("tcpdump", c.NS, append(td, filter...))
	if err != nil {
		return res, err
	}
	gotIf := c.Interface
	if c.GotInterface != "" {
		gotIf = c.GotInterface
	}
	args := append(append([]string(nil), c.Capture...), "-i", gotIf, "-w", gotFile)
	got, err := StartCapture(c.Capture[0], c.NS, append(args, filter...), c.Env...)
	if err != nil {
		_, _ = ref.Stop()
		return res, err
	}
	res.Load, err = c.Load.Run(c.ServerNS, c.ClientNS, c.Server)
	time.Sleep(500 * time.Millisecond) // the last FIN and ACK, and a block timeout or two
	stderr, gerr := got.Stop()
	res.Stderr = stderr
	var rerr error
	res.RefStderr, rerr = ref.Stop()
	if err = errors.Join(err, gerr, rerr); err != nil {
		return res, err
	}
	if m := droppedRe.FindStringSubmatch(res.RefStderr); m != nil && m[1] != "0" {
		return res, fmt.Errorf("tcpdump dropped %s packets: the reference is incomplete: %s", m[1], res.RefStderr)
	}
	if res.Reference, err = ReadCapture(refFile); err != nil {
		return res, err
	}
	if res.Got, err = ReadCapture(gotFile); err != nil {
		return res, err
	}
	if len(res.Reference.Frames) == 0 {
		return res, fmt.Errorf("%s: %w", refFile, errNoFrames)
	}
	res.Difference = ComparePcaps(res.Reference, res.Got)
	return res, nil
}
