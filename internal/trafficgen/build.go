package trafficgen

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// The address pools. 192.0.2.7 and 2001:db8::7 appear often on purpose.
var (
	pool4 = []netip.Addr{
		netip.MustParseAddr("192.0.2.7"), netip.MustParseAddr("192.0.2.10"),
		netip.MustParseAddr("198.51.100.1"), netip.MustParseAddr("198.51.100.23"),
		netip.MustParseAddr("203.0.113.5"), netip.MustParseAddr("203.0.113.80"),
		netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2"),
	}
	pool6 = []netip.Addr{
		netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::7"),
		netip.MustParseAddr("2001:db8:1::10"), netip.MustParseAddr("2001:db8:2::443"),
		netip.MustParseAddr("2001:db8:ffff::2"), netip.MustParseAddr("fe80::1"),
	}
	vlanIDs = []uint16{10, 20, 100, 4000}
)

// rawLayer is bytes placed as they are (IPv6 extension headers, fragment
// payloads).
type rawLayer []byte

func (r rawLayer) SerializeTo(b gopacket.SerializeBuffer, _ gopacket.SerializeOptions) error {
	out, err := b.PrependBytes(len(r))
	if err != nil {
		return err
	}
	copy(out, r)
	return nil
}

func (rawLayer) LayerType() gopacket.LayerType { return gopacket.LayerTypePayload }

// macOf derives a locally administered unicast MAC from an address.
func macOf(a netip.Addr) net.HardwareAddr {
	b := a.As16()
	return net.HardwareAddr{0x02, 0x00, b[12], b[13], b[14], b[15]}
}

// endpoints picks two different addresses of one family.
func (g *Generator) endpoints(v6 bool) (src, dst netip.Addr) {
	pool := pool4
	if v6 {
		pool = pool6
	}
	i := g.rng.IntN(len(pool))
	j := (i + 1 + g.rng.IntN(len(pool)-1)) % len(pool)
	return pool[i], pool[j]
}

// ephemeralPort returns client ports that cycle through 10000–65535 in a
// scrambled order, so a connection's 4-tuple does not come back (and look
// like a retransmission to a dissector) until 55,536 ports later.
func (g *Generator) ephemeralPort() uint16 {
	g.portSeq++
	return uint16(10000 + (g.portSeq*7919)%55536)
}

// link returns the link-layer headers for a frame carrying etherType from
// src to dst MAC: plain Ethernet, 802.1Q (10%), QinQ with an 802.1ad outer
// tag (4%) or, for IP, an MPLS label stack (3%).
func (g *Generator) link(src, dst net.HardwareAddr, etherType layers.EthernetType, allowMPLS bool) []gopacket.SerializableLayer {
	eth := &layers.Ethernet{SrcMAC: src, DstMAC: dst, EthernetType: etherType}
	r := g.rng.IntN(100)
	switch {
	case r < 10:
		eth.EthernetType = layers.EthernetTypeDot1Q
		return []gopacket.SerializableLayer{eth,
			&layers.Dot1Q{VLANIdentifier: pick(g.rng, vlanIDs), Priority: uint8(g.rng.IntN(8)), Type: etherType}}
	case r < 14:
		eth.EthernetType = layers.EthernetTypeQinQ
		return []gopacket.SerializableLayer{eth,
			&layers.Dot1Q{VLANIdentifier: 100 + 100*uint16(g.rng.IntN(2)), Type: layers.EthernetTypeDot1Q},
			&layers.Dot1Q{VLANIdentifier: pick(g.rng, vlanIDs), Type: etherType}}
	case r < 17 && allowMPLS:
		eth.EthernetType = layers.EthernetTypeMPLSUnicast
		out := []gopacket.SerializableLayer{eth}
		labels := 1 + g.rng.IntN(2)
		for i := range labels {
			out = append(out, &layers.MPLS{Label: uint32(16 + g.rng.IntN(1000)), TTL: 64, StackBottom: i == labels-1})
		}
		return out
	}
	return []gopacket.SerializableLayer{eth}
}

