//go:build linux

// Command elephant measures what `bypass after N` saves on a live capture
// of an elephant-flow mix (issue 16): 1% of the flows carry about 90% of
// the bytes. Frames go from one network namespace to the other over a veth
// made here; `wring capture` (passive path, rules in the kernel) writes
// them to a file, once with a rule that captures every TCP packet and once
// with `bypass after N`. For each run it reports the CPU time the wring
// process spent while the traffic went through (its user and system time
// read from /proc before the first frame is sent and after the last one
// was read, so the start-up work both runs share is left out), the frames
// written, and whether every flow's first N frames are in the file, in
// order. It runs several series, alternating the two, and prints medians
// beside every series as a markdown fragment for BENCHMARKS.md. It needs
// root.
package main

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/capture/pcapfile"
	"github.com/wringcap/wring/internal/netns"
)

var (
	flows    = flag.Int("flows", 1000, "flows in the mix (1% of them are elephants)")
	elephant = flag.Int("elephant", 20000, "frames of each elephant flow (1,400-byte frames)")
	mouse    = flag.Int("mouse", 25, "frames of each mouse flow (1,250-byte frames)")
	after    = flag.Int("after", 10, "N of `bypass after N`")
	series   = flag.Int("series", 3, "series (one run of each kind per series)")
)

func main() {
	flag.Parse()
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "elephant: needs root")
		os.Exit(1)
	}
	tmp, err := os.MkdirTemp("", "wring-elephant-")
	check(err)
	defer os.RemoveAll(tmp)
	wring := filepath.Join(tmp, "wring")
	build := exec.Command("go", "build", "-o", wring, "./cmd/wring")
	build.Stderr = os.Stderr
	check(build.Run())

	frames, perFlow, bytesBig, bytesAll := mix()
	fmt.Fprintf(os.Stderr, "elephant: %d frames in %d flows, elephants carry %.1f%% of %d bytes\n",
		len(frames), *flows, 100*float64(bytesBig)/float64(bytesAll), bytesAll)

	kinds := []struct{ name, rule string }{
		{"capture every packet", "rule 1 priority 10 proto tcp -> capture\n"},
		{fmt.Sprintf("bypass after %d", *after), fmt.Sprintf("rule 1 priority 10 proto tcp -> bypass after %d\n", *after)},
	}
	type run struct {
		cpu      time.Duration
		captured int
		firstOK  bool
		lost     int
		err      error
	}
	results := make([][]run, len(kinds))
	for s := 0; s < *series; s++ {
		for k, kind := range kinds {
			rf := filepath.Join(tmp, "r.rules")
			check(os.WriteFile(rf, []byte(kind.rule), 0o644))
			out := filepath.Join(tmp, "out.pcap")
			cpu, stderr, err := capture(wring, rf, out, frames)
			r := run{cpu: cpu, err: err}
			if err == nil {
				r.captured, r.firstOK, r.lost, r.err = firstFrames(out, perFlow, *after)
			}
			os.Remove(out)
			fmt.Fprintf(os.Stderr, "elephant: series %d, %s: cpu %v, captured %d, first %d of every flow present: %v, err %v\n%s\n",
				s+1, kind.name, r.cpu, r.captured, *after, r.firstOK && r.lost == 0, r.err, lastLines(stderr, 3))
			results[k] = append(results[k], r)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "<!-- elephant -->\n%d TCP flows sent over a veth between two namespaces, %d frames: %d elephant flows of %d 1,400-byte frames and %d mouse flows of %d 1,250-byte frames (the elephants carry %.1f%% of the %d bytes), interleaved at random (each flow's frames in order). `wring capture` on the passive path with the rules in the kernel, `-w` to a file; CPU is the wring process's user+system time from just before the first frame is sent to after the last frame is read. %d series, alternating; medians, every series listed.\n\n",
		*flows, len(frames), *flows/100, *elephant, *flows-*flows/100, *mouse, 100*float64(bytesBig)/float64(bytesAll), bytesAll, *series)
	b.WriteString("| rules | CPU, ms (series) | frames written (series) | every flow's first N frames written, in order |\n|---|---|---|---|\n")
	med := make([]time.Duration, len(kinds))
	for k, kind := range kinds {
		var cpus []time.Duration
		var cs, caps []string
		allOK := true
		for _, r := range results[k] {
			if r.err != nil {
				cs = append(cs, "error: "+r.err.Error())
				allOK = false
				continue
			}
			cpus = append(cpus, r.cpu)
			cs = append(cs, fmt.Sprintf("%.0f", float64(r.cpu.Microseconds())/1000))
			caps = append(caps, strconv.Itoa(r.captured))
			allOK = allOK && r.firstOK && r.lost == 0
		}
		sort.Slice(cpus, func(i, j int) bool { return cpus[i] < cpus[j] })
		if len(cpus) > 0 {
			med[k] = cpus[len(cpus)/2]
		}
		fmt.Fprintf(&b, "| `%s` | **%.0f** (%s) | %s | %v |\n", strings.TrimSpace(kind.rule), float64(med[k].Microseconds())/1000,
			strings.Join(cs, ", "), strings.Join(caps, ", "), allOK)
	}
	if med[1] > 0 {
		fmt.Fprintf(&b, "\nUserspace CPU without bypass / with bypass (medians): **%.1fx**.\n", float64(med[0])/float64(med[1]))
	}
	b.WriteString("<!-- /elephant -->\n")
	fmt.Print(b.String())
}

