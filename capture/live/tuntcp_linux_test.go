//go:build linux

package live

import (
	"io"
	"net"

	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/wringcap/wring/capture"
	"github.com/wringcap/wring/internal/corpus"
	unix "github.com/wringcap/wring/internal/linux"
	"github.com/wringcap/wring/internal/netns"
	"github.com/wringcap/wring/spec"
)

// tunWire joins two tun devices, one in each namespace of p, through the
// test: each packet one host sends on its tun is written unchanged to the
// other's, so the two stacks talk TCP and UDP over raw IP devices. It
// returns the devices' names; they go away with the test.
func tunWire(t *testing.T, p *netns.Pair, addrA, addrB string) (nameA, nameB string) {
	t.Helper()
	nameA, nameB = "hLtunA", "hLtunB"
	open := func(ns, name string) *os.File {
		var f *os.File
		if err := netns.Do(ns, func() error {
			var err error
			f, err = unix.OpenTun(name)
			return err
		}); err != nil {
			corpus.Unavailable(t, "the tun test needs /dev/net/tun: "+err.Error())
		}
		return f
	}
	fa, fb := open(p.NSA, nameA), open(p.NSB, nameB)
	ipRun(t, [][]string{
		{"-n", p.NSA, "addr", "add", addrA + "/24", "dev", nameA},
		{"-n", p.NSA, "link", "set", nameA, "up"},
		{"-n", p.NSB, "addr", "add", addrB + "/24", "dev", nameB},
		{"-n", p.NSB, "link", "set", nameB, "up"},
	})
	relay := func(from, to *os.File) {
		buf := make([]byte, 65536)
		for {
			n, err := from.Read(buf)
			if err != nil {
				return
			}
			if _, err := to.Write(buf[:n]); err != nil {
				return
			}
		}
	}
	go relay(fa, fb)
	go relay(fb, fa)
	t.Cleanup(func() {
		fa.Close()
		fb.Close()
	})
	return nameA, nameB
}

// asEthernet puts a dummy Ethernet header in front of a raw IPv4 packet,
// so that flowKey can name its flow.
func asEthernet(raw []string) []string {
	out := make([]string, len(raw))
	for i, r := range raw {
		out[i] = string(append([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x00}, r...))
	}
	return out
}