// ipHeaders returns the link and IP headers (with IPv4 options in 3% of
// IPv4 packets and IPv6 extension headers in 10% of IPv6 packets) for a
// packet of protocol proto, and the IP layer for transport checksums.
func (g *Generator) ipHeaders(src, dst netip.Addr, proto layers.IPProtocol) ([]gopacket.SerializableLayer, gopacket.NetworkLayer) {
	if src.Is4() {
		ip := &layers.IPv4{Version: 4, TTL: uint8(32 + g.rng.IntN(96)), Protocol: proto, Id: uint16(g.rng.Uint32()),
			Flags: layers.IPv4DontFragment, SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
		if g.rng.IntN(100) < 3 {
			ip.Options = []layers.IPv4Option{{OptionType: 148, OptionLength: 4, OptionData: []byte{0, 0}}} // router alert
			if g.rng.IntN(2) == 0 {
				rr := []byte{8, 0, 0, 0, 0, 0, 0, 0, 0}
				ip.Options = append(ip.Options, layers.IPv4Option{OptionType: 7, OptionLength: 11, OptionData: rr}) // record route
			}
		}
		ls := g.link(macOf(src), macOf(dst), layers.EthernetTypeIPv4, true)
		return append(ls, ip), ip
	}
	ip := &layers.IPv6{Version: 6, HopLimit: uint8(32 + g.rng.IntN(96)), NextHeader: proto, FlowLabel: g.rng.Uint32() & 0xfffff,
		SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
	ls := g.link(macOf(src), macOf(dst), layers.EthernetTypeIPv6, true)
	ls = append(ls, ip)
	if g.rng.IntN(100) < 10 {
		switch g.rng.IntN(3) {
		case 0: // hop-by-hop with router alert and PadN
			ip.NextHeader = layers.IPProtocolIPv6HopByHop
			ls = append(ls, rawLayer{byte(proto), 0, 5, 2, 0, 0, 1, 0})
		case 1: // destination options with PadN
			ip.NextHeader = layers.IPProtocolIPv6Destination
			ls = append(ls, rawLayer{byte(proto), 0, 1, 4, 0, 0, 0, 0})
		default: // both
			ip.NextHeader = layers.IPProtocolIPv6HopByHop
			ls = append(ls, rawLayer{byte(layers.IPProtocolIPv6Destination), 0, 1, 4, 0, 0, 0, 0},
				rawLayer{byte(proto), 0, 1, 4, 0, 0, 0, 0})
		}
	}
	return ls, ip
}

// serialize builds a packet from layers.
func (g *Generator) serialize(k Kind, ls ...gopacket.SerializableLayer) Packet {
	if err := gopacket.SerializeLayers(g.buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		panic(fmt.Sprintf("BUG: trafficgen: serialize %v: %v", k, err))
	}
	return Packet{Data: append([]byte(nil), g.buf.Bytes()...), Kind: k}
}

// build makes one packet of kind k (and queues the rest of a fragmented
// datagram).
func (g *Generator) build(k Kind) Packet {
	v6 := g.rng.IntN(100) < 30
	switch k {
	case KindHTTPRequest, KindHTTPResponse, KindTLSClientHello, KindTCPHandshake:
		return g.tcp(k, v6)
	case KindDNSQuery, KindDNSResponse:
		return g.dns(k, v6)
	case KindSIP, KindRTP:
		return g.udpApp(k, v6)
	case KindICMPEcho:
		return g.icmpEcho(v6)
	case KindICMPv6ND:
		return g.neighborSolicitation()
	case KindARP:
		return g.arp()
	case KindIPFragment:
		return g.fragments(v6)
	}
	panic(fmt.Sprintf("BUG: trafficgen: kind %v", k))
}

func (g *Generator) tcp(k Kind, v6 bool) Packet {
	client, server := g.endpoints(v6)
	cport := g.ephemeralPort()
	var sport uint16
	var payload []byte
	tcp := &layers.TCP{Seq: g.rng.Uint32(), Ack: g.rng.Uint32(), Window: 64240, ACK: true, PSH: true}
	src, dst := client, server
	switch k {
	case KindHTTPRequest:
		sport = pick(g.rng, []uint16{80, 80, 80, 8080})
		payload = httpRequest(g.rng, pick(g.rng, hostNames))
	case KindHTTPResponse:
		sport = pick(g.rng, []uint16{80, 80, 80, 8080})
		payload = httpResponse(g.rng)
		src, dst = server, client
	case KindTLSClientHello:
		sport = 443
		payload = tlsClientHello(g.rng, pick(g.rng, hostNames))
	case KindTCPHandshake:
		sport = pick(g.rng, []uint16{80, 443, 443, 22, 25, 8080})
		tcp.PSH = false
		switch g.rng.IntN(3) {
		case 0:
			tcp.SYN, tcp.ACK, tcp.Ack = true, false, 0
			tcp.Options = []layers.TCPOption{{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{0x05, 0xb4}}}
		case 1:
			tcp.SYN = true
			tcp.Options = []layers.TCPOption{{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{0x05, 0xb4}}}
			src, dst = server, client
		}
	}
	tcp.SrcPort, tcp.DstPort = layers.TCPPort(cport), layers.TCPPort(sport)
	if src != client {
		tcp.SrcPort, tcp.DstPort = layers.TCPPort(sport), layers.TCPPort(cport)
	}
	ls, ip := g.ipHeaders(src, dst, layers.IPProtocolTCP)
	tcp.SetNetworkLayerForChecksum(ip)
	ls = append(ls, tcp)
	if payload != nil {
		ls = append(ls, gopacket.Payload(payload))
	}
	return g.serialize(k, ls...)
}

func (g *Generator) dns(k Kind, v6 bool) Packet {
	client, resolver := g.endpoints(v6)
	name := []byte(pick(g.rng, hostNames))
	qtype := pick(g.rng, []layers.DNSType{layers.DNSTypeA, layers.DNSTypeA, layers.DNSTypeAAAA, layers.DNSTypeMX})
	d := &layers.DNS{ID: uint16(g.rng.Uint32()), RD: true, OpCode: layers.DNSOpCodeQuery,
		Questions: []layers.DNSQuestion{{Name: name, Type: qtype, Class: layers.DNSClassIN}}}
	src, dst := client, resolver
	sport, dport := g.ephemeralPort(), uint16(53)
	if k == KindDNSResponse {
		src, dst, sport, dport = resolver, client, 53, sport
		d.QR, d.RA = true, true
		for i := range 1 + g.rng.IntN(3) {
			rr := layers.DNSResourceRecord{Name: name, Type: qtype, Class: layers.DNSClassIN, TTL: uint32(60 + g.rng.IntN(3600))}
			switch qtype {
			case layers.DNSTypeA:
				rr.IP = pool4[(i+g.rng.IntN(len(pool4)))%len(pool4)].AsSlice()
			case layers.DNSTypeAAAA:
				rr.IP = pool6[(i+g.rng.IntN(len(pool6)))%len(pool6)].AsSlice()
			case layers.DNSTypeMX:
				rr.MX = layers.DNSMX{Preference: uint16(10 * (i + 1)), Name: []byte(fmt.Sprintf("mx%d.%s", i+1, name))}
			}
			d.Answers = append(d.Answers, rr)
		}
	}
	udp := &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)}
	ls, ip := g.ipHeaders(src, dst, layers.IPProtocolUDP)
	udp.SetNetworkLayerForChecksum(ip)
	return g.serialize(k, append(ls, udp, d)...)
}

