package sink

// espPrint prints an ESP header's SPI and sequence number and the length
// (esp_print without keys: the payload stays encrypted).
func (p *printer) espPrint(off, length int) {
	p.proto = "esp"
	if off+8 >= p.end {
		p.trunc()
		return
	}
	p.s("ESP(spi=0x")
	p.hexN(uint64(p.be32(off)), 8)
	p.s(",seq=0x")
	p.hexN(uint64(p.be32(off+4)), 1)
	p.s("), length ")
	p.u(uint64(length))
}

// nattPrint prints a datagram on the IPsec NAT traversal port
// (isakmp_rfc3948_print): a keep-alive, IKE (not decoded here) or ESP;
// false means the IKE message, which the caller prints as undecoded.
func (p *printer) nattPrint(off, length int) bool {
	p.proto = "isakmp_rfc3948"
	if length == 1 && p.has(off, 1) && p.pkt[off] == 0xff {
		p.s("isakmp-nat-keep-alive")
		return true
	}
	if length < 4 {
		p.trunc()
		return true
	}
	m := p.be32(off)
	if p.jumped {
		return true
	}
	if m == 0 {
		p.skip("udp payload")
		return false
	}
	p.s("UDP-encap: ")
	p.espPrint(off, length)
	return true
}

// nattOnly reports whether a datagram to or from port 4500 has no other
// port tcpdump's UDP dispatch takes first.
func nattOnly(sport, dport uint16) bool {
	other := dport
	if sport != 4500 {
		other = sport
	}
	return other == 4500 || !udpDecodedPort(other, other)
}

// bootpPrint prints a BOOTP/DHCP message's summary (bootp_print without
// -v): the operation, the client's hardware address in a request and
// the length. It reports false under -v, whose fields and options are
// not decoded here.
func (p *printer) bootpPrint(off, length int) bool {
	if p.o.Verbose > 0 {
		p.skip("udp payload")
		return false
	}
	p.proto = "bootp"
	op := p.u8(off)
	if p.jumped {
		return true
	}
	p.s("BOOTP/DHCP, ")
	switch op {
	case 1:
		p.s("Request")
	case 2:
		p.s("Reply")
	default:
		p.s("unknown (0x")
		p.hexN(uint64(op), 2)
		p.c(')')
	}
	htype, hlen := p.u8(off+1), p.u8(off+2)
	if p.jumped {
		return true
	}
	if htype == 1 && hlen == 6 && op == 1 {
		if !p.check(off+28, 6) {
			return true
		}
		p.s(" from ")
		p.mac(off+28, 6)
	}
	p.s(", length ")
	p.u(uint64(length))
	return true
}

var (
	bfdV0Flags = []bitName{{0x80, "I Hear You"}, {0x40, "Demand"}, {0x20, "Poll"}, {0x10, "Final"},
		{0x08, "Control Plane Independent"}, {0x04, "Authentication Present"}, {0x02, "Reserved"}, {0x01, "Reserved"}}
	bfdV1Flags = []bitName{{0x20, "Poll"}, {0x10, "Final"}, {0x08, "Control Plane Independent"},
		{0x04, "Authentication Present"}, {0x02, "Demand"}, {0x01, "Multipoint"}}
)

// bfdPrint prints a BFD control packet's summary (bfd_print without -v);
// false under -v and for other versions and echo packets, which are not
// decoded here.
func (p *printer) bfdPrint(off, length int, port uint16) bool {
	if p.o.Verbose > 0 || !p.has(off, 1) || p.pkt[off]>>5 > 1 {
		p.skip("udp payload")
		return false
	}
	p.proto = "bfd"
	if !p.check(off, 24) {
		return true
	}
	flags := p.pkt[off+1]
	if p.pkt[off]>>5 == 0 {
		p.s("BFDv0, Control, Flags: [")
		p.bitNames(uint32(flags), bfdV0Flags, "none")
	} else {
		p.s("BFDv1, ")
		switch port {
		case 3784:
			p.s("Control")
		case 4784:
			p.s("Multihop")
		default:
			p.s("Lag")
		}
		p.s(", State ")
		p.s([...]string{"AdminDown", "Down", "Init", "Up"}[flags>>6])
		p.s(", Flags: [")
		p.bitNames(uint32(flags&0x3f), bfdV1Flags, "none")
	}
	p.s("], length: ")
	p.u(uint64(length))
	return true
}

// vxlanPrint prints a VXLAN header and the Ethernet frame it carries
// (vxlan_print).
func (p *printer) vxlanPrint(off, length int) {
	p.proto = "vxlan"
	p.s("VXLAN")
	if length < 8 {
		p.s(" (invalid)")
		return
	}
	fl := p.u8(off)
	if p.jumped {
		return
	}
	p.s(", flags [")
	if fl&0x08 != 0 {
		p.c('I')
	} else {
		p.s("invalid")
	}
	p.s("] (0x")
	p.hexN(uint64(fl), 2)
	p.s("), ")
	if !p.check(off+4, 3) {
		return
	}
	p.s("vni ")
	p.u(uint64(p.pkt[off+4])<<16 | uint64(p.pkt[off+5])<<8 | uint64(p.pkt[off+6]))
	p.c('\n')
	if !p.check(off+7, 1) {
		return
	}
	p.proto = "ether"
	p.ether(off+8, length-8, max(p.end-off-8, 0))
}

// vxlanOnly reports whether a datagram to or from port 4789 has no other
// port tcpdump's UDP dispatch takes first.
func vxlanOnly(sport, dport uint16) bool {
	other := dport
	if sport != 4789 {
		other = sport
	}
	return other == 4789 || !udpDecodedPort(other, other)
}
