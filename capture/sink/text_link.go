package sink

import "github.com/wringcap/wring/spec"

// etherTypeName is tok2str(ethertype_values, "Unknown", t).
func etherTypeName(t uint16) string {
	if n, ok := ethertypeNames[uint32(t)]; ok {
		return n
	}
	return "Unknown"
}

// etherType prints "ethertype NAME (0x....)" (ether_type_print).
func (p *printer) etherType(t uint16) {
	if p.o.Quiet {
		if n, ok := ethertypeNames[uint32(t)]; ok {
			p.s(n)
		} else {
			p.s("Unknown Ethertype (0x")
			p.hexN(uint64(t), 4)
			p.c(')')
		}
		return
	}
	p.s("ethertype ")
	p.s(etherTypeName(t))
	p.s(" (0x")
	p.hexN(uint64(t), 4)
	p.c(')')
}

// etherAddrs prints "src > dst, ".
func (p *printer) etherAddrs(off int) {
	p.mac(off+6, 6)
	p.s(" > ")
	p.mac(off, 6)
	p.s(", ")
}

// ether decodes an Ethernet frame at off and returns its header length
// (ether_common_print).
func (p *printer) ether(off, length, caplen int) int {
	if length < caplen {
		p.s("[length ")
		p.u(uint64(length))
		p.s(" < caplen ")
		p.u(uint64(caplen))
		p.s("] (invalid)")
		return length
	}
	if caplen < 14 {
		p.trunc()
		return caplen
	}
	origLength := length
	length -= 12
	caplen -= 12
	hdrlen := 12
	if p.o.LinkHeader {
		p.etherAddrs(off)
	}
	q := off + 12
	printedLength := false
recurse:
	lt := p.be16(q)
	length -= 2
	caplen -= 2
	q += 2
	hdrlen += 2
	if lt == 0x88e5 {
		// IEEE 802.1AE: the payload follows the SecTAG unless it is
		// encrypted or the header is cut short.
		p.skip("ethertype")
		if p.o.LinkHeader {
			p.etherType(lt)
			p.s(", length ")
			p.u(uint64(origLength))
			p.s(": ")
			printedLength = true
		}
		if n, more := p.macsec(off, &q, &length, &caplen, &hdrlen); !more {
			return n
		}
		lt = p.be16(q)
		if caplen < 2 {
			return hdrlen
		}
		length -= 2
		caplen -= 2
		q += 2
		hdrlen += 2
	}
	for lt == 0x8100 || lt == 0x9100 || lt == 0x9200 || lt == 0x88a8 {
		if caplen < 4 {
			p.proto = "vlan"
			p.trunc()
			return hdrlen + caplen
		}
		if length < 4 {
			p.proto = "vlan"
			p.trunc()
			return hdrlen + length
		}
		if p.o.LinkHeader {
			tag := p.be16(q)
			p.etherType(lt)
			if !printedLength {
				p.s(", length ")
				p.u(uint64(origLength))
				p.s(": ")
				printedLength = true
			} else {
				p.s(", ")
			}
			p.s("vlan ")
			p.u(uint64(tag & 0xfff))
			p.s(", p ")
			p.u(uint64(tag >> 13))
			if tag&0x1000 != 0 {
				p.s(", DEI")
			}
			p.s(", ")
		}
		lt = p.be16(q + 2)
		q += 4
		length -= 4
		caplen -= 4
		hdrlen += 4
	}
	if lt == 0x8870 {
		// Jumbo LLC: tcpdump decodes it.
		p.skip("ethertype")
		return hdrlen
	}
	if lt <= 1500 {
		// An IEEE 802.3 length: LLC follows, which is not decoded; tcpdump's
		// header length includes the LLC header it decodes.
		if int(lt) < length {
			length = int(lt)
			if caplen > length {
				caplen = length
			}
		}
		if p.o.LinkHeader {
			p.s("802.3")
			if !printedLength {
				p.s(", length ")
				p.u(uint64(length))
				p.s(": ")
			}
		}
		saved := p.end
		p.end = min(p.end, q+length)
		n := p.llc(q, length, caplen)
		if p.undecoded == "llc" && !p.o.LinkHeader {
			// Not decoded: the frame's addresses and bytes, as for an
			// EtherType tcpdump does not know.
			p.etherAddrs(off)
			p.s("802.3, length ")
			p.u(uint64(length))
			p.s(": ")
			p.defaultPrint(q, min(caplen, max(p.end-q, 0)))
		} else if p.undecoded == "llc" {
			p.defaultPrint(q, min(caplen, max(p.end-q, 0)))
		}
		hdrlen += n
		p.end = saved
		return hdrlen
	}
	if lt == 0xd28b {
		// Arista's vendor header: a known one is skipped and the
		// EtherType after it decoded, as after the MAC addresses.
		p.skip("ethertype")
		if caplen < 2 || length < 2 {
			p.s("[|arista]")
			return hdrlen + min(caplen, length)
		}
		p.etherType(lt)
		p.s(", length ")
		p.u(uint64(origLength))
		p.s(": ")
		if n := p.aristaLen(q); n > 0 {
			q += n
			length -= n
			caplen -= n
			hdrlen += n
			goto recurse
		}
		if p.jumped {
			return hdrlen
		}
		if !p.o.LinkHeader {
			p.etherAddrs(off)
			p.etherType(lt)
			p.s(", length ")
			p.u(uint64(origLength))
			p.s(": ")
		}
		p.defaultPrint(q, caplen)
		return hdrlen
	}
	if p.o.LinkHeader {
		p.etherType(lt)
		if !printedLength {
			p.s(", length ")
			p.u(uint64(origLength))
			p.s(": ")
		} else {
			p.s(", ")
		}
	}
	if !p.etherTypeBody(lt, q, length, caplen) {
		if !p.o.LinkHeader {
			p.etherAddrs(off)
			p.etherType(lt)
			p.s(", length ")
			p.u(uint64(origLength))
			p.s(": ")
		}
		p.defaultPrint(q, caplen)
	}
	return hdrlen
}

