//go:build linux

package live

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wringcap/wring/capture"
	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/capture/pcapfile"
	"github.com/wringcap/wring/filters/expr"
	"github.com/wringcap/wring/internal/corpus"
	unix "github.com/wringcap/wring/internal/linux"
	"github.com/wringcap/wring/internal/netns"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
)

// Addresses of the echo test: IfA (the capture interface, server side) and
// IfB (client side).
const (
	echoAddrA = "10.199.72.1"
	echoAddrB = "10.199.72.2"
	echoExpr  = "udp port 7777 or tcp port 7778"
)

// compileBoth compiles src as wring capture does: the in-band program and
// the one with Linux ancillary loads for filters on the skb.
func compileBoth(t *testing.T, src string) Filters {
	t.Helper()
	return compileFor(t, src, spec.LinkEthernet)
}

// compileFor is compileBoth for link type lt.
func compileFor(t *testing.T, src string, lt spec.LinkType) Filters {
	t.Helper()
	var f Filters
	for _, ext := range []bool{false, true} {
		prog, err := expr.Compile(src, expr.Options{LinkType: lt, Snaplen: 262144, Optimize: true, LinuxExt: ext})
		if err != nil {
			t.Fatal(err)
		}
		v := verified(t, prog, verifier.Options{})
		if ext {
			f.Kernel = v
		} else {
			f.InBand = v
		}
	}
	return f
}

// frameLog keeps every delivered frame with its stamp.
type frameLog struct {
	mu     sync.Mutex
	frames []stampedData
}

type stampedData struct {
	ts   int64
	data string
}

func (l *frameLog) Handle(b *packet.Batch) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, p := range b.Packets {
		l.frames = append(l.frames, stampedData{p.Info.Timestamp, string(p.Data)})
	}
	return nil
}

// flowKey names an IPv4 TCP or UDP frame's flow in its direction: "out"
// when the capture side (local) sent it. A VLAN tag is part of the name.
func flowKey(f []byte, local string) string {
	vlan := ""
	if len(f) >= 18 && binary.BigEndian.Uint16(f[12:]) == 0x8100 {
		vlan = fmt.Sprintf("vlan %d ", binary.BigEndian.Uint16(f[14:])&0xfff)
		f = append(append([]byte(nil), f[:12]...), f[16:]...)
	}
	if len(f) < 38 || binary.BigEndian.Uint16(f[12:]) != 0x0800 {
		return "other"
	}
	ip := f[14:]
	ihl := int(ip[0]&15) * 4
	if len(ip) < ihl+4 {
		return "other"
	}
	src, dst := net.IP(ip[12:16]).String(), net.IP(ip[16:20]).String()
	dir := "in"
	if src == local {
		dir = "out"
	}
	return fmt.Sprintf("%s %sproto %d %s:%d > %s:%d", dir, vlan, ip[9], src, binary.BigEndian.Uint16(ip[ihl:]), dst, binary.BigEndian.Uint16(ip[ihl+2:]))
}

func byFlow(frames []string, local string) map[string][]string {
	m := map[string][]string{}
	for _, f := range frames {
		k := flowKey([]byte(f), local)
		m[k] = append(m[k], f)
	}
	return m
}

