package packet

import "github.com/wringcap/wring/spec"

// This file walks the link types beyond Ethernet, raw IP, Linux cooked and
// BSD loopback down to their network layer (spec/RECORD.md, "Link layer"),
// with the header layouts tcpdump's printers and libpcap's code generator
// use.

// EtherTypes the link walkers map their own protocol numbers to.
const (
	EtherTypePPPoESession = 0x8864
	EtherTypeARP          = 0x0806
)

// maxLinkDepth bounds the encapsulating link headers (PKTAP, PPI) walked
// before the real link layer.
const maxLinkDepth = 2

// pktapMin is the size of Darwin's struct pktap_header.
const pktapMin = 108

// pppEtherType maps a PPP protocol number to the EtherType of what it
// carries (RFC 1332, 5072, 3032); 0 for anything else.
func pppEtherType(proto uint16) uint16 {
	switch proto {
	case 0x0021:
		return EtherTypeIPv4
	case 0x0057:
		return EtherTypeIPv6
	case 0x0281:
		return EtherTypeMPLS
	case 0x0283:
		return EtherTypeMPLSMC
	}
	return 0
}

// ppp walks a PPP header at off: the optional address and control bytes
// (0xff 0x03), then the protocol, one byte when its low bit is set
// (protocol-field compression), else two.
func (p *parser) ppp(off int) {
	d := p.data
	if len(d) >= off+2 && d[off] == 0xff && d[off+1] == 0x03 {
		off += 2
	}
	if len(d) < off+1 {
		p.flags |= spec.RecFlagTruncated
		return
	}
	proto := uint16(d[off])
	if proto&1 == 0 {
		if len(d) < off+2 {
			p.flags |= spec.RecFlagTruncated
			return
		}
		proto = be.Uint16(d[off:])
		off += 2
	} else {
		off++
	}
	if et := pppEtherType(proto); et != 0 {
		p.ether(off, et)
	}
}

// linkMore walks the link types other than the common ones.
func (p *parser) linkMore(lt spec.LinkType, off, depth int) {
	d := p.data
	switch lt {
	case spec.LinkPPP, spec.LinkPPPHDLC:
		// PPP in HDLC-like framing; a PPP_HDLC capture may hold Cisco
		// HDLC frames (address 0x0f or 0x8f), as tcpdump's printer knows.
		if lt == spec.LinkPPPHDLC && len(d) > off && (d[off] == 0x0f || d[off] == 0x8f) {
			p.chdlc(off)
			return
		}
		p.ppp(off)
	case spec.LinkPPPPPPD:
		// The address byte is a direction (0 in, 1 out), then control.
		if len(d) < off+2 {
			p.flags |= spec.RecFlagTruncated
			return
		}
		p.ppp(off + 2)
	case spec.LinkPPPEther:
		p.pppoe(off)
	case spec.LinkCHDLC:
		p.chdlc(off)
	case spec.LinkSLIP:
		// BSD/OS SLIP: a 16-byte pseudo-header (direction, type and the
		// compressed header), then IP by its version nibble.
		if len(d) < off+17 {
			p.flags |= spec.RecFlagTruncated
			return
		}
		switch d[off+16] >> 4 {
		case 4:
			p.ether(off+16, EtherTypeIPv4)
		case 6:
			p.ether(off+16, EtherTypeIPv6)
		}
	case spec.LinkFrelay:
		p.frelay(off)
	case spec.LinkNFLog:
		p.nflog(off)
	case spec.LinkPKTAP:
		// Apple's PKTAP: u32 header length (at least the 108 bytes of
		// struct pktap_header, as tcpdump requires), u32 type of what
		// follows (1: a packet) and u32 its link type, in host
		// (little-endian) order.
		if depth >= maxLinkDepth {
			return
		}
		if len(d) < off+pktapMin {
			p.flags |= spec.RecFlagTruncated
			return
		}
		n, inner := int(le.Uint32(d[off:])), spec.LinkType(le.Uint32(d[off+8:]))
		if n < pktapMin || n > len(d)-off {
			p.flags |= spec.RecFlagMalformed
			return
		}
		if le.Uint32(d[off+4:]) != 1 {
			return // not a packet
		}
		p.linkAt(inner, off+n, depth+1)
	case spec.LinkPPI:
		// Per-Packet Information: version, flags, u16 length and u32
		// link type, little-endian.
		if depth >= maxLinkDepth {
			return
		}
		if len(d) < off+8 {
			p.flags |= spec.RecFlagTruncated
			return
		}
		n, inner := int(le.Uint16(d[off+2:])), spec.LinkType(le.Uint32(d[off+4:]))
		if n < 8 || n > len(d)-off {
			p.flags |= spec.RecFlagMalformed
			return
		}
		p.linkAt(inner, off+n, depth+1)
	case spec.LinkIEEE802_11:
		p.wifi(off, false)
	case spec.LinkIEEE802_11Radio:
		p.radiotap(off)
	case spec.LinkArcnetBSD:
		p.arcnet(off, false)
	case spec.LinkArcnetLinux:
		p.arcnet(off, true)
	case spec.LinkIPoIB:
		// IP over InfiniBand: the 20-byte destination and source
		// hardware addresses, the EtherType at 40 and 2 reserved bytes;
		// 44 bytes, as libpcap's and tcpdump's IPoIB header.
		if len(d) < off+44 {
			p.flags |= spec.RecFlagTruncated
			return
		}
		p.ether(off+44, be.Uint16(d[off+40:]))
	}
}