func (g *Generator) udpApp(k Kind, v6 bool) Packet {
	src, dst := g.endpoints(v6)
	udp := &layers.UDP{}
	var payload []byte
	if k == KindSIP {
		udp.SrcPort, udp.DstPort = 5060, 5060
		payload = sipMessage(g.rng, src.String(), dst.String())
	} else {
		udp.SrcPort = layers.UDPPort(16384 + 2*g.rng.IntN(1000)) // even ports, clear of other protocols
		udp.DstPort = layers.UDPPort(16384 + 2*g.rng.IntN(1000))
		payload = rtpPacket(g.rng)
	}
	ls, ip := g.ipHeaders(src, dst, layers.IPProtocolUDP)
	udp.SetNetworkLayerForChecksum(ip)
	return g.serialize(k, append(ls, udp, gopacket.Payload(payload))...)
}

func (g *Generator) icmpEcho(v6 bool) Packet {
	src, dst := g.endpoints(v6)
	data := make([]byte, 56)
	for i := range data {
		data[i] = byte(i)
	}
	id, seq := uint16(g.rng.Uint32()), uint16(g.rng.IntN(1000))
	reply := g.rng.IntN(2) == 0
	if !v6 {
		tc := layers.CreateICMPv4TypeCode(layers.ICMPv4TypeEchoRequest, 0)
		if reply {
			tc = layers.CreateICMPv4TypeCode(layers.ICMPv4TypeEchoReply, 0)
		}
		ls, _ := g.ipHeaders(src, dst, layers.IPProtocolICMPv4)
		return g.serialize(KindICMPEcho, append(ls, &layers.ICMPv4{TypeCode: tc, Id: id, Seq: seq}, gopacket.Payload(data))...)
	}
	tc := layers.CreateICMPv6TypeCode(layers.ICMPv6TypeEchoRequest, 0)
	if reply {
		tc = layers.CreateICMPv6TypeCode(layers.ICMPv6TypeEchoReply, 0)
	}
	ls, ip := g.ipHeaders(src, dst, layers.IPProtocolICMPv6)
	icmp := &layers.ICMPv6{TypeCode: tc}
	icmp.SetNetworkLayerForChecksum(ip)
	return g.serialize(KindICMPEcho, append(ls, icmp, &layers.ICMPv6Echo{Identifier: id, SeqNumber: seq}, gopacket.Payload(data))...)
}