// runEchoLoad runs a UDP echo server and a TCP request/response server in
// namespace A and their clients in B, and returns how many of the replies
// each client got.
func runEchoLoad(t *testing.T, p *netns.Pair, addrA string, n int) (udpReplies, tcpReplies int) {
	t.Helper()
	var uc *net.UDPConn
	var ln net.Listener
	if err := netns.Do(p.NSA, func() error {
		var err error
		if uc, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(addrA), Port: 7777}); err != nil {
			return err
		}
		ln, err = net.Listen("tcp4", addrA+":7778")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer uc.Close()
	defer ln.Close()
	go func() {
		buf := make([]byte, 2048)
		for {
			k, from, err := uc.ReadFromUDP(buf)
			if err != nil {
				return
			}
			_, _ = uc.WriteToUDP(buf[:k], from)
		}
	}()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		r := bufio.NewReader(c)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if _, err := io.WriteString(c, "response to "+line); err != nil {
				return
			}
		}
	}()
	var cu net.Conn
	var ct net.Conn
	if err := netns.Do(p.NSB, func() error {
		var err error
		if cu, err = net.Dial("udp4", addrA+":7777"); err != nil {
			return err
		}
		ct, err = net.DialTimeout("tcp4", addrA+":7778", 5*time.Second)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer cu.Close()
	buf := make([]byte, 2048)
	for i := 0; i < n; i++ {
		msg := fmt.Sprintf("echo request %d", i)
		if _, err := cu.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		_ = cu.SetReadDeadline(time.Now().Add(time.Second))
		k, err := cu.Read(buf)
		if err == nil && string(buf[:k]) == msg {
			udpReplies++
		}
	}
	r := bufio.NewReader(ct)
	for i := 0; i < n; i++ {
		if _, err := fmt.Fprintf(ct, "request %d\n", i); err != nil {
			t.Fatal(err)
		}
		_ = ct.SetReadDeadline(time.Now().Add(time.Second))
		line, err := r.ReadString('\n')
		if err == nil && line == fmt.Sprintf("response to request %d\n", i) {
			tcpReplies++
		}
	}
	ct.Close()
	time.Sleep(100 * time.Millisecond) // the FIN exchange
	return udpReplies, tcpReplies
}

// readPcap returns a capture file's frames in file order.
func readPcap(t *testing.T, name string) []string {
	t.Helper()
	r, err := pcapfile.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []string
	for {
		var info packet.Info
		data, err := r.ReadPacket(&info)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(data))
	}
}

// readPcapByTime is readPcap with the frames in the order of their stamps
// (stable for equal stamps). tcpdump's file holds frames in the order its
// one ring received them, which for frames handled on different CPUs can
// differ from the order of their stamps: a frame stamped first on one
// CPU can reach the tap after a later one on another.
func readPcapByTime(t *testing.T, name string) []string {
	t.Helper()
	r, err := pcapfile.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	type frame struct {
		ts   int64
		data string
	}
	var fs []frame
	for {
		var info packet.Info
		data, err := r.ReadPacket(&info)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		fs = append(fs, frame{info.Timestamp, string(data)})
	}
	sort.SliceStable(fs, func(i, j int) bool { return fs[i].ts < fs[j].ts })
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.data
	}
	return out
}

// TestAutoPassiveEcho is issue 12's first acceptance test for the default
// mode on a veth with addresses: a UDP echo and a TCP request/response load
// run through the capture interface while the capture (ModeAuto) and
// tcpdump capture it with the same filter. Auto must pick the passive
// path, every reply must arrive (the host is unaffected), and both
// captures must hold the same frames per flow and direction, in the same
// order.
func TestAutoPassiveEcho(t *testing.T) {
	p := netns.New(t, 2)
	ipRun(t, [][]string{
		{"-n", p.NSA, "addr", "add", echoAddrA + "/24", "dev", p.IfA},
		{"-n", p.NSB, "addr", "add", echoAddrB + "/24", "dev", p.IfB},
	})
	echoCompare(t, p, echoAddrA, echoExpr, 2)
}

