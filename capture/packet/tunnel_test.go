package packet_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/capture/pcapfile"
	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/spec"
)

func csum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s > 0xffff {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

// ip4 wraps payload in an IPv4 header.
func ip4(proto byte, src, dst [4]byte, payload []byte) []byte {
	h := make([]byte, 20, 20+len(payload))
	h[0], h[8], h[9] = 0x45, 64, proto
	binary.BigEndian.PutUint16(h[2:], uint16(20+len(payload)))
	copy(h[12:], src[:])
	copy(h[16:], dst[:])
	binary.BigEndian.PutUint16(h[10:], csum(h))
	return append(h, payload...)
}

// ip6 wraps payload in an IPv6 header.
func ip6(next byte, src, dst byte, payload []byte) []byte {
	h := make([]byte, 40, 40+len(payload))
	h[0], h[6], h[7] = 0x60, next, 64
	binary.BigEndian.PutUint16(h[4:], uint16(len(payload)))
	h[8], h[9], h[23] = 0x20, 0x01, src
	h[24], h[25], h[39] = 0x20, 0x01, dst
	return append(h, payload...)
}

func tcpSeg(sp, dp uint16, flags byte, n int) []byte {
	h := make([]byte, 20+n)
	binary.BigEndian.PutUint16(h[0:], sp)
	binary.BigEndian.PutUint16(h[2:], dp)
	h[12], h[13] = 0x50, flags
	binary.BigEndian.PutUint16(h[14:], 8192)
	return h
}

func udpDgram(sp, dp uint16, payload []byte) []byte {
	h := make([]byte, 8, 8+len(payload))
	binary.BigEndian.PutUint16(h[0:], sp)
	binary.BigEndian.PutUint16(h[2:], dp)
	binary.BigEndian.PutUint16(h[4:], uint16(8+len(payload)))
	return append(h, payload...)
}

func ether(et uint16, payload []byte) []byte {
	h := []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, byte(et >> 8), byte(et)}
	return append(h, payload...)
}

// tunnelCase builds the capture of one tunnel type: inner TCP flows
// (several ports, both directions) in the tunnel, outer Ethernet.
type tunnelCase struct {
	name  string
	typ   spec.TunnelType
	id    uint32
	field string // tshark's field for the tunnel id, or ""
	wrap  func(inner []byte, v6 bool, i int) []byte
}

func tunnelCases() []tunnelCase {
	outer4 := func(proto byte, payload []byte) []byte {
		return ether(0x0800, ip4(proto, [4]byte{203, 0, 113, 1}, [4]byte{203, 0, 113, 2}, payload))
	}
	return []tunnelCase{
		{"gre_key", spec.TunnelGRE, 0x1234, "gre.key", func(in []byte, v6 bool, _ int) []byte {
			et := uint16(0x0800)
			if v6 {
				et = 0x86dd
			}
			h := []byte{0x20, 0, byte(et >> 8), byte(et), 0, 0, 0x12, 0x34}
			return outer4(47, append(h, in...))
		}},
		{"gre_eth", spec.TunnelGRE, 0, "", func(in []byte, v6 bool, _ int) []byte {
			et := uint16(0x0800)
			if v6 {
				et = 0x86dd
			}
			return outer4(47, append([]byte{0x90, 0, 0x65, 0x58, 0, 0, 0, 0, 0, 0, 0, 7}, ether(et, in)...))
		}},
		{"vxlan", spec.TunnelVXLAN, 0x123456, "vxlan.vni", func(in []byte, v6 bool, i int) []byte {
			et := uint16(0x0800)
			if v6 {
				et = 0x86dd
			}
			h := []byte{0x08, 0, 0, 0, 0x12, 0x34, 0x56, 0}
			return outer4(17, udpDgram(uint16(49152+i%7), 4789, append(h, ether(et, in)...)))
		}},
		{"geneve", spec.TunnelGeneve, 0xabcdef, "geneve.vni", func(in []byte, v6 bool, i int) []byte {
			et := uint16(0x0800)
			if v6 {
				et = 0x86dd
			}
			// One 8-byte option (class 0x0102, type 3, 4 bytes of data).
			h := []byte{0x02, 0, 0x65, 0x58, 0xab, 0xcd, 0xef, 0, 0x01, 0x02, 0x03, 0x01, 1, 2, 3, 4}
			return outer4(17, udpDgram(uint16(49152+i%5), 6081, append(h, ether(et, in)...)))
		}},
		{"ipip", spec.TunnelIPIP, 0, "", nil},
		{"6in4", spec.TunnelIP6IP, 0, "", nil},
		{"gtpu", spec.TunnelGTPU, 0x01020304, "gtp.teid", func(in []byte, _ bool, i int) []byte {
			h := []byte{0x30, 0xff, byte(len(in) >> 8), byte(len(in)), 1, 2, 3, 4}
			if i%2 == 1 { // sequence number and a PDU session container extension
				h = []byte{0x34, 0xff, 0, 0, 1, 2, 3, 4, 0, byte(i), 0, 0x85, 1, 0x10, 0x01, 0}
				binary.BigEndian.PutUint16(h[2:], uint16(len(in)+8))
			}
			return outer4(17, udpDgram(2152, 2152, append(h, in...)))
		}},
	}
}