// chdlc walks a Cisco HDLC header: address, control, EtherType.
func (p *parser) chdlc(off int) {
	if len(p.data) < off+4 {
		p.flags |= spec.RecFlagTruncated
		return
	}
	p.ether(off+4, be.Uint16(p.data[off+2:]))
}

// pppoe walks a PPPoE session header (RFC 2516: version/type, code,
// session id, length) and the PPP protocol after it.
func (p *parser) pppoe(off int) {
	d := p.data
	if len(d) < off+8 {
		p.flags |= spec.RecFlagTruncated
		return
	}
	if d[off] != 0x11 || d[off+1] != 0 { // version 1, type 1; session data
		return
	}
	if et := pppEtherType(be.Uint16(d[off+6:])); et != 0 {
		p.ether(off+8, et)
	}
}

// frelay walks a Frame Relay header (RFC 2427): a Q.922 address of two to
// four bytes (the last with its EA bit set), the UI control byte 0x03, an
// optional pad byte, and an NLPID: 0xcc IPv4, 0x8e IPv6, 0x80 SNAP; or,
// in Cisco's encapsulation, an EtherType right after the address.
func (p *parser) frelay(off int) {
	d := p.data
	i := off
	for ; i < len(d) && i < off+4; i++ {
		if d[i]&1 != 0 {
			break
		}
	}
	if i >= len(d) {
		p.flags |= spec.RecFlagTruncated
		return
	}
	if i == off || d[i]&1 == 0 {
		return // a one-byte or over-long address: not Q.922
	}
	i++
	if len(d) < i+2 {
		p.flags |= spec.RecFlagTruncated
		return
	}
	if d[i] != 0x03 {
		// Cisco's encapsulation: an EtherType right after the address.
		if et := be.Uint16(d[i:]); et >= 0x0600 {
			p.ether(i+2, et)
		}
		return
	}
	i++
	if d[i] == 0 { // pad
		i++
		if len(d) < i+1 {
			p.flags |= spec.RecFlagTruncated
			return
		}
	}
	switch d[i] {
	case 0xcc:
		p.ether(i+1, EtherTypeIPv4)
	case 0x8e:
		p.ether(i+1, EtherTypeIPv6)
	case 0x80: // SNAP: OUI, then an EtherType for OUI 0
		if len(d) < i+6 {
			p.flags |= spec.RecFlagTruncated
			return
		}
		if d[i+1] == 0 && d[i+2] == 0 && d[i+3] == 0 {
			p.ether(i+6, be.Uint16(d[i+4:]))
		}
	}
}

// nflog walks a Linux NFLOG header (family, version, resource id) and its
// TLVs (u16 length including the 4-byte header and u16 type, in host
// order, read little-endian; each padded to 4) to the payload TLV (type 9),
// which holds the packet from its network header.
func (p *parser) nflog(off int) {
	d := p.data
	if len(d) < off+4 {
		p.flags |= spec.RecFlagTruncated
		return
	}
	var et uint16
	switch d[off] {
	case 2:
		et = EtherTypeIPv4
	case 10:
		et = EtherTypeIPv6
	default:
		return
	}
	i := off + 4
	for n := 0; n < 64; n++ { // NFULA_* has fewer than 32 types
		if len(d) < i+4 {
			p.flags |= spec.RecFlagTruncated
			return
		}
		l, typ := int(le.Uint16(d[i:])), le.Uint16(d[i+2:])
		if l < 4 {
			p.flags |= spec.RecFlagMalformed
			return
		}
		if typ&0x7fff == 9 { // NFULA_PAYLOAD
			p.ether(i+4, et)
			return
		}
		i += (l + 3) &^ 3
	}
}

