package packet_test

import (
	"encoding/hex"
	"net/netip"
	"testing"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/spec"
)

// shimFrame is an Ethernet frame in one of the encapsulations beyond GRE,
// VXLAN, Geneve, IP in IP and GTP-U, with what ParseInner must find.
type shimFrame struct {
	name     string
	data     []byte
	typ      spec.TunnelType
	id       uint32
	src, dst string // inner addresses
	proto    uint8
	sport    uint16
	dport    uint16
	payLen   uint32 // inner transport payload bytes
	wire     uint32 // length on the wire when the frame is cut (0: not cut)
}

// info returns the frame's metadata.
func (c *shimFrame) info() packet.Info {
	return packet.Info{CapLen: uint32(len(c.data)), WireLen: max(c.wire, uint32(len(c.data))), LinkType: spec.LinkEthernet}
}

// shimFrames returns frames taken from the tcpdump corpus (nsh.pcap,
// nsh-over-vxlan-gpe.pcap, macsec-short-valid.pcap, wccp_redirect_gre.pcap,
// erspan-type-i-1.pcap, erspan-type-ii-2.pcap, erspan-type-iii-ft-0.pcap,
// cut to their first bytes where long) and a PIM Register built here.
func shimFrames(tb testing.TB) []shimFrame {
	tb.Helper()
	x := func(s string) []byte {
		b, err := hex.DecodeString(s)
		if err != nil {
			tb.Fatal(err)
		}
		return b
	}
	pim := x("0000000000020000000000010800" + // Ethernet
		"4500003c00000000406700000a0000010a000002" + // IPv4, protocol 103
		"2100000000000000" + // PIMv2 Register, border and null bits clear
		"450000200001000040110000c0000201e000000b" + // the multicast packet
		"09a409a4000c0000" + "61626364")
	return []shimFrame{
		{"nsh_ethernet", x("5254004b735f02420a000803894f00060101000309070000000100000002000000030000000445000022284440004011e96a0a0008030a0d0d0dcc051f40000e0000626567696e0a"),
			spec.TunnelNSH, 0x309<<8 | 7, "10.0.8.3", "10.13.13.13", 17, 52229, 8000, 6, 0},
		{"nsh_vxlan_gpe", x("00000000000000000000000008004500005c402340004011fc6b7f0000017f00000112b612b6004849f70c000004ffffff0030060201ffffffff0001020112345678000203011234567845000020d4310000ff116647c0a80001c0a8000227104e20000c217874657374"),
			spec.TunnelVXLANGPE, 0xffffff, "192.168.0.1", "192.168.0.2", 17, 10000, 20000, 4, 0},
		{"macsec", x("b6b95d808d79caf9df4f509a88e5202200000042caf9df4f509a00640800450000202df140004011a787c0a87201c0a8720292531a0a000c89e73132330a079d1505db571783ceb1aec143e4e374"),
			spec.TunnelMACsec, 0, "192.168.114.1", "192.168.114.2", 17, 37459, 6666, 4, 0},
		{"wccp_gre", x("00145e2899a8000f353aab4008004500010cac830000fd2fa42e0afe7fc20afed6520000883e05590048450000f0911440004006a6500afe7fc30afe6ce4050b01bd8383a18a550ac89d8018f98f290900000101080a00009e1e01abcb5f000000b8ff534d4225000000001807c8000000000000000000000000024058080078412810000064000000000400000000000000000000000054006400540002002600")[:120],
			spec.TunnelGRE, 0, "10.254.127.195", "10.254.108.228", 6, 1291, 445, 0, 282},
		{"erspan_i", x("00e0009b6d8100259e81b354080045fc007e00000000202fd7a501010101c0a8ff05000088be00115c3dde0000259e81b3548100c0650800450000549f430000ff01062a0a3480e90a3480ea0800042aac520003fda18a280d0b1600504e4700fda18a28000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021222324252627"),
			spec.TunnelERSPAN, 0, "10.52.128.233", "10.52.128.234", 1, 0x0800, 0, 0, 0},
		{"erspan_ii", x("000c29f1581e005056c0000108004500006201284000fc2f74ebc0a8c343c0a8c3c4100088be001095281065c0010008406501005e00000200000c07acfe080045c0003000000000011169310ac86502e000000207c107c1001cd965000010010369fe00636973636f0000000ac86501"),
			spec.TunnelERSPAN, 1, "10.200.101.2", "224.0.0.2", 17, 1985, 1985, 20, 0},
		{"erspan_iii", x("005056acc80cf8c28890d27b08004500008a000000003f2f3d970a1d1e680a1d0b0d000022eb20140000a3595bff00000006005056ac18a0f8c28890d27b810000140800450000549d1240003f016b470a1d0b010a1d14150800269c3fcb00e22264905d0000000015220a0000000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637"),
			spec.TunnelERSPAN, 0, "10.29.11.1", "10.29.20.21", 1, 0x0800, 0, 56, 0},
		{"pim_register", pim, spec.TunnelPIM, 0, "192.0.2.1", "224.0.0.11", 17, 2468, 2468, 4, 0},
	}
}