// writeTunnelCapture writes the capture of c and returns its path and the
// packets.
func writeTunnelCapture(t *testing.T, dir string, c tunnelCase) (string, [][]byte) {
	var pkts [][]byte
	for i := 0; i < 60; i++ {
		flow := i % 6
		v6 := flow >= 4 && c.typ != spec.TunnelIPIP || c.typ == spec.TunnelIP6IP
		if c.typ == spec.TunnelIPIP {
			v6 = false
		}
		sp, dp := uint16(40000+flow), uint16(80+flow)
		if i%3 == 1 {
			sp, dp = dp, sp
		}
		seg := tcpSeg(sp, dp, 0x18, 10+i%4)
		var in []byte
		if v6 {
			a, b := byte(1+flow), byte(100)
			if i%3 == 1 {
				a, b = b, a
			}
			in = ip6(6, a, b, seg)
		} else {
			a, b := [4]byte{10, 0, 0, byte(1 + flow)}, [4]byte{10, 0, 1, 100}
			if i%3 == 1 {
				a, b = b, a
			}
			in = ip4(6, a, b, seg)
		}
		var frame []byte
		switch c.typ {
		case spec.TunnelIPIP:
			frame = ether(0x0800, ip4(4, [4]byte{203, 0, 113, 1}, [4]byte{203, 0, 113, 2}, in))
		case spec.TunnelIP6IP:
			frame = ether(0x0800, ip4(41, [4]byte{203, 0, 113, 1}, [4]byte{203, 0, 113, 2}, in))
		default:
			frame = c.wrap(in, v6, i)
		}
		pkts = append(pkts, frame)
	}
	var buf bytes.Buffer
	w, err := pcapfile.NewWriter(&buf, pcapfile.Header{LinkType: uint32(spec.LinkEthernet), Snaplen: 65535})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range pkts {
		info := packet.Info{Timestamp: int64(i+1) * 1e6, CapLen: uint32(len(p)), WireLen: uint32(len(p)), LinkType: spec.LinkEthernet}
		if err := w.WritePacket(&info, p); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	f := filepath.Join(dir, c.name+".pcap")
	if err := os.WriteFile(f, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return f, pkts
}

// tsharkTCPConv sums tshark's TCP conversations per canonical 5-tuple.
func tsharkTCPConv(t *testing.T, file string) map[string]uint64 {
	out, err := exec.Command("tshark", "-n", "-r", file, "-q", "-z", "conv,tcp").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	conv := map[string]uint64{}
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		if len(f) < 4 || f[1] != "<->" {
			continue
		}
		a, err1 := netip.ParseAddrPort(bracketed(f[0]))
		b, err2 := netip.ParseAddrPort(bracketed(f[2]))
		var nums []uint64
		for _, s := range f[3:] {
			if n, err := strconv.ParseUint(s, 10, 64); err == nil {
				nums = append(nums, n)
			}
		}
		if err1 != nil || err2 != nil || len(nums) < 5 {
			t.Fatalf("tshark line %q", l)
		}
		conv[tuple(a, b)] += nums[4]
	}
	return conv
}

func bracketed(s string) string {
	i := strings.LastIndexByte(s, ':')
	if i < 0 || strings.Count(s, ":") == 1 {
		return s
	}
	return "[" + s[:i] + "]" + s[i:]
}

func tuple(a, b netip.AddrPort) string {
	x, y := a.String(), b.String()
	if x > y {
		x, y = y, x
	}
	return "tcp " + x + " " + y
}

// TestTunnelsAgainstTshark is issue 15's acceptance 2: for each tunnel
// type, a generated capture of inner TCP flows (IPv4 and IPv6 inside where
// the tunnel carries both): the inner 5-tuples and their packet counts from
// ParseInner equal tshark's TCP conversations, and the tunnel id equals
// tshark's field for it.
func TestTunnelsAgainstTshark(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		corpus.Unavailable(t, "tshark is not installed")
	}
	dir := t.TempDir()
	for _, c := range tunnelCases() {
		t.Run(c.name, func(t *testing.T) {
			file, pkts := writeTunnelCapture(t, dir, c)
			got := map[string]uint64{}
			for i, d := range pkts {
				var rec packet.Record
				var tun packet.TunnelRecord
				info := packet.Info{CapLen: uint32(len(d)), WireLen: uint32(len(d)), LinkType: spec.LinkEthernet}
				packet.ParseInner(info, d, &rec, &tun)
				if tun.Type() != c.typ || tun.ID() != c.id || rec.IPProto() != 6 || rec.PayloadOff() == spec.NoOffset {
					t.Fatalf("packet %d: tunnel %v id %#x, inner proto %d", i+1, tun.Type(), tun.ID(), rec.IPProto())
				}
				if off, _ := tun.Inner(); off <= tun.OuterL3() || rec.L3Off() < off {
					t.Fatalf("packet %d: outer l3 %d, inner %d, inner l3 %d", i+1, tun.OuterL3(), off, rec.L3Off())
				}
				// Parse alone still describes the outer packet.
				var outer packet.Record
				packet.Parse(info, d, &outer)
				if outer.L3Off() != tun.OuterL3() || outer.IPProto() != tun[spec.TunIPProto] {
					t.Fatalf("packet %d: Parse's outer l3 %d proto %d, tunnel record %d %d", i+1, outer.L3Off(), outer.IPProto(), tun.OuterL3(), tun[spec.TunIPProto])
				}
				got[tuple(netip.AddrPortFrom(rec.SrcAddr(), rec.SrcPort()), netip.AddrPortFrom(rec.DstAddr(), rec.DstPort()))]++
			}
			want := tsharkTCPConv(t, file)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("inner TCP conversations:\n wring  %v\n tshark %v", got, want)
			}
			if len(want) != 6 {
				t.Errorf("tshark found %d conversations, the capture holds 6", len(want))
			}
			if c.field != "" {
				out, err := exec.Command("tshark", "-n", "-r", file, "-c", "4", "-T", "fields", "-e", c.field).Output()
				if err != nil {
					t.Fatal(err)
				}
				for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
					v, err := strconv.ParseUint(strings.Split(l, ",")[0], 0, 32) // 0x1234 or decimal
					if err != nil || uint32(v) != c.id {
						t.Fatalf("tshark %s %q, want %#x", c.field, l, c.id)
					}
				}
			}
		})
	}
}

