package packet_test

import (
	"encoding/binary"
	"net"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/spec"
)

// build serializes layers with gopacket, fixing lengths and checksums.
func build(t testing.TB, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	for _, l := range ls {
		if n, ok := l.(interface {
			SetNetworkLayerForChecksum(gopacket.NetworkLayer) error
		}); ok {
			for _, x := range ls {
				if nl, ok := x.(gopacket.NetworkLayer); ok {
					_ = n.SetNetworkLayerForChecksum(nl)
				}
			}
		}
	}
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

var (
	mac1 = net.HardwareAddr{2, 0, 0, 0, 0, 1}
	mac2 = net.HardwareAddr{2, 0, 0, 0, 0, 2}
	v4a  = net.IP{192, 0, 2, 1}
	v4b  = net.IP{198, 51, 100, 7}
	v6a  = net.ParseIP("2001:db8::1")
	v6b  = net.ParseIP("2001:db8::2:3")
)

func parse(lt spec.LinkType, data []byte) *packet.Record {
	var rec packet.Record
	packet.Parse(packet.Info{Timestamp: 1_700_000_000_123_456_789, CapLen: uint32(len(data)), WireLen: uint32(len(data)), LinkType: lt, Ifindex: 3, Queue: 2}, data, &rec)
	return &rec
}

func TestParseEthernetIPv4TCP(t *testing.T) {
	data := build(t,
		&layers.Ethernet{SrcMAC: mac1, DstMAC: mac2, EthernetType: layers.EthernetTypeIPv4},
		&layers.IPv4{Version: 4, IHL: 6, TTL: 33, Protocol: layers.IPProtocolTCP, SrcIP: v4a, DstIP: v4b,
			Options: []layers.IPv4Option{{OptionType: 1, OptionLength: 1}, {OptionType: 1, OptionLength: 1}, {OptionType: 1, OptionLength: 1}, {OptionType: 0, OptionLength: 1}}},
		&layers.TCP{SrcPort: 40000, DstPort: 80, SYN: true, ACK: true, Window: 100, DataOffset: 5},
		gopacket.Payload("hello"),
	)
	r := parse(spec.LinkEthernet, data)
	check(t, "timestamp", r.Timestamp(), int64(1_700_000_000_123_456_789))
	check(t, "caplen", r.CapLen(), uint32(len(data)))
	check(t, "ifindex", r.Ifindex(), uint32(3))
	check(t, "queue", r.Queue(), uint16(2))
	check(t, "linktype", r.LinkType(), spec.LinkEthernet)
	check(t, "l3", r.L3Off(), uint16(14))
	check(t, "l4", r.L4Off(), uint16(14+24))
	check(t, "payload", r.PayloadOff(), uint16(14+24+20))
	check(t, "payloadlen", r.PayloadLen(), uint32(5))
	check(t, "ethertype", r.EtherType(), uint16(0x0800))
	check(t, "ipver", r.IPVersion(), uint8(4))
	check(t, "proto", r.IPProto(), uint8(6))
	check(t, "ttl", r.TTL(), uint8(33))
	check(t, "flags", r.TCPFlags(), uint8(0x12))
	check(t, "sport", r.SrcPort(), uint16(40000))
	check(t, "dport", r.DstPort(), uint16(80))
	check(t, "src", r.SrcAddr(), netip.MustParseAddr("192.0.2.1"))
	check(t, "dst", r.DstAddr(), netip.MustParseAddr("198.51.100.7"))
	check(t, "recflags", r.Flags(), uint32(spec.RecFlagIPOptions))
	if r.FlowHash() == 0 {
		t.Error("flow hash is zero")
	}
}

func TestParseVLANStackAndMPLS(t *testing.T) {
	data := build(t,
		&layers.Ethernet{SrcMAC: mac1, DstMAC: mac2, EthernetType: layers.EthernetTypeQinQ},
		&layers.Dot1Q{Priority: 5, VLANIdentifier: 100, Type: layers.EthernetTypeDot1Q},
		&layers.Dot1Q{Priority: 1, DropEligible: true, VLANIdentifier: 200, Type: layers.EthernetTypeDot1Q},
		&layers.Dot1Q{VLANIdentifier: 300, Type: layers.EthernetTypeMPLSUnicast},
		&layers.MPLS{Label: 1000, TrafficClass: 3, TTL: 9},
		&layers.MPLS{Label: 2000, StackBottom: true, TTL: 8},
		&layers.IPv6{Version: 6, HopLimit: 7, NextHeader: layers.IPProtocolUDP, SrcIP: v6a, DstIP: v6b},
		&layers.UDP{SrcPort: 53, DstPort: 5353},
		gopacket.Payload("abc"),
	)
	r := parse(spec.LinkEthernet, data)
	check(t, "vlans", r.VLANCount(), uint8(3))
	check(t, "outer", r.VLANOuter(), uint16(5<<13|100))
	check(t, "inner", r.VLANInner(), uint16(1<<13|1<<12|200))
	check(t, "mpls", r.MPLSCount(), uint8(2))
	check(t, "mplstop", r.MPLSTop(), uint32(1000<<12|3<<9|9))
	check(t, "ethertype", r.EtherType(), uint16(0x86dd))
	check(t, "l3", r.L3Off(), uint16(14+12+8))
	check(t, "ipver", r.IPVersion(), uint8(6))
	check(t, "proto", r.IPProto(), uint8(17))
	check(t, "ports", [2]uint16{r.SrcPort(), r.DstPort()}, [2]uint16{53, 5353})
	check(t, "payloadlen", r.PayloadLen(), uint32(3))
	check(t, "recflags", r.Flags(), uint32(spec.RecFlagVLAN|spec.RecFlagMPLS))
}

func TestParseIPv6ExtensionsAndFragments(t *testing.T) {
	// Hop-by-hop, then a first fragment carrying ICMPv6 echo.
	ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolIPv6HopByHop, SrcIP: v6a, DstIP: v6b}
	hbh := []byte{44, 0, 1, 4, 0, 0, 0, 0}
	frag := []byte{58, 0, 0, 1, 0, 0, 0, 42} // offset 0, M=1
	icmp := []byte{128, 0, 0, 0, 0, 1, 0, 1, 'x'}
	pay := append(append(append([]byte{}, hbh...), frag...), icmp...)
	data := build(t, &layers.Ethernet{SrcMAC: mac1, DstMAC: mac2, EthernetType: layers.EthernetTypeIPv6}, ip, gopacket.Payload(pay))
	r := parse(spec.LinkEthernet, data)
	check(t, "proto", r.IPProto(), uint8(58))
	check(t, "l4", r.L4Off(), uint16(14+40+16))
	check(t, "type/code", r.SrcPort(), uint16(128<<8))
	check(t, "payload", r.PayloadOff(), uint16(14+40+16+4))
	check(t, "recflags", r.Flags(), uint32(spec.RecFlagIPv6Ext|spec.RecFlagFragment))

	// A later fragment: no transport header.
	frag[3] = 0x10 // offset 2 (×8)
	pay = append(append(append([]byte{}, hbh...), frag...), icmp...)
	data = build(t, &layers.Ethernet{SrcMAC: mac1, DstMAC: mac2, EthernetType: layers.EthernetTypeIPv6}, ip, gopacket.Payload(pay))
	r = parse(spec.LinkEthernet, data)
	check(t, "proto", r.IPProto(), uint8(58))
	check(t, "l4", r.L4Off(), uint16(spec.NoOffset))
	check(t, "recflags", r.Flags(), uint32(spec.RecFlagIPv6Ext|spec.RecFlagFragment|spec.RecFlagLaterFragment))
}