// etherTypeBody decodes the network layer named by an EtherType and
// reports whether it knew the type (ethertype_print).
func (p *printer) etherTypeBody(t uint16, off, length, caplen int) bool {
	switch t {
	case 0x0800:
		p.ip(off, length)
	case 0x86dd:
		p.ip6(off, length)
	case 0x0806, 0x8035:
		p.arp(off, length, caplen)
	case 0x8847, 0x8848:
		p.mpls(off, length)
	case 0x8809:
		p.slowPrint(off, length)
	case 0x6003, 0x809b, 0x80f3, 0x8137, 0xfefe, 0x8863, 0x8864, 0x3c12, 0x3c13, 0x888e, 0x8899, 0x880b, 0x8808,
		0x8902, 0xabcd, 0x88cc, 0x894f, 0x9000, 0x88ca, 0x886f, 0x0707, 0x8947, 0x1111,
		0x88a2, 0x88f7:
		// tcpdump decodes these; this printer prints them as it prints an
		// EtherType it does not know.
		p.skip("ethertype")
		p.etherTypeReads(t, off, length)
		return false
	default:
		return false
	}
	return true
}

// llc handles an 802.2 LLC header, which is not decoded: it prints the
// undecoded bytes the way tcpdump prints an unknown LLC and returns the
// header length tcpdump counts.
func (p *printer) llc(off, length, caplen int) int {
	p.proto = "llc"
	if caplen < 3 || length < 3 {
		p.trunc()
		p.defaultPrint(off, caplen)
		return min(caplen, length)
	}
	hdrlen := 3
	if p.u8(off+2)&3 != 3 {
		if caplen < 4 || length < 4 {
			p.trunc()
			p.defaultPrint(off, caplen)
			return min(caplen, length)
		}
		hdrlen = 4
	}
	dsap, ssap := p.u8(off), p.u8(off+1)
	if dsap != 0xff && dsap&^1 == 0x42 && ssap&^1 == 0x42 && hdrlen == 3 && p.u8(off+2) == 0x03 {
		// Spanning tree.
		mark := len(p.b)
		if p.o.LinkHeader {
			p.s("LLC, dsap STP (0x42) ")
			if dsap&1 != 0 {
				p.s("Group")
			} else {
				p.s("Individual")
			}
			p.s(", ssap STP (0x42) ")
			if ssap&1 != 0 {
				p.s("Response")
			} else {
				p.s("Command")
			}
			p.s(", ctrl 0x03: ")
		}
		if p.stpPrint(off+3, length-3) {
			return hdrlen
		}
		p.b = p.b[:mark]
	}
	p.skip("llc")
	switch {
	case dsap == 0xff && ssap == 0xff:
		// Novell's raw 802.3 IPX: no LLC header at all.
		return 0
	case dsap&^1 == 0xaa && ssap&^1 == 0xaa && hdrlen == 3 && p.u8(off+2) == 0x03:
		// SNAP: tcpdump's header length includes the OUI and type.
		return hdrlen + 5
	}
	return hdrlen
}