// TestParseInnerShims: each encapsulation is entered, with its id, and the
// inner record holds the inner packet's addresses, ports and payload; the
// outer Record (Parse) is what it was. Every cut of each frame parses
// without reading past it.
func TestParseInnerShims(t *testing.T) {
	for _, c := range shimFrames(t) {
		c := c
		t.Run(c.name, func(t *testing.T) {
			info := c.info()
			var rec packet.Record
			var tun packet.TunnelRecord
			packet.ParseInner(info, c.data, &rec, &tun)
			if tun.Type() != c.typ || tun.ID() != c.id {
				t.Fatalf("tunnel %v id %#x, want %v %#x", tun.Type(), tun.ID(), c.typ, c.id)
			}
			if rec.SrcAddr() != netip.MustParseAddr(c.src) || rec.DstAddr() != netip.MustParseAddr(c.dst) || rec.IPProto() != c.proto ||
				rec.SrcPort() != c.sport || rec.DstPort() != c.dport {
				t.Fatalf("inner %v:%d > %v:%d proto %d", rec.SrcAddr(), rec.SrcPort(), rec.DstAddr(), rec.DstPort(), rec.IPProto())
			}
			if c.payLen != 0 && rec.PayloadLen() != c.payLen {
				t.Errorf("payload %d bytes, want %d", rec.PayloadLen(), c.payLen)
			}
			if rec.CapLen() != uint32(len(c.data)) || rec.Flags()&spec.RecFlagMalformed != 0 {
				t.Errorf("caplen %d flags %#x", rec.CapLen(), rec.Flags())
			}
			var outer packet.Record
			packet.Parse(info, c.data, &outer)
			inner, _ := tun.Inner()
			if tun[spec.TunIPVersion] == 0 {
				if outer.IPVersion() != 0 || tun.OuterL3() != spec.NoOffset || tun.OuterL4() >= inner {
					t.Errorf("link-layer encapsulation: outer record IPv%d, tunnel l3 %d l4 %d inner %d", outer.IPVersion(), tun.OuterL3(), tun.OuterL4(), inner)
				}
			} else if tun.OuterL3() != outer.L3Off() || outer.IPVersion() != tun[spec.TunIPVersion] {
				t.Errorf("outer l3 %d, Parse's %d", tun.OuterL3(), outer.L3Off())
			}
			for n := 0; n < len(c.data); n++ {
				var r packet.Record
				var tr packet.TunnelRecord
				packet.ParseInner(packet.Info{CapLen: uint32(n), WireLen: uint32(len(c.data)), LinkType: spec.LinkEthernet}, c.data[:n], &r, &tr)
				if o := r.PayloadOff(); o != spec.NoOffset && int(o)+int(r.PayloadLen()) > n {
					t.Fatalf("cut at %d: payload %d+%d", n, o, r.PayloadLen())
				}
			}
		})
	}
	frames := shimFrames(t)
	var rec packet.Record
	var tun packet.TunnelRecord
	if a := testing.AllocsPerRun(100, func() {
		for _, c := range frames {
			packet.ParseInner(c.info(), c.data, &rec, &tun)
		}
	}); a != 0 {
		t.Errorf("%v allocations", a)
	}
}

// TestParseInnerMACsecICV: the ICV is not part of the inner packet: with
// no short length, an IP length that runs into the ICV is flagged, and one
// that stops before it is not.
func TestParseInnerMACsecICV(t *testing.T) {
	frame := shimFrames(t)[2].data
	d := append([]byte(nil), frame...)
	d[15] = 0 // short length 0: the frame's end minus 16 bytes ends the packet
	info := packet.Info{CapLen: uint32(len(d)), WireLen: uint32(len(d)), LinkType: spec.LinkEthernet}
	var rec packet.Record
	var tun packet.TunnelRecord
	packet.ParseInner(info, d, &rec, &tun)
	if tun.Type() != spec.TunnelMACsec || rec.PayloadLen() != 4 || rec.Flags()&spec.RecFlagMalformed != 0 {
		t.Fatalf("tunnel %v payload %d flags %#x", tun.Type(), rec.PayloadLen(), rec.Flags())
	}
	d[33]++ // IP total length one byte into the ICV
	packet.ParseInner(info, d, &rec, &tun)
	if rec.Flags()&spec.RecFlagMalformed == 0 {
		t.Fatalf("an IP length into the ICV is not flagged: payload %d flags %#x", rec.PayloadLen(), rec.Flags())
	}
	d[14] |= 0x0c // encrypted: not entered
	packet.ParseInner(info, d, &rec, &tun)
	if tun.Type() != spec.TunnelNone || rec.IPVersion() != 0 {
		t.Fatalf("encrypted MACsec entered: %v", tun.Type())
	}
}