func TestParseIPv4Fragments(t *testing.T) {
	mk := func(flags layers.IPv4Flag, off uint16) *packet.Record {
		return parse(spec.LinkRaw, build(t,
			&layers.IPv4{Version: 4, IHL: 5, TTL: 1, Protocol: layers.IPProtocolUDP, SrcIP: v4a, DstIP: v4b, Flags: flags, FragOffset: off},
			&layers.UDP{SrcPort: 1, DstPort: 2}, gopacket.Payload("zzzz")))
	}
	first, later, whole := mk(layers.IPv4MoreFragments, 0), mk(0, 100), mk(0, 0)
	check(t, "first flags", first.Flags(), uint32(spec.RecFlagFragment))
	check(t, "first ports", first.DstPort(), uint16(2))
	check(t, "later flags", later.Flags(), uint32(spec.RecFlagFragment|spec.RecFlagLaterFragment))
	check(t, "later l4", later.L4Off(), uint16(spec.NoOffset))
	check(t, "whole flags", whole.Flags(), uint32(0))
	// Fragments of one datagram share a flow hash.
	check(t, "fragment hash", first.FlowHash(), later.FlowHash())
	if whole.FlowHash() == first.FlowHash() {
		t.Error("an unfragmented datagram hashes like a fragment (ports should enter its hash)")
	}
}