// null decodes BSD loopback (DLT_NULL and DLT_LOOP).
func (p *printer) null(lt spec.LinkType, length int) int {
	p.proto = "null"
	if !p.has(0, 4) {
		p.jump()
		return 0
	}
	fam := uint32(p.pkt[0]) | uint32(p.pkt[1])<<8 | uint32(p.pkt[2])<<16 | uint32(p.pkt[3])<<24
	if fam&0xffff0000 != 0 {
		fam = fam>>24 | fam>>8&0xff00 | fam<<8&0xff0000 | fam<<24
	}
	if p.o.LinkHeader {
		p.nullHeader(fam, length)
	}
	switch fam {
	case 2:
		p.ip(4, length-4)
	case 24, 28, 30:
		p.ip6(4, length-4)
	default:
		if !p.o.LinkHeader {
			p.nullHeader(fam, length)
		}
		p.defaultPrint(4, p.end-4)
	}
	return 4
}

func (p *printer) nullHeader(fam uint32, length int) {
	p.s("AF ")
	switch fam {
	case 2:
		p.s("IPv4")
	case 24, 28, 30:
		p.s("IPv6")
	case 7:
		p.s("OSI")
	case 16:
		p.s("Appletalk")
	case 23:
		p.s("Novell")
	default:
		p.s("Unknown")
	}
	p.s(" (")
	p.u(uint64(fam))
	p.s("), length ")
	p.u(uint64(length))
	p.s(": ")
}

// raw decodes a link type that carries IP directly.
func (p *printer) raw(lt spec.LinkType, length int) {
	if p.o.LinkHeader {
		p.s("ip: ")
	}
	// tcpdump decodes LINKTYPE_IPV4 and LINKTYPE_IPV6 by the version
	// field too (ipN_print).
	p.proto = "ipn"
	if length < 1 {
		p.s("truncated-ip ")
		p.u(uint64(length))
		return
	}
	switch v := p.u8(0) & 0xf0; v {
	case 0x40:
		p.ip(0, length)
	case 0x60:
		p.ip6(0, length)
	default:
		p.s("unknown ip ")
		p.u(uint64(v >> 4))
	}
}

// sll decodes Linux cooked capture (LINUX_SLL).
func (p *printer) sll(length int) int {
	p.proto = "sll"
	if !p.has(0, 16) {
		p.jump()
		return 0
	}
	if p.o.LinkHeader {
		p.sllHeader(length)
	}
	length -= 16
	caplen := p.end - 16
	q, hdrlen := 16, 16
	if p.be16(2) == 803 {
		p.skip("802.11")
		return hdrlen
	}
	t := p.be16(14)
	for {
		switch {
		case t <= 1500:
			p.defaultPrintSLL(t, q, length, caplen, &hdrlen)
			return hdrlen
		case t == 0x8100:
			if caplen < 4 {
				p.proto = "vlan"
				p.trunc()
				return hdrlen + caplen
			}
			if p.o.LinkHeader {
				tag := p.be16(q)
				p.s("vlan ")
				p.u(uint64(tag & 0xfff))
				p.s(", p ")
				p.u(uint64(tag >> 13))
				if tag&0x1000 != 0 {
					p.s(", DEI")
				}
				p.s(", ")
			}
			t = p.be16(q + 2)
			if t <= 1500 {
				t = 4
			}
			if !p.o.Quiet {
				p.s("ethertype ")
				p.s(etherTypeName(t))
				p.s(", ")
			}
			q += 4
			length -= 4
			caplen -= 4
			hdrlen += 4
			continue
		}
		if !p.etherTypeBody(t, q, length, caplen) {
			if !p.o.LinkHeader {
				p.sllHeader(length + 16)
			}
			p.defaultPrint(q, caplen)
		}
		return hdrlen
	}
}

