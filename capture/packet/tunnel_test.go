package packet_test

import (
	"fmt"
	"net/netip"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/internal/tunnelgen"
	"github.com/wringcap/wring/spec"
)

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
	for _, c := range tunnelgen.Cases() {
		t.Run(c.Name, func(t *testing.T) {
			file, pkts, err := tunnelgen.Write(dir, c)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]uint64{}
			for i, d := range pkts {
				var rec packet.Record
				var tun packet.TunnelRecord
				info := packet.Info{CapLen: uint32(len(d)), WireLen: uint32(len(d)), LinkType: spec.LinkEthernet}
				packet.ParseInner(info, d, &rec, &tun)
				if tun.Type() != c.Type || tun.ID() != c.ID || rec.IPProto() != 6 || rec.PayloadOff() == spec.NoOffset {
					t.Fatalf("packet %d: tunnel %v id %#x, inner proto %d", i+1, tun.Type(), tun.ID(), rec.IPProto())
				}
				ol := tun.OuterL3()
				if tun[spec.TunIPVersion] == 0 { // NSH, MACsec: no outer IP
					ol = tun.OuterL4()
				}
				if off, _ := tun.Inner(); off <= ol || rec.L3Off() < off {
					t.Fatalf("packet %d: outer l3 %d, inner %d, inner l3 %d", i+1, ol, off, rec.L3Off())
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
			if c.Field != "" {
				out, err := exec.Command("tshark", "-n", "-r", file, "-c", "4", "-T", "fields", "-e", c.Field).Output()
				if err != nil {
					t.Fatal(err)
				}
				for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
					v, err := strconv.ParseUint(strings.Split(l, ",")[0], 0, 32) // 0x1234 or decimal
					if err != nil || uint32(v) != c.ID {
						t.Fatalf("tshark %s %q, want %#x", c.Field, l, c.ID)
					}
				}
			}
		})
	}
}

// TestParseInnerAllocatesNothing: decapsulation allocates nothing.
func TestParseInnerAllocatesNothing(t *testing.T) {
	var frames [][]byte
	for _, c := range tunnelgen.Cases() {
		_, pkts, err := tunnelgen.Write(t.TempDir(), c)
		if err != nil {
			t.Fatal(err)
		}
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
	for _, c := range tunnelgen.Cases() {
		_, pkts, err := tunnelgen.Write(f.TempDir(), c)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(pkts[0])
		f.Add(pkts[1])
	}
	for _, c := range shimFrames(f) { // ERSPAN, NSH, VXLAN-GPE, WCCP, PIM, MACsec
		f.Add(c.data)
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
			outer := tun.OuterL3()
			if tun[spec.TunIPVersion] == 0 {
				outer = tun.OuterL4()
			}
			if int(inner) > n || outer >= inner {
				t.Fatalf("tunnel %v: outer %d, inner %d, %d bytes", tun.Type(), outer, inner, n)
			}
			if rec.CapLen() != uint32(n) {
				t.Fatalf("tunnel %v: caplen %d of %d bytes", tun.Type(), rec.CapLen(), n)
			}
		} else if tun != (packet.TunnelRecord{}) {
			t.Fatalf("no tunnel, record %x", tun[:])
		}
	})
}