func (g *Generator) neighborSolicitation() Packet {
	src, target := g.endpoints(true)
	t := target.As16()
	dst := netip.AddrFrom16([16]byte{0xff, 0x02, 10: 0, 11: 1, 12: 0xff, 13: t[13], 14: t[14], 15: t[15]})
	dstMAC := net.HardwareAddr{0x33, 0x33, 0xff, t[13], t[14], t[15]}
	ip := &layers.IPv6{Version: 6, HopLimit: 255, NextHeader: layers.IPProtocolICMPv6, SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
	icmp := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeNeighborSolicitation, 0)}
	icmp.SetNetworkLayerForChecksum(ip)
	ns := &layers.ICMPv6NeighborSolicitation{TargetAddress: target.AsSlice(),
		Options: layers.ICMPv6Options{{Type: layers.ICMPv6OptSourceAddress, Data: macOf(src)}}}
	ls := g.link(macOf(src), dstMAC, layers.EthernetTypeIPv6, false)
	return g.serialize(KindICMPv6ND, append(ls, ip, icmp, ns)...)
}

func (g *Generator) arp() Packet {
	a, b := g.endpoints(false)
	arp := &layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
		Operation: layers.ARPRequest, SourceHwAddress: macOf(a), SourceProtAddress: a.AsSlice(),
		DstHwAddress: make(net.HardwareAddr, 6), DstProtAddress: b.AsSlice()}
	dstMAC := net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	if g.rng.IntN(2) == 0 {
		arp.Operation = layers.ARPReply
		arp.DstHwAddress = macOf(b)
		dstMAC = macOf(b)
	}
	ls := g.link(macOf(a), dstMAC, layers.EthernetTypeARP, false)
	return g.serialize(KindARP, append(ls, arp)...)
}

// fragments builds a UDP datagram too large for one frame and returns its
// first fragment, queueing the others.
func (g *Generator) fragments(v6 bool) Packet {
	src, dst := g.endpoints(v6)
	size := 1600 + g.rng.IntN(2400)
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = byte(g.rng.Uint32())
	}
	// The whole UDP datagram, checksummed over the real addresses.
	udp := &layers.UDP{SrcPort: layers.UDPPort(g.ephemeralPort()), DstPort: layers.UDPPort(pick(g.rng, []uint16{4500, 5004, 9000}))}
	var csumIP gopacket.NetworkLayer = &layers.IPv4{SrcIP: src.AsSlice(), DstIP: dst.AsSlice(), Protocol: layers.IPProtocolUDP}
	if v6 {
		csumIP = &layers.IPv6{SrcIP: src.AsSlice(), DstIP: dst.AsSlice(), NextHeader: layers.IPProtocolUDP}
	}
	udp.SetNetworkLayerForChecksum(csumIP)
	if err := gopacket.SerializeLayers(g.buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, udp, gopacket.Payload(payload)); err != nil {
		panic(fmt.Sprintf("BUG: trafficgen: serialize datagram: %v", err))
	}
	datagram := append([]byte(nil), g.buf.Bytes()...)

	const chunk = 1448 // a multiple of 8 that fits a 1500-byte MTU with either header
	id := g.rng.Uint32()
	var out []Packet
	for off := 0; off < len(datagram); off += chunk {
		end := min(off+chunk, len(datagram))
		more := end < len(datagram)
		var ls []gopacket.SerializableLayer
		if !v6 {
			ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, Id: uint16(id), FragOffset: uint16(off / 8),
				SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
			if more {
				ip.Flags = layers.IPv4MoreFragments
			}
			ls = append(g.link(macOf(src), macOf(dst), layers.EthernetTypeIPv4, false), ip)
		} else {
			ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolIPv6Fragment, SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
			frag := &layers.IPv6Fragment{NextHeader: layers.IPProtocolUDP, FragmentOffset: uint16(off / 8), MoreFragments: more, Identification: id}
			ls = append(g.link(macOf(src), macOf(dst), layers.EthernetTypeIPv6, false), ip, frag)
		}
		out = append(out, g.serialize(KindIPFragment, append(ls, rawLayer(datagram[off:end]))...))
	}
	g.pending = append(g.pending, out[1:]...)
	return out[0]
}