func TestParseLinkTypes(t *testing.T) {
	ip4 := build(t, &layers.IPv4{Version: 4, IHL: 5, TTL: 9, Protocol: layers.IPProtocolUDP, SrcIP: v4a, DstIP: v4b},
		&layers.UDP{SrcPort: 7, DstPort: 9})
	ip6 := build(t, &layers.IPv6{Version: 6, HopLimit: 9, NextHeader: layers.IPProtocolTCP, SrcIP: v6a, DstIP: v6b},
		&layers.TCP{SrcPort: 7, DstPort: 9, DataOffset: 5})
	sll := append([]byte{0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x00}, ip4...)
	sll2 := append([]byte{0x86, 0xdd, 0, 0, 0, 0, 0, 1, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0}, ip6...)
	nullLE := append([]byte{2, 0, 0, 0}, ip4...)
	nullBE := append([]byte{0, 0, 0, 30}, ip6...)
	loop := append([]byte{0, 0, 0, 2}, ip4...)
	snap := append([]byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0, byte(8 + len(ip4)), 0xaa, 0xaa, 3, 0, 0, 0, 0x08, 0x00}, ip4...)
	for _, c := range []struct {
		name string
		lt   spec.LinkType
		data []byte
		l3   uint16
		ver  uint8
	}{
		{"raw4", spec.LinkRaw, ip4, 0, 4},
		{"raw6", spec.LinkRaw, ip6, 0, 6},
		{"ipv4", spec.LinkIPv4, ip4, 0, 4},
		{"ipv6", spec.LinkIPv6, ip6, 0, 6},
		{"sll", spec.LinkLinuxSLL, sll, 16, 4},
		{"sll2", spec.LinkLinuxSLL2, sll2, 20, 6},
		{"null-le", spec.LinkNull, nullLE, 4, 4},
		{"null-be-darwin6", spec.LinkNull, nullBE, 4, 6},
		{"loop", spec.LinkLoop, loop, 4, 4},
		{"llc-snap", spec.LinkEthernet, snap, 22, 4},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := parse(c.lt, c.data)
			check(t, "l3", r.L3Off(), c.l3)
			check(t, "ipver", r.IPVersion(), c.ver)
			check(t, "dport", r.DstPort(), uint16(9))
			check(t, "recflags", r.Flags(), uint32(0))
		})
	}
}