// radiotap walks a radiotap header (version 0, pad, u16 length, present
// words) to the 802.11 frame after it, reading the flags field for the
// frame check sequence and data padding.
func (p *parser) radiotap(off int) {
	d := p.data
	if len(d) < off+8 {
		p.flags |= spec.RecFlagTruncated
		return
	}
	n := int(le.Uint16(d[off+2:]))
	if d[off] != 0 || n < 8 || n > len(d)-off {
		if n > len(d)-off {
			p.flags |= spec.RecFlagTruncated
		} else {
			p.flags |= spec.RecFlagMalformed
		}
		return
	}
	// The present words: the first says which fields follow; bit 31
	// chains another word.
	present := le.Uint32(d[off+4:])
	i := off + 8
	for w := present; w&(1<<31) != 0; i += 4 {
		if i+4 > off+n {
			p.flags |= spec.RecFlagMalformed
			return
		}
		w = le.Uint32(d[i:])
	}
	padded := false
	if present&2 != 0 { // flags, after TSFT (8 bytes, 8-aligned) when present
		if present&1 != 0 {
			i = off + (i-off+7)&^7 + 8
		}
		if i < off+n {
			padded = d[i]&0x20 != 0
		}
	}
	p.wifi(off+n, padded)
}

// wifi walks an 802.11 data frame (frame control, duration, addresses,
// sequence control, the fourth address from a distribution system to
// another, QoS control, HT control) and its LLC/SNAP header. Protected
// frames and frames without a body stop at the MAC header. padded: the
// radiotap flags say the header is padded to 4 bytes.
func (p *parser) wifi(off int, padded bool) {
	d := p.data
	if len(d) < off+24 {
		p.flags |= spec.RecFlagTruncated
		return
	}
	fc0, fc1 := d[off], d[off+1]
	if fc0&0x0c != 0x08 || fc0&0x03 != 0 { // data frames of version 0
		return
	}
	sub := fc0 >> 4
	if sub&0x04 != 0 || fc1&0x40 != 0 { // no data (Null, QoS Null...), or protected
		return
	}
	n := 24
	if fc1&0x03 == 0x03 {
		n += 6
	}
	if sub&0x08 != 0 { // QoS data
		n += 2
		if fc1&0x80 != 0 { // +HTC
			n += 4
		}
	}
	if padded {
		n = (n + 3) &^ 3
	}
	i := off + n
	if len(d) < i+8 {
		p.flags |= spec.RecFlagTruncated
		return
	}
	// LLC/SNAP: RFC 1042 (OUI 0) or 802.1H bridge tunnel (00-00-f8).
	if d[i] != 0xaa || d[i+1] != 0xaa || d[i+2] != 0x03 || d[i+3] != 0 || d[i+4] != 0 || (d[i+5] != 0 && d[i+5] != 0xf8) {
		return
	}
	p.ether(i+8, be.Uint16(d[i+6:]))
}

// arcnet walks an ARCNET header: BSD (source, destination, type) or Linux
// (source, destination, u16 offset, type). The RFC 1201 types (IP 0xd4,
// IPv6 0xc4, ARP 0xd5) add a split flag and a u16 sequence number, and an
// exception frame (flag 0xff) four bytes more; the RFC 1051 types (IP
// 0xf0, ARP 0xf1) do not.
func (p *parser) arcnet(off int, linux bool) {
	d := p.data
	t := off + 2
	if linux {
		t = off + 4
	}
	if len(d) < t+1 {
		p.flags |= spec.RecFlagTruncated
		return
	}
	var et uint16
	n := t + 1
	switch d[t] {
	case 0xf0:
		et = EtherTypeIPv4
	case 0xd4, 0xc4:
		et = EtherTypeIPv4
		if d[t] == 0xc4 {
			et = EtherTypeIPv6
		}
		if len(d) < t+2 {
			p.flags |= spec.RecFlagTruncated
			return
		}
		n = t + 4
		if d[t+1] == 0xff {
			n += 4
		}
	default:
		return
	}
	if len(d) < n {
		p.flags |= spec.RecFlagTruncated
		return
	}
	p.ether(n, et)
}