// TestPassiveVLAN: VLAN-tagged frames (this kernel has no 802.1Q devices,
// so they are written raw) cross the veth both ways while the passive path
// and tcpdump capture `vlan 5 and udp dst port 80`. On ingress the kernel
// moves the tag into metadata before tc and the taps; the passive path
// puts it back, as libpcap does. Both captures must hold exactly the
// matching frames as sent, in order, in each direction.
func TestPassiveVLAN(t *testing.T) {
	p := netns.New(t, 1)
	const filter = "vlan 5 and udp dst port 80"
	mk := func(vid uint16, dport uint16, seq uint32) []byte {
		f, _ := frames(1)
		g := append(append(append([]byte(nil), f[0][:12]...), 0x81, 0x00, byte(vid>>8), byte(vid)), f[0][12:]...)
		binary.BigEndian.PutUint16(g[40:], dport) // UDP destination port, behind the tag
		binary.BigEndian.PutUint32(g[46:], seq)
		return g
	}
	var in, out [][]byte
	want := map[string]bool{}
	for i := 0; i < 60; i++ {
		vid, dport := uint16(5), uint16(80)
		switch i % 3 {
		case 1:
			vid = 6
		case 2:
			dport = 9
		}
		f := mk(vid, dport, uint32(i))
		if vid == 5 && dport == 80 {
			want[string(f)] = true
		}
		if i%2 == 0 {
			in = append(in, f)
		} else {
			out = append(out, f)
		}
	}
	c := openIn(t, p, Options{Mode: ModePassive, Filters: compileBoth(t, filter)})
	dump := filepath.Join(t.TempDir(), "tcpdump.pcap")
	stop := startTcpdumpFile(t, p.NSA, p.IfA, filter, dump)
	log := &frameLog{}
	pl, err := capture.New(capture.Config{Sources: c.Sources(), Handlers: []capture.Handler{log}})
	if err != nil {
		t.Fatal(err)
	}
	stopPipeline := startPipeline(pl)
	defer stopPipeline() // before the capture's Close, also when the test fails
	time.Sleep(100 * time.Millisecond)
	sendRaw(t, p.NSB, p.IfB, in)
	sendRaw(t, p.NSA, p.IfA, out)
	time.Sleep(200 * time.Millisecond)
	if err := stopPipeline(); err != nil {
		t.Fatal(err)
	}
	stop()
	sort.SliceStable(log.frames, func(i, j int) bool { return log.frames[i].ts < log.frames[j].ts })
	var mine []string
	for _, f := range log.frames {
		mine = append(mine, f.data)
	}
	theirs := readPcap(t, dump)
	if len(theirs) != len(want) {
		t.Errorf("tcpdump captured %d frames, %d match", len(theirs), len(want))
	}
	if len(mine) != len(theirs) {
		t.Fatalf("wring captured %d frames, tcpdump %d", len(mine), len(theirs))
	}
	for i := range mine {
		if mine[i] != theirs[i] {
			t.Errorf("frame %d differs:\nwring   % x\ntcpdump % x", i, mine[i], theirs[i])
		}
		if !want[mine[i]] {
			t.Errorf("frame %d is not one of the matching frames as sent: % x", i, mine[i])
		}
	}
	reconcileKernel(t, c.Stats())
}