// mix builds the frames: 1% of the flows are elephants; the flows'
// frames are interleaved at random, each flow's in order, with the flow's
// number and the frame's number in the flow at the start of the payload.
// It returns the frames, the frame count per flow, and the bytes of the
// elephants and of all.
func mix() (frames [][]byte, perFlow []int, big, all int) {
	rng := rand.New(rand.NewPCG(1, 2))
	perFlow = make([]int, *flows)
	var order []int
	for f := range *flows {
		n := *mouse
		if f%100 == 0 {
			n = *elephant
		}
		perFlow[f] = n
		for range n {
			order = append(order, f)
		}
	}
	rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	next := make([]int, *flows)
	for _, f := range order {
		size := 1250
		if f%100 == 0 {
			size = 1400
		}
		fr := tcpFrame(f, next[f], size)
		next[f]++
		frames = append(frames, fr)
		all += len(fr)
		if f%100 == 0 {
			big += len(fr)
		}
	}
	return frames, perFlow, big, all
}

// tcpFrame is an Ethernet/IPv4/TCP frame of size bytes of flow f (its
// source port and address) carrying (f, seq) at the start of its payload.
func tcpFrame(f, seq, size int) []byte {
	b := make([]byte, size)
	copy(b[0:6], []byte{0x02, 0, 0, 0, 0, 0xa})
	copy(b[6:12], []byte{0x02, 0, 0, 0, 0, 0xb})
	binary.BigEndian.PutUint16(b[12:], 0x0800)
	ip := b[14:]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(size-14))
	ip[8] = 64
	ip[9] = 6
	copy(ip[12:16], []byte{10, 1, byte(f >> 8), byte(f)})
	copy(ip[16:20], []byte{10, 2, 0, 1})
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(ip[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(ip[10:], ^uint16(sum))
	tcp := ip[20:]
	binary.BigEndian.PutUint16(tcp[0:], uint16(20000+f))
	binary.BigEndian.PutUint16(tcp[2:], 443)
	binary.BigEndian.PutUint32(tcp[4:], uint32(seq))
	tcp[12] = 5 << 4
	tcp[13] = 0x10 // ACK
	binary.BigEndian.PutUint16(tcp[14:], 65535)
	binary.BigEndian.PutUint32(tcp[20:], uint32(f))
	binary.BigEndian.PutUint32(tcp[24:], uint32(seq))
	return b
}

// capture runs wring on namespace A's end of a new veth pair while the
// frames are sent from B, and returns the CPU the wring process used from
// just before the first frame to after its last frame was read.
func capture(wring, rulesFile, out string, frames [][]byte) (time.Duration, string, error) {
	p, err := netns.Create(1)
	if p != nil {
		defer p.Close()
	}
	if err != nil {
		return 0, "", err
	}
	c, err := netns.StartCapture("wring", p.NSA, []string{wring, "capture", "-i", p.IfA, "--mode", "passive",
		"--rules", rulesFile, "-w", out})
	if err != nil {
		return 0, "", err
	}
	stop := func() string { s, _ := c.Stop(); return s }
	time.Sleep(300 * time.Millisecond)
	c0, err := procCPU(c.Pid())
	if err != nil {
		return 0, stop(), err
	}
	if _, err := netns.Send(p.NSB, p.IfB, frames); err != nil {
		return 0, stop(), err
	}
	// Until the process has used no CPU for a while: its last frames read.
	last := c0
	for i := 0; i < 100; i++ {
		time.Sleep(100 * time.Millisecond)
		c, err := procCPU(c.Pid())
		if err != nil || c == last {
			break
		}
		last = c
	}
	stderr, err := c.Stop()
	if err != nil {
		return 0, stderr, err
	}
	if !strings.Contains(stderr, "rules and filter in the kernel") {
		return 0, stderr, errors.New("the rules did not run in the kernel")
	}
	return last - c0, stderr, nil
}

// procCPU returns the user+system time of process pid (all its threads).
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name (which may hold spaces) start at ") ".
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: %q", pid, s)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %q", pid, s)
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %q", pid, s)
	}
	const hz = 100 // USER_HZ
	return time.Duration(ut+st) * time.Second / hz, nil
}

// firstFrames reads the capture file and reports how many frames it holds,
// whether every flow's first n frames (or all of them, for a shorter flow)
// are there in order, and how many of those are missing.
func firstFrames(path string, perFlow []int, n int) (captured int, ok bool, missing int, err error) {
	r, err := pcapfile.Open(path)
	if err != nil {
		return 0, false, 0, err
	}
	defer r.Close()
	got := make([][]int, len(perFlow))
	var info packet.Info
	for {
		data, err := r.ReadPacket(&info)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return captured, false, 0, err
		}
		captured++
		if len(data) < 62 {
			continue
		}
		f := int(binary.BigEndian.Uint32(data[54:]))
		seq := int(binary.BigEndian.Uint32(data[58:]))
		if f < len(got) {
			got[f] = append(got[f], seq)
		}
	}
	ok = true
	for f, want := range perFlow {
		w := min(want, n)
		for i := 0; i < w; i++ {
			if i >= len(got[f]) || got[f][i] != i {
				ok = false
				missing++
			}
		}
	}
	return captured, ok, missing, nil
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "elephant:", err)
		os.Exit(1)
	}
}