// defaultPrintSLL handles a Linux cooked frame whose protocol field is a
// length: 802.2 LLC, raw 802.3 (IPX), or bytes tcpdump dumps.
func (p *printer) defaultPrintSLL(t uint16, q, length, caplen int, hdrlen *int) {
	if t == 4 {
		*hdrlen += p.llc(q, length, caplen)
		return
	}
	if t == 1 {
		p.skip("ipx")
		return
	}
	p.defaultPrint(q, caplen)
}

// sllHeader prints the cooked header as -e shows it (sll_print).
func (p *printer) sllHeader(length int) {
	var dir string
	switch p.be16(0) {
	case 0:
		dir = " In"
	case 1:
		dir = "  B"
	case 2:
		dir = "  M"
	case 3:
		dir = "  P"
	case 4:
		dir = "Out"
	default:
		dir = "  ?"
	}
	p.s(dir)
	p.c(' ')
	if p.be16(4) == 6 {
		p.mac(6, 6)
		p.c(' ')
	}
	if !p.o.Quiet {
		t := p.be16(14)
		if t <= 1500 {
			switch t {
			case 1:
				p.s("802.3")
			case 4:
				p.s("802.2")
			default:
				p.s("ethertype Unknown (0x")
				p.hexN(uint64(t), 4)
				p.c(')')
			}
		} else {
			p.s("ethertype ")
			p.s(etherTypeName(t))
			p.s(" (0x")
			p.hexN(uint64(t), 4)
			p.c(')')
		}
		p.s(", length ")
		p.u(uint64(length))
		p.s(": ")
	}
}

// chdlc decodes Cisco HDLC (chdlc_print); its header is 4 bytes.
func (p *printer) chdlc(length int) int {
	p.proto = "chdlc"
	if length < 4 {
		p.trunc()
		return 0
	}
	proto := p.be16(2)
	if p.jumped {
		return 0
	}
	if p.o.LinkHeader {
		switch c := p.pkt[0]; c {
		case 0x0f:
			p.s("unicast")
		case 0x8f:
			p.s("bcast")
		default:
			p.s("0x")
			p.hexN(uint64(c), 2)
		}
		p.s(", ethertype ")
		p.s(etherTypeName(proto))
		p.s(" (0x")
		p.hexN(uint64(proto), 4)
		p.s("), length ")
		p.u(uint64(length))
		p.s(": ")
	}
	switch proto {
	case 0x0800:
		p.ip(4, length-4)
	case 0x86dd:
		p.ip6(4, length-4)
	case 0x8847, 0x8848:
		p.mpls(4, length-4)
	case 0xfefe:
		// OSI, after a fudge byte when one of the ISO headers
		// follows it.
		if length-4 < 2 {
			p.trunc()
			return p.end
		}
		if b := p.u8(5); b == 0x81 || b == 0x82 || b == 0x83 {
			p.isoclns(5, length-5, "chdlc protocol")
		} else if !p.jumped {
			p.isoclns(4, length-4, "chdlc protocol")
		}
	case 0x8035:
		p.skip("chdlc protocol")
	default:
		if !p.o.LinkHeader {
			p.s("unknown CHDLC protocol (0x")
			p.hexN(uint64(proto), 4)
			p.c(')')
		}
	}
	return 4
}

// ppp decodes PPP (ppp_if_print, ppp_print) for IPv4 and IPv6; the link
// header tcpdump leaves out of -x is always 4 bytes.
func (p *printer) ppp(length int) int {
	p.proto = "ppp"
	if p.end < 4 {
		p.trunc()
		return p.end
	}
	if p.o.LinkHeader {
		p.skip("ppp header")
		return 4
	}
	if length < 2 {
		p.trunc()
		return 4
	}
	q, n := 0, length
	switch p.be16(0) {
	case 0x0003, 0x0103, 0xff03:
		q, n = 2, n-2
	}
	if n < 2 {
		p.trunc()
		return 4
	}
	var proto uint16
	if p.u8(q)%2 != 0 {
		proto = uint16(p.u8(q))
		q, n = q+1, n-1
	} else {
		proto = p.be16(q)
		q, n = q+2, n-2
	}
	switch proto {
	case 0x0021, 0x0800, 0x002d:
		p.ip(q, n)
	case 0x0057, 0x86dd:
		p.ip6(q, n)
	case 0x0281, 0x0283:
		p.mpls(q, n)
	default:
		p.skip("ppp protocol")
	}
	return 4
}