// sendRaw sends frames from namespace ns through the qdisc (so that tc
// egress and the taps see them), one sendto each.
func sendRaw(t *testing.T, ns, ifname string, frames [][]byte) {
	t.Helper()
	err := netns.Do(ns, func() error {
		ifi, err := net.InterfaceByName(ifname)
		if err != nil {
			return err
		}
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		for _, f := range frames {
			if err := unix.Sendto(fd, f, 0, &unix.SockaddrLinklayer{Ifindex: ifi.Index}); err != nil {
				return err
			}
			time.Sleep(100 * time.Microsecond)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func ipRun(t *testing.T, steps [][]string) {
	t.Helper()
	for _, s := range steps {
		if out, err := exec.Command("ip", s...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(s, " "), err, out)
		}
	}
}

// echoCompare captures p.IfA in auto mode and with tcpdump while the echo
// load runs against addrA, and compares; each direction must have at
// least per*n frames (per is 2 when the filter keeps both UDP and TCP).
// It returns tcpdump's frames by flow.
func echoCompare(t *testing.T, p *netns.Pair, addrA, filter string, per int) map[string][]string {
	t.Helper()
	if _, err := exec.LookPath("tcpdump"); err != nil {
		corpus.Unavailable(t, "the echo comparison needs tcpdump")
	}
	var c *Capture
	if err := netns.Do(p.NSA, func() error {
		var err error
		c, err = Open(Device{Name: p.IfA, Queue: -1}, Options{Log: t.Logf, Filters: compileBoth(t, filter)})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	t.Logf("path: %s", c.Path())
	if c.TakesPackets() || !strings.HasPrefix(c.Path(), "passive") {
		t.Fatalf("auto mode on an interface with an address chose %q: want the passive path", c.Path())
	}
	out := filepath.Join(t.TempDir(), "tcpdump.pcap")
	td := exec.Command("ip", "netns", "exec", p.NSA, "tcpdump", "-i", p.IfA, "-n", "-U", "--immediate-mode", "-B", "65536", "-w", out, filter)
	tdErr := &syncBuffer{}
	td.Stderr = tdErr
	if err := td.Start(); err != nil {
		t.Fatal(err)
	}
	for i := 0; !strings.Contains(tdErr.String(), "listening on"); i++ {
		if i == 100 {
			_ = td.Process.Kill()
			t.Fatalf("tcpdump not listening: %s", tdErr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	log := &frameLog{}
	pl, err := capture.New(capture.Config{Sources: c.Sources(), Handlers: []capture.Handler{log}})
	if err != nil {
		t.Fatal(err)
	}
	stopPipeline := startPipeline(pl)
	defer stopPipeline() // before the capture's Close, also when the test fails
	time.Sleep(100 * time.Millisecond)

	const n = 50
	udp, tcp := runEchoLoad(t, p, addrA, n)
	time.Sleep(300 * time.Millisecond)
	if err := stopPipeline(); err != nil {
		t.Fatal(err)
	}
	_ = td.Process.Signal(os.Interrupt)
	_ = td.Wait()
	t.Logf("tcpdump said: %s", tdErr.String())
	t.Logf("replies: udp %d of %d, tcp %d of %d", udp, n, tcp, n)
	if udp != n || tcp != n {
		t.Errorf("the host lost replies while the capture ran: udp %d of %d, tcp %d of %d", udp, n, tcp, n)
	}

	// wring's frames in time order (the rings are per CPU); tcpdump's in
	// file order.
	sort.SliceStable(log.frames, func(i, j int) bool { return log.frames[i].ts < log.frames[j].ts })
	var mine []string
	for _, f := range log.frames {
		mine = append(mine, f.data)
	}
	theirs := readPcap(t, out)
	w, d := byFlow(mine, addrA), byFlow(theirs, addrA)
	var dirs = map[string]int{}
	for k, fs := range d {
		dirs[strings.Fields(k)[0]] += len(fs)
		got := w[k]
		if len(got) != len(fs) {
			t.Errorf("flow %s: wring has %d frames, tcpdump %d", k, len(got), len(fs))
			continue
		}
		for i := range fs {
			if got[i] != fs[i] {
				t.Errorf("flow %s: frame %d differs:\nwring   % x\ntcpdump % x", k, i, got[i], fs[i])
				break
			}
		}
	}
	for k := range w {
		if _, ok := d[k]; !ok {
			t.Errorf("flow %s: wring has %d frames, tcpdump none", k, len(w[k]))
		}
	}
	t.Logf("tcpdump: %d frames (%d in, %d out) in %d flows; wring: %d frames", len(theirs), dirs["in"], dirs["out"], len(d), len(mine))
	if dirs["in"] < per*n || dirs["out"] < per*n {
		t.Errorf("expected at least %d frames each way, tcpdump saw %v", per*n, dirs)
	}
	st := c.Stats()
	reconcileKernel(t, st)
	return d
}

// reconcileKernel checks the kernel half of the books of every queue.
func reconcileKernel(t *testing.T, st []QueueStats) {
	t.Helper()
	for _, s := range st {
		t.Logf("queue %d: seen %d = filtered out %d + dropped %d + received %d (%s)", s.Queue, s.Seen, s.FilteredOut, s.Dropped, s.Received, s.DropDetail)
		if !s.Reconciles() {
			t.Errorf("queue %d does not reconcile: %+v", s.Queue, s)
		}
	}
}

// syncBuffer is a strings.Builder safe for a writer and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestPassiveTun: on a tun device (raw IP, link type RAW) the passive path
// captures what tcpdump captures. The test holds the device's file: UDP
// datagrams the host sends to 10.199.74.2 leave through the tun (egress),
// the test turns each round (addresses and ports swapped) and writes it
// back (ingress), and the host's socket must receive every reply.
func TestPassiveTun(t *testing.T) {
	p := netns.New(t, 1)
	const name, local, peer = "hHtun0", "10.199.74.1", "10.199.74.2"
	var tun *os.File
	if err := netns.Do(p.NSA, func() error {
		f, err := os.OpenFile("/dev/net/tun", os.O_RDWR, 0)
		if err != nil {
			return err
		}
		ifr, err := unix.NewIfreq(name)
		if err != nil {
			f.Close()
			return err
		}
		ifr.SetUint16(unix.IFF_TUN | unix.IFF_NO_PI)
		if err := unix.IoctlIfreq(int(f.Fd()), unix.TUNSETIFF, ifr); err != nil {
			f.Close()
			return err
		}
		tun = f
		return nil
	}); err != nil {
		corpus.Unavailable(t, "the tun test needs /dev/net/tun: "+err.Error())
	}
	defer tun.Close()
	ipRun(t, [][]string{
		{"-n", p.NSA, "addr", "add", local + "/24", "dev", name},
		{"-n", p.NSA, "link", "set", name, "up"},
	})
	const filter = "udp port 7777"
	var c *Capture
	if err := netns.Do(p.NSA, func() error {
		var err error
		c, err = Open(Device{Name: name, Queue: -1}, Options{Log: t.Logf, Filters: compileFor(t, filter, spec.LinkRaw)})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	t.Logf("path: %s, link type %v", c.Path(), c.LinkType())
	if !strings.HasPrefix(c.Path(), "passive") || c.LinkType() != spec.LinkRaw {
		t.Fatalf("path %q, link type %v: want passive, RAW", c.Path(), c.LinkType())
	}
	dump := filepath.Join(t.TempDir(), "tcpdump.pcap")
	stop := startTcpdumpFile(t, p.NSA, name, filter, dump)
	log := &frameLog{}
	pl, err := capture.New(capture.Config{Sources: c.Sources(), Handlers: []capture.Handler{log}})
	if err != nil {
		t.Fatal(err)
	}
	stopPipeline := startPipeline(pl)
	defer stopPipeline() // before the capture's Close, also when the test fails
	turnErr := make(chan error, 1)
	turnStop := make(chan struct{})
	defer close(turnStop)
	// The turner: read each datagram from the tun, swap addresses and
	// ports (the checksums stay right), write it back. The descriptor is
	// used directly, in blocking mode, behind poll with a timeout.
	fd := int(tun.Fd())
	go func() {
		buf := make([]byte, 2048)
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		for {
			select {
			case <-turnStop:
				return
			default:
			}
			if k, err := unix.Poll(pfd, 50); err != nil || k == 0 {
				continue
			}
			n, err := unix.Read(fd, buf)
			if err != nil {
				turnErr <- err
				return
			}
			pk := buf[:n]
			if n < 28 || pk[0]>>4 != 4 || pk[9] != 17 {
				continue
			}
			ihl := int(pk[0]&15) * 4
			var a [4]byte
			copy(a[:], pk[12:16])
			copy(pk[12:16], pk[16:20])
			copy(pk[16:20], a[:])
			u := pk[ihl:]
			u[0], u[1], u[2], u[3] = u[2], u[3], u[0], u[1]
			if _, err := unix.Write(fd, pk); err != nil {
				turnErr <- err
				return
			}
		}
	}()
	var uc *net.UDPConn
	if err := netns.Do(p.NSA, func() error {
		var err error
		uc, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(local), Port: 7777})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer uc.Close()
	const n = 30
	replies := 0
	buf := make([]byte, 2048)
	for i := 0; i < n; i++ {
		msg := fmt.Sprintf("tun datagram %d", i)
		if _, err := uc.WriteToUDP([]byte(msg), &net.UDPAddr{IP: net.ParseIP(peer), Port: 7777}); err != nil {
			t.Fatal(err)
		}
		_ = uc.SetReadDeadline(time.Now().Add(time.Second))
		k, _, err := uc.ReadFromUDP(buf)
		if err == nil && string(buf[:k]) == msg {
			replies++
		}
	}
	time.Sleep(100 * time.Millisecond)
	if err := stopPipeline(); err != nil {
		t.Fatal(err)
	}
	stop()
	if replies != n {
		select {
		case err := <-turnErr:
			t.Logf("the tun reader stopped: %v", err)
		default:
		}
		t.Errorf("%d of %d datagrams came back", replies, n)
	}
	sort.SliceStable(log.frames, func(i, j int) bool { return log.frames[i].ts < log.frames[j].ts })
	theirs := readPcap(t, dump)
	if len(log.frames) != len(theirs) || len(theirs) != 2*n {
		t.Fatalf("wring captured %d packets, tcpdump %d, want %d", len(log.frames), len(theirs), 2*n)
	}
	for i, f := range log.frames {
		if f.data != theirs[i] {
			t.Errorf("packet %d differs:\nwring   % x\ntcpdump % x", i, f.data, theirs[i])
		}
	}
	reconcileKernel(t, c.Stats())
}