func TestParseTruncatedAndMalformed(t *testing.T) {
	full := build(t, &layers.Ethernet{SrcMAC: mac1, DstMAC: mac2, EthernetType: layers.EthernetTypeIPv4},
		&layers.IPv4{Version: 4, IHL: 5, TTL: 9, Protocol: layers.IPProtocolTCP, SrcIP: v4a, DstIP: v4b},
		&layers.TCP{SrcPort: 7, DstPort: 9, DataOffset: 5}, gopacket.Payload("0123456789"))
	// Cut by a snap length inside the TCP header.
	var rec packet.Record
	packet.Parse(packet.Info{WireLen: uint32(len(full)), LinkType: spec.LinkEthernet}, full[:14+20+10], &rec)
	check(t, "snap flags", rec.Flags(), uint32(spec.RecFlagTruncated))
	check(t, "snap ports", rec.DstPort(), uint16(9))
	check(t, "snap payload", rec.PayloadOff(), uint16(spec.NoOffset))
	// An IP total length shorter than the TCP header.
	bad := append([]byte(nil), full...)
	binary.BigEndian.PutUint16(bad[14+2:], 30)
	r := parse(spec.LinkEthernet, bad)
	check(t, "short ip flags", r.Flags(), uint32(spec.RecFlagMalformed))
	// IHL below 5.
	bad = append([]byte(nil), full...)
	bad[14] = 0x44
	r = parse(spec.LinkEthernet, bad)
	check(t, "ihl flags", r.Flags(), uint32(spec.RecFlagMalformed))
	check(t, "ihl ipver", r.IPVersion(), uint8(0))
	// TCP data offset below 5.
	bad = append([]byte(nil), full...)
	bad[14+20+12] = 0x40
	r = parse(spec.LinkEthernet, bad)
	check(t, "doff flags", r.Flags(), uint32(spec.RecFlagMalformed))
	// Empty and one-byte packets on every link type parse without a layer.
	for _, lt := range []spec.LinkType{spec.LinkEthernet, spec.LinkRaw, spec.LinkIPv4, spec.LinkIPv6, spec.LinkLinuxSLL, spec.LinkLinuxSLL2, spec.LinkNull, spec.LinkLoop} {
		r := parse(lt, nil)
		check(t, lt.String()+" empty l3", r.IPVersion(), uint8(0))
	}
}

func TestFlowHashSymmetric(t *testing.T) {
	a := build(t, &layers.IPv6{Version: 6, HopLimit: 9, NextHeader: layers.IPProtocolTCP, SrcIP: v6a, DstIP: v6b},
		&layers.TCP{SrcPort: 1234, DstPort: 443, DataOffset: 5})
	b := build(t, &layers.IPv6{Version: 6, HopLimit: 9, NextHeader: layers.IPProtocolTCP, SrcIP: v6b, DstIP: v6a},
		&layers.TCP{SrcPort: 443, DstPort: 1234, DataOffset: 5})
	c := build(t, &layers.IPv6{Version: 6, HopLimit: 9, NextHeader: layers.IPProtocolTCP, SrcIP: v6b, DstIP: v6a},
		&layers.TCP{SrcPort: 443, DstPort: 1235, DataOffset: 5})
	ha, hb, hc := parse(spec.LinkRaw, a).FlowHash(), parse(spec.LinkRaw, b).FlowHash(), parse(spec.LinkRaw, c).FlowHash()
	check(t, "both directions", ha, hb)
	if ha == hc {
		t.Errorf("different flows share hash %#x", ha)
	}
	// Same addresses and ports, IPv4: both directions, and the exported
	// function agrees with the record.
	x := parse(spec.LinkRaw, build(t, &layers.IPv4{Version: 4, IHL: 5, TTL: 9, Protocol: layers.IPProtocolUDP, SrcIP: v4a, DstIP: v4b}, &layers.UDP{SrcPort: 5, DstPort: 6}))
	y := parse(spec.LinkRaw, build(t, &layers.IPv4{Version: 4, IHL: 5, TTL: 9, Protocol: layers.IPProtocolUDP, SrcIP: v4b, DstIP: v4a}, &layers.UDP{SrcPort: 6, DstPort: 5}))
	check(t, "ipv4 both directions", x.FlowHash(), y.FlowHash())
	var s, d [16]byte
	copy(s[:], v4a)
	copy(d[:], v4b)
	check(t, "FlowHash", packet.FlowHash(4, 17, &s, &d, 5, 6), x.FlowHash())
	check(t, "FlowHash swapped", packet.FlowHash(4, 17, &d, &s, 6, 5), x.FlowHash())
}

func check[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}