// TestPassiveTunTCP is acceptance 1 on a tun device with TCP: a UDP echo
// and a TCP request/response load cross a tun device (raw IP, link type
// RAW) while the passive path and tcpdump capture it with the same
// filter. The TCP segments the host sends leave its stack with a partial
// checksum (CHECKSUM_PARTIAL: the pseudo-header sum, for the device to
// complete); a tun device without checksum offload has the kernel complete
// it in software after tc egress, where the passive copy is taken, and
// before the taps, where tcpdump's is. Every reply must arrive, and both
// captures must hold the same packets, byte for byte (checksums included),
// per flow and direction, in the same order.
func TestPassiveTunTCP(t *testing.T) {
	p := netns.New(t, 1)
	const addrA, addrB = "10.199.75.1", "10.199.75.2"
	nameA, _ := tunWire(t, p, addrA, addrB)
	var c *Capture
	if err := netns.Do(p.NSA, func() error {
		var err error
		c, err = Open(Device{Name: nameA, Queue: -1}, Options{Log: t.Logf, Filters: compileFor(t, echoExpr, spec.LinkRaw)})
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
	stop := startTcpdumpFile(t, p.NSA, nameA, echoExpr, dump)
	log := &frameLog{}
	pl, err := capture.New(capture.Config{Sources: c.Sources(), Handlers: []capture.Handler{log}})
	if err != nil {
		t.Fatal(err)
	}
	stopPipeline := startPipeline(pl)
	defer stopPipeline() // before the capture's Close, also when the test fails
	time.Sleep(100 * time.Millisecond)
	const n = 30
	udp, tcp := runEchoLoad(t, p, addrA, n)
	time.Sleep(200 * time.Millisecond)
	if err := stopPipeline(); err != nil {
		t.Fatal(err)
	}
	stop()
	t.Logf("replies: udp %d of %d, tcp %d of %d", udp, n, tcp, n)
	if udp != n || tcp != n {
		t.Errorf("the host lost replies while the capture ran: udp %d of %d, tcp %d of %d", udp, n, tcp, n)
	}
	sort.SliceStable(log.frames, func(i, j int) bool { return log.frames[i].ts < log.frames[j].ts })
	var mine []string
	for _, f := range log.frames {
		mine = append(mine, f.data)
	}
	theirs := readPcap(t, dump)
	w, d := byFlow(asEthernet(mine), addrA), byFlow(asEthernet(theirs), addrA)
	dirs := map[string]int{}
	tcpOut := 0
	for k, fs := range d {
		dirs[strings.Fields(k)[0]] += len(fs)
		if strings.HasPrefix(k, "out proto 6 ") {
			tcpOut += len(fs)
		}
		got := w[k]
		if len(got) != len(fs) {
			t.Errorf("flow %s: wring has %d packets, tcpdump %d", k, len(got), len(fs))
			var a, b []int
			for _, g := range got {
				a = append(a, len(g))
			}
			for _, g := range fs {
				b = append(b, len(g))
			}
			t.Logf("wring lengths %v\ntcpdump lengths %v", a, b)
			continue
		}
		for i := range fs {
			if got[i] != fs[i] {
				t.Errorf("flow %s: packet %d differs:\nwring   % x\ntcpdump % x", k, i, got[i][14:], fs[i][14:])
				break
			}
		}
	}
	for k := range w {
		if _, ok := d[k]; !ok {
			t.Errorf("flow %s: wring has %d packets, tcpdump none", k, len(w[k]))
		}
	}
	t.Logf("tcpdump: %d packets (%d in, %d out, %d of them TCP sent) in %d flows; wring: %d packets", len(theirs), dirs["in"], dirs["out"], tcpOut, len(d), len(mine))
	if tcpOut < n {
		t.Errorf("tcpdump saw %d TCP segments sent, want at least %d", tcpOut, n)
	}
	// tcpdump's copies are the ones the device got: their checksums must
	// be whole, so that the comparison above is about completed checksums.
	for _, f := range theirs {
		if !l4ChecksumOK([]byte(f)) {
			t.Errorf("tcpdump's packet has a checksum that does not verify: % x", f)
			break
		}
	}
	reconcileKernel(t, c.Stats())
}

// l4ChecksumOK verifies the TCP or UDP checksum of a raw IPv4 packet
// (other packets pass).
func l4ChecksumOK(ip []byte) bool {
	if len(ip) < 20 || ip[0]>>4 != 4 {
		return true
	}
	ihl := int(ip[0]&15) * 4
	if ihl < 20 || len(ip) < ihl || (ip[9] != 6 && ip[9] != 17) {
		return true
	}
	l4 := ip[ihl:]
	var sum uint32
	add := func(b []byte) {
		for i := 0; i+1 < len(b); i += 2 {
			sum += uint32(b[i])<<8 | uint32(b[i+1])
		}
		if len(b)%2 == 1 {
			sum += uint32(b[len(b)-1]) << 8
		}
	}
	add(ip[12:20])
	sum += uint32(ip[9]) + uint32(len(l4))
	add(l4)
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return sum == 0xffff
}

// TestPassiveChecksumOffloadOff: the same on Ethernet: with transmit
// checksum offload turned off on the capture end of a veth (ethtool -K tx
// off), the kernel completes sent TCP segments' checksums after tc egress
// and before the taps, and the passive copies must hold the completed
// checksums, as tcpdump's do, frame for frame.
func TestPassiveChecksumOffloadOff(t *testing.T) {
	if _, err := exec.LookPath("ethtool"); err != nil {
		corpus.Unavailable(t, "the checksum offload test needs ethtool")
	}
	p := netns.New(t, 2)
	ipRun(t, [][]string{
		{"-n", p.NSA, "addr", "add", echoAddrA + "/24", "dev", p.IfA},
		{"-n", p.NSB, "addr", "add", echoAddrB + "/24", "dev", p.IfB},
	})
	if out, err := exec.Command("ip", "netns", "exec", p.NSA, "ethtool", "-K", p.IfA, "tx", "off").CombinedOutput(); err != nil {
		t.Fatalf("ethtool -K %s tx off: %v: %s", p.IfA, err, out)
	}
	flows := echoCompare(t, p, echoAddrA, echoExpr, 2)
	for k, fs := range flows {
		if !strings.HasPrefix(k, "out ") {
			continue // B checksums in hardware: its frames keep partial checksums
		}
		for _, f := range fs {
			if !l4ChecksumOK([]byte(f)[14:]) {
				t.Errorf("flow %s: tcpdump's frame has a checksum that does not verify: the device did not complete it", k)
				break
			}
		}
	}
}

// bulkCompare sends bytes over one TCP connection from namespace client to
// serverAddr:7790 in namespace server while the passive path (on ifname in
// namespace ns, whose address is local) and tcpdump capture `tcp port
// 7790` there, and compares the two per flow and direction, byte for
// byte. raw says the device is raw IP. The
// sender's stack hands the device GSO packets (TCP always uses GSO); a
// device without segmentation offload has the kernel cut them into
// segments after tc egress and before the taps. It returns the number of
// packets tcpdump saw and the capture's summary detail.
func bulkCompare(t *testing.T, ns, ifname, local, client, server, serverAddr string, raw bool, bytes int) (int, string) {
	t.Helper()
	filter := "tcp port 7790"
	if strings.Contains(serverAddr, ":") {
		filter = "ip6 and tcp dst port 7790" // one flow: flowKey names IPv4 flows only
	}
	lt := spec.LinkEthernet
	if raw {
		lt = spec.LinkRaw
	}
	var c *Capture
	if err := netns.Do(ns, func() error {
		var err error
		c, err = Open(Device{Name: ifname, Queue: -1}, Options{Log: t.Logf, Filters: compileFor(t, filter, lt)})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !strings.HasPrefix(c.Path(), "passive") {
		t.Fatalf("path %q: want passive", c.Path())
	}
	dump := filepath.Join(t.TempDir(), "tcpdump.pcap")
	// In immediate mode libpcap sizes its ring's frames for the snapshot
	// length: at the default 262144 bytes, 64 MiB holds 256 packets and
	// tcpdump drops during the transfer's bursts. The frames are at most
	// 1514 bytes.
	stop := startTcpdumpFile(t, ns, ifname, filter, dump, "-s", "2048")
	log := &frameLog{}
	pl, err := capture.New(capture.Config{Sources: c.Sources(), Handlers: []capture.Handler{log}})
	if err != nil {
		t.Fatal(err)
	}
	stopPipeline := startPipeline(pl)
	defer stopPipeline() // before the capture's Close, also when the test fails
	time.Sleep(100 * time.Millisecond)
	var ln net.Listener
	if err := netns.Do(server, func() error {
		var err error
		ln, err = net.Listen("tcp", net.JoinHostPort(serverAddr, "7790"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan int64, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			got <- -1
			return
		}
		n, _ := io.Copy(io.Discard, conn)
		conn.Close()
		got <- n
	}()
	var conn net.Conn
	if err := netns.Do(client, func() error {
		var err error
		conn, err = net.DialTimeout("tcp", net.JoinHostPort(serverAddr, "7790"), 5*time.Second)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Write(make([]byte, bytes)); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	select {
	case n := <-got:
		if n != int64(bytes) {
			t.Errorf("the server received %d bytes of %d", n, bytes)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the transfer did not end in 10 s")
	}
	// tcpdump writes each packet as it reads it (-U) but may run behind
	// on a loaded machine, and a packet still in its ring when it is
	// interrupted is lost: stop it once its file has stopped growing.
	waitQuiet(dump, 500*time.Millisecond, 10*time.Second)
	if err := stopPipeline(); err != nil {
		t.Fatal(err)
	}
	stop()
	sort.SliceStable(log.frames, func(i, j int) bool { return log.frames[i].ts < log.frames[j].ts })
	var mine []string
	for _, f := range log.frames {
		mine = append(mine, f.data)
	}
	// Both in the order of their stamps: wring's ingress stamps are the
	// kernel's receive stamps tcpdump reports.
	theirs := readPcapByTime(t, dump)
	if raw {
		mine, theirs = asEthernet(mine), asEthernet(theirs)
	}
	w, d := byFlow(mine, local), byFlow(theirs, local)
	for k, fs := range d {
		got := w[k]
		if len(got) != len(fs) {
			t.Errorf("flow %s: wring has %d packets, tcpdump %d", k, len(got), len(fs))
			var a, b []int
			for _, g := range got {
				a = append(a, len(g))
			}
			for _, g := range fs {
				b = append(b, len(g))
			}
			t.Logf("wring lengths %v\ntcpdump lengths %v", a, b)
			continue
		}
		// Every frame byte for byte, per flow. The order is compared
		// apart: two frames of one flow that two CPUs handle within a
		// microsecond or two (a pure ACK from softirq and a window update
		// from the reading process) can be stamped in one order at tc,
		// where wring stamps them when the kernel left no receive stamp,
		// and reach tcpdump's tap in the other.
		reordered := 0
		for i := range fs {
			if got[i] != fs[i] {
				reordered++
			}
		}
		a, b := slices.Clone(got), slices.Clone(fs)
		slices.Sort(a)
		slices.Sort(b)
		for i := range b {
			if a[i] != b[i] {
				t.Errorf("flow %s: the frames differ (%d and %d bytes, in byte order):\nwring   % x\ntcpdump % x", k, len(a[i]), len(b[i]), a[i][:min(len(a[i]), 80)], b[i][:min(len(b[i]), 80)])
				break
			}
		}
		if reordered > 0 {
			t.Logf("flow %s: the same %d frames; %d in another place than in tcpdump's order", k, len(fs), reordered)
		}
	}
	for k := range w {
		if _, ok := d[k]; !ok {
			t.Errorf("flow %s: wring has %d packets, tcpdump none", k, len(w[k]))
		}
	}
	st := c.Stats()
	reconcileKernel(t, st)
	return len(theirs), st[0].DropDetail
}

// TestPassiveTunTCPBulk: a bulk TCP transfer over a tun device (no
// segmentation or checksum offload): the sender's GSO packets, up to 64
// KiB at tc egress, reach the taps as MTU-sized segments with completed
// checksums, and the passive path must hand out the same segments.
func TestPassiveTunTCPBulk(t *testing.T) {
	p := netns.New(t, 1)
	const addrA, addrB = "10.199.77.1", "10.199.77.2"
	nameA, _ := tunWire(t, p, addrA, addrB)
	n, detail := bulkCompare(t, p.NSA, nameA, addrA, p.NSA, p.NSB, addrB, true, 1<<20)
	t.Logf("tcpdump: %d packets; %s", n, detail)
	if !strings.Contains(detail, "GSO packets cut into segments") {
		t.Errorf("no GSO packet was cut into segments: the test did not test segmentation")
	}
	// IPv6 (TSO6 and the IPv6 pseudo-header), the data direction only.
	for _, end := range [][2]string{{p.NSA, nameA}, {p.NSB, "hLtunB"}} {
		if out, err := exec.Command("ip", "netns", "exec", end[0], "sysctl", "-qw", "net.ipv6.conf."+end[1]+".disable_ipv6=0").CombinedOutput(); err != nil {
			t.Fatalf("enable IPv6 on %s: %v: %s", end[1], err, out)
		}
	}
	ipRun(t, [][]string{
		{"-n", p.NSA, "-6", "addr", "add", "fd00:77::1/64", "dev", nameA, "nodad"},
		{"-n", p.NSB, "-6", "addr", "add", "fd00:77::2/64", "dev", "hLtunB", "nodad"},
	})
	n, detail = bulkCompare(t, p.NSA, nameA, "fd00:77::1", p.NSA, p.NSB, "fd00:77::2", true, 1<<20)
	t.Logf("IPv6: tcpdump: %d packets; %s", n, detail)
	if !strings.Contains(detail, "GSO packets cut into segments") || n < (1<<20)/1500 {
		t.Errorf("IPv6: %d packets, %s: want the transfer cut into segments", n, detail)
	}
}

// TestPassiveVethNoTSO: the same on a veth with segmentation offload off
// (ethtool -K tso off) but checksum offload on: the segments keep partial
// checksums, as tcpdump sees them; and with checksum offload off too, the
// segments' checksums are completed.
func TestPassiveVethNoTSO(t *testing.T) {
	if _, err := exec.LookPath("ethtool"); err != nil {
		corpus.Unavailable(t, "the offload test needs ethtool")
	}
	for _, off := range [][]string{{"tso", "off"}, {"tx", "off"}} {
		t.Run(strings.Join(off, "-"), func(t *testing.T) {
			p := netns.New(t, 1)
			ipRun(t, [][]string{
				{"-n", p.NSA, "addr", "add", echoAddrA + "/24", "dev", p.IfA},
				{"-n", p.NSB, "addr", "add", echoAddrB + "/24", "dev", p.IfB},
			})
			if out, err := exec.Command("ip", append([]string{"netns", "exec", p.NSA, "ethtool", "-K", p.IfA}, off...)...).CombinedOutput(); err != nil {
				t.Fatalf("ethtool -K %s %v: %v: %s", p.IfA, off, err, out)
			}
			n, detail := bulkCompare(t, p.NSA, p.IfA, echoAddrA, p.NSA, p.NSB, echoAddrB, false, 1<<20)
			t.Logf("tcpdump: %d packets; %s", n, detail)
			if !strings.Contains(detail, "GSO packets cut into segments") {
				t.Errorf("no GSO packet was cut into segments: the test did not test segmentation")
			}
		})
	}
}

// waitQuiet returns once file name has not grown for quiet, or after at
// most limit.
func waitQuiet(name string, quiet, limit time.Duration) {
	var last int64 = -1
	since := time.Now()
	for end := time.Now().Add(limit); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		fi, err := os.Stat(name)
		if err != nil {
			continue
		}
		if fi.Size() != last {
			last, since = fi.Size(), time.Now()
		} else if time.Since(since) >= quiet {
			return
		}
	}
}