// TestParseInnerAllocatesNothing: decapsulation allocates nothing.
func TestParseInnerAllocatesNothing(t *testing.T) {
	var frames [][]byte
	for _, c := range tunnelCases() {
		_, pkts := writeTunnelCapture(t, t.TempDir(), c)
		frames = append(frames, pkts[:6]...)
	}
	var rec packet.Record
	var tun packet.TunnelRecord
	if n := testing.AllocsPerRun(100, func() {
		for _, d := range frames {
			packet.ParseInner(packet.Info{CapLen: uint32(len(d)), WireLen: uint32(len(d)), LinkType: spec.LinkEthernet}, d, &rec, &tun)
		}
	}); n != 0 {
		t.Fatalf("%v allocations", n)
	}
}

// FuzzParseInner: ParseInner never panics, its inner record keeps Parse's
// invariants, and the tunnel record's offsets lie inside the packet.
func FuzzParseInner(f *testing.F) {
	for _, c := range tunnelCases() {
		_, pkts := writeTunnelCapture(&testing.T{}, f.TempDir(), c)
		f.Add(pkts[0])
		f.Add(pkts[1])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var rec packet.Record
		var tun packet.TunnelRecord
		packet.ParseInner(packet.Info{CapLen: uint32(len(data)), WireLen: uint32(len(data)), LinkType: spec.LinkEthernet}, data, &rec, &tun)
		n := len(data)
		for _, o := range []uint16{rec.L3Off(), rec.L4Off(), rec.PayloadOff()} {
			if o != spec.NoOffset && int(o) > n {
				t.Fatalf("offset %d past %d bytes", o, n)
			}
		}
		if po := rec.PayloadOff(); po != spec.NoOffset && int(po)+int(rec.PayloadLen()) > n {
			t.Fatalf("payload %d+%d past %d", po, rec.PayloadLen(), n)
		}
		if tun.Type() != spec.TunnelNone {
			inner, _ := tun.Inner()
			if int(inner) > n || tun.OuterL3() >= inner {
				t.Fatalf("tunnel %v: outer l3 %d, inner %d, %d bytes", tun.Type(), tun.OuterL3(), inner, n)
			}
		} else if tun != (packet.TunnelRecord{}) {
			t.Fatalf("no tunnel, record %x", tun[:])
		}
	})
}
