package packet

import "github.com/wringcap/wring/spec"

// TunnelRecord is the tunnel record of spec/TUNNEL.md: the outer packet of
// a decapsulated one.
type TunnelRecord [spec.TunnelRecordSize]byte

// Type returns the tunnel type, spec.TunnelNone when the packet was not
// decapsulated.
func (t *TunnelRecord) Type() spec.TunnelType { return spec.TunnelType(t[spec.TunType]) }

// ID returns the GRE key, VNI or TEID (0 when the header has none).
func (t *TunnelRecord) ID() uint32 { return le.Uint32(t[spec.TunID:]) }

// Inner returns the offset of the inner packet and its link type.
func (t *TunnelRecord) Inner() (uint16, spec.LinkType) {
	return le.Uint16(t[spec.TunInner:]), spec.LinkType(le.Uint16(t[spec.TunInnerLink:]))
}

// OuterL3 returns the offset of the outer IP header, spec.NoOffset for a
// link-layer encapsulation (NSH on Ethernet, MACsec).
func (t *TunnelRecord) OuterL3() uint16 { return le.Uint16(t[spec.TunOuterL3:]) }

// OuterL4 returns the offset of what follows the outer IP header, or of
// the NSH header or SecTAG of a link-layer encapsulation.
func (t *TunnelRecord) OuterL4() uint16 { return le.Uint16(t[spec.TunOuterL4:]) }

// Well-known ports and numbers of the tunnels ParseInner enters.
const (
	PortVXLAN        = 4789
	PortVXLANGPE     = 4790
	PortGeneve       = 6081
	PortGTPU         = 2152
	ProtoGRE         = 47
	ProtoIPIP        = 4
	ProtoIPv6        = 41
	ProtoPIM         = 103
	EtherTypeTransEB = 0x6558 // transparent Ethernet bridging
	EtherTypeERSPAN  = 0x88be // ERSPAN types I and II in GRE
	EtherTypeERSPAN3 = 0x22eb // ERSPAN type III in GRE
	EtherTypeWCCP    = 0x883e // WCCP redirection in GRE
	EtherTypeNSH     = 0x894f // network service header
	EtherTypeMACsec  = 0x88e5 // IEEE 802.1AE
)

// macsecICV is the length of the integrity check value that ends a MACsec
// frame (the GCM-AES cipher suites of IEEE 802.1AE).
const macsecICV = 16

// tunnelHit is a tunnel header the parser recognised.
type tunnelHit struct {
	typ   spec.TunnelType
	id    uint32
	inner int    // offset of the inner packet
	et    uint16 // its EtherType: EtherTypeTransEB for Ethernet
	// MACsec: the inner packet ends before the ICV, at end, or, when
	// end is 0, macsecICV bytes before the frame's wire end.
	icv bool
	end int
}

// ParseInner fills rec as Parse does, except that a packet carried in one
// of the tunnels of spec.TunnelType is described from its inner packet:
// rec holds the inner packet's layers (its offsets still count from the
// start of data, its lengths and metadata are the captured packet's), and
// tun the outer packet (addresses, ports, offsets, tunnel type and id).
// For any other packet, rec is what Parse gives and tun's type is
// TunnelNone. One tunnel header is removed (an NSH header inside GRE or
// VXLAN-GPE goes with it); a tunnel inside the inner packet is described
// as the inner packet's protocol. Like Parse it never allocates, never
// panics and never reads past data.
func ParseInner(info Info, data []byte, rec *Record, tun *TunnelRecord) {
	var p parser
	p.data = data
	p.l3, p.l4, p.pay = spec.NoOffset, spec.NoOffset, spec.NoOffset
	if uint64(len(data)) < uint64(info.WireLen) {
		p.flags = spec.RecFlagTruncated
	}
	if info.LinkType == spec.LinkEthernet && len(data) >= 14 && be.Uint16(data[12:]) >= 0x0600 {
		p.ether(14, be.Uint16(data[12:]))
	} else {
		p.link(info.LinkType)
	}
	*tun = TunnelRecord{}
	h := p.tunnel()
	if h.typ == spec.TunnelNone {
		p.write(info, rec)
		return
	}
	tun[spec.TunType] = byte(h.typ)
	tun[spec.TunIPVersion] = p.ipv
	tun[spec.TunIPProto] = p.proto
	tun[spec.TunDepth] = 1
	le.PutUint32(tun[spec.TunID:], h.id)
	le.PutUint16(tun[spec.TunOuterL3:], p.l3)
	outerL4 := p.l4
	if p.ipv == 0 { // a link-layer encapsulation: where its header starts
		outerL4 = p.netOff
	}
	le.PutUint16(tun[spec.TunOuterL4:], outerL4)
	le.PutUint16(tun[spec.TunInner:], uint16(h.inner))
	if p.proto == ProtoUDP {
		le.PutUint16(tun[spec.TunSrcPort:], p.sport)
		le.PutUint16(tun[spec.TunDstPort:], p.dport)
	}
	le.PutUint32(tun[spec.TunFlags:], p.flags)
	be.PutUint64(tun[spec.TunSrcAddr:], p.src0)
	be.PutUint64(tun[spec.TunSrcAddr+8:], p.src1)
	be.PutUint64(tun[spec.TunDstAddr:], p.dst0)
	be.PutUint64(tun[spec.TunDstAddr+8:], p.dst1)

	var q parser
	q.data = data
	if h.icv {
		// The ICV is not part of the protected packet.
		end := h.end
		if end == 0 {
			end = int(info.WireLen) - macsecICV
		}
		if end >= h.inner && end < len(data) {
			q.data = data[:end]
		}
	}
	q.l3, q.l4, q.pay = spec.NoOffset, spec.NoOffset, spec.NoOffset
	q.flags = p.flags & spec.RecFlagTruncated
	if h.et == EtherTypeTransEB {
		le.PutUint16(tun[spec.TunInnerLink:], uint16(spec.LinkEthernet))
		q.linkAt(spec.LinkEthernet, h.inner, maxLinkDepth)
	} else {
		le.PutUint16(tun[spec.TunInnerLink:], uint16(spec.LinkRaw))
		q.ether(h.inner, h.et)
	}
	q.write(info, rec)
	le.PutUint32(rec[spec.RecCapLen:], uint32(len(data)))
}

// tunnel recognises a tunnel header after the outer packet's IP header,
// or a link-layer encapsulation (NSH, MACsec) where the outer packet has
// no IP.
func (p *parser) tunnel() tunnelHit {
	d := p.data
	if p.ipv == 0 {
		switch p.et {
		case EtherTypeMACsec:
			return p.macsec(int(p.netOff))
		case EtherTypeNSH:
			if inner, et, id, ok := p.nsh(int(p.netOff)); ok {
				return tunnelHit{typ: spec.TunnelNSH, id: id, inner: inner, et: et}
			}
		}
		return tunnelHit{}
	}
	if p.l4 == spec.NoOffset || p.flags&spec.RecFlagFragment != 0 {
		return tunnelHit{}
	}
	off := int(p.l4)
	switch p.proto {
	case ProtoIPIP, ProtoIPv6:
		if len(d) <= off {
			return tunnelHit{}
		}
		if p.proto == ProtoIPIP && d[off]>>4 == 4 {
			return tunnelHit{typ: spec.TunnelIPIP, inner: off, et: EtherTypeIPv4}
		}
		if p.proto == ProtoIPv6 && d[off]>>4 == 6 {
			return tunnelHit{typ: spec.TunnelIP6IP, inner: off, et: EtherTypeIPv6}
		}
	case ProtoGRE:
		return p.gre(off)
	case ProtoPIM:
		// PIMv2 Register (version 2, type 1): reserved and checksum, the
		// border and null-register bits, then the multicast packet.
		if len(d) < off+9 || d[off] != 0x21 {
			return tunnelHit{}
		}
		switch d[off+8] >> 4 {
		case 4:
			return tunnelHit{typ: spec.TunnelPIM, inner: off + 8, et: EtherTypeIPv4}
		case 6:
			return tunnelHit{typ: spec.TunnelPIM, inner: off + 8, et: EtherTypeIPv6}
		}
	case ProtoUDP:
		if p.pay == spec.NoOffset {
			return tunnelHit{}
		}
		pay := int(p.pay)
		switch {
		case p.dport == PortVXLAN:
			if len(d) < pay+8+14 || d[pay]&0x08 == 0 {
				return tunnelHit{}
			}
			return tunnelHit{typ: spec.TunnelVXLAN, id: be.Uint32(d[pay+4:]) >> 8, inner: pay + 8, et: EtherTypeTransEB}
		case p.dport == PortVXLANGPE:
			return p.vxlanGPE(pay)
		case p.dport == PortGeneve:
			if len(d) < pay+8 || d[pay]>>6 != 0 {
				return tunnelHit{}
			}
			n := pay + 8 + int(d[pay]&0x3f)*4
			et := be.Uint16(d[pay+2:])
			if len(d) <= n || (et != EtherTypeTransEB && et != EtherTypeIPv4 && et != EtherTypeIPv6) {
				return tunnelHit{}
			}
			return tunnelHit{typ: spec.TunnelGeneve, id: be.Uint32(d[pay+4:]) >> 8, inner: n, et: et}
		case p.dport == PortGTPU || p.sport == PortGTPU:
			return p.gtpu(pay)
		}
	}
	return tunnelHit{}
}

// gre recognises a GRE header (version 0, no source routing) at off: the
// checksum, key and sequence fields by their flag bits, then IP, Ethernet,
// WCCP's redirect header, NSH, or ERSPAN.
func (p *parser) gre(off int) tunnelHit {
	d := p.data
	if len(d) < off+4 {
		return tunnelHit{}
	}
	fl, et := be.Uint16(d[off:]), be.Uint16(d[off+2:])
	if fl&0x0007 != 0 || fl&0x4000 != 0 { // version 0 only; no source routing
		return tunnelHit{}
	}
	n := off + 4
	if fl&0x8000 != 0 { // checksum and reserved
		n += 4
	}
	var key uint32
	if fl&0x2000 != 0 {
		if len(d) < n+4 {
			return tunnelHit{}
		}
		key = be.Uint32(d[n:])
		n += 4
	}
	if fl&0x1000 != 0 { // sequence number
		n += 4
	}
	if len(d) < n {
		return tunnelHit{}
	}
	switch et {
	case EtherTypeIPv4, EtherTypeIPv6, EtherTypeTransEB:
		return tunnelHit{typ: spec.TunnelGRE, id: key, inner: n, et: et}
	case EtherTypeWCCP:
		// WCCPv2 puts a 4-byte redirect header before the IPv4 packet,
		// WCCPv1 does not: told apart by the version nibble, as
		// Wireshark's GRE dissector does.
		if len(d) > n && d[n]>>4 != 4 {
			n += 4
		}
		if len(d) <= n || d[n]>>4 != 4 {
			return tunnelHit{}
		}
		return tunnelHit{typ: spec.TunnelGRE, id: key, inner: n, et: EtherTypeIPv4}
	case EtherTypeNSH:
		if inner, iet, _, ok := p.nsh(n); ok {
			return tunnelHit{typ: spec.TunnelGRE, id: key, inner: inner, et: iet}
		}
	case EtherTypeERSPAN:
		if fl&0x1000 == 0 {
			// Type I: no sequence number and no ERSPAN header.
			return tunnelHit{typ: spec.TunnelERSPAN, inner: n, et: EtherTypeTransEB}
		}
		// Type II: version 1, VLAN, then COS, encapsulation, truncation
		// and the 10-bit session id; index. 8 bytes.
		if len(d) < n+8 || d[n]>>4 != 1 {
			return tunnelHit{}
		}
		return tunnelHit{typ: spec.TunnelERSPAN, id: uint32(be.Uint16(d[n+2:]) & 0x3ff), inner: n + 8, et: EtherTypeTransEB}
	case EtherTypeERSPAN3:
		// Type III: version 2, VLAN, COS, BSO, T and the session id,
		// timestamp, SGT, then P, frame type (0: Ethernet), hardware id,
		// D, granularity and O, which adds an 8-byte platform subheader.
		if len(d) < n+12 || d[n]>>4 != 2 || (d[n+10]>>2)&0x1f != 0 {
			return tunnelHit{}
		}
		m := n + 12
		if d[n+11]&1 != 0 {
			m += 8
		}
		if len(d) < m {
			return tunnelHit{}
		}
		return tunnelHit{typ: spec.TunnelERSPAN, id: uint32(be.Uint16(d[n+2:]) & 0x3ff), inner: m, et: EtherTypeTransEB}
	}
	return tunnelHit{}
}

// vxlanGPE recognises a VXLAN-GPE header at off: flags (version 0; P: the
// next-protocol field is valid, else Ethernet follows), next protocol (1
// IPv4, 2 IPv6, 3 Ethernet, 4 NSH) and the VNI.
func (p *parser) vxlanGPE(off int) tunnelHit {
	d := p.data
	if len(d) < off+8 || d[off]&0x30 != 0 {
		return tunnelHit{}
	}
	h := tunnelHit{typ: spec.TunnelVXLANGPE, id: be.Uint32(d[off+4:]) >> 8, inner: off + 8, et: EtherTypeTransEB}
	if d[off]&0x04 == 0 {
		return h
	}
	switch d[off+3] {
	case 1:
		h.et = EtherTypeIPv4
	case 2:
		h.et = EtherTypeIPv6
	case 3:
	case 4:
		inner, et, _, ok := p.nsh(off + 8)
		if !ok {
			return tunnelHit{}
		}
		h.inner, h.et = inner, et
	default:
		return tunnelHit{}
	}
	return h
}

// nsh walks a network service header (RFC 8300) at off: version 0, its
// length in 4-byte words (at least the base and service path headers),
// and the next protocol (1 IPv4, 2 IPv6, 3 Ethernet). It returns the
// inner packet's offset and EtherType and the service path header (SPI<<8
// | SI).
func (p *parser) nsh(off int) (int, uint16, uint32, bool) {
	d := p.data
	if len(d) < off+8 || d[off]>>6 != 0 {
		return 0, 0, 0, false
	}
	n := int(be.Uint16(d[off:])&0x3f) * 4
	if n < 8 || len(d) < off+n {
		return 0, 0, 0, false
	}
	var et uint16
	switch d[off+3] {
	case 1:
		et = EtherTypeIPv4
	case 2:
		et = EtherTypeIPv6
	case 3:
		et = EtherTypeTransEB
	default:
		return 0, 0, 0, false
	}
	return off + n, et, be.Uint32(d[off+4:]), true
}

// macsec recognises a MACsec SecTAG at off (after the 0x88e5 EtherType):
// TCI and association number (version 0; neither E nor C: the data is
// neither encrypted nor changed), short length, packet number, and the SCI
// when the SC bit is set; then the protected EtherType, IPv4 or IPv6. The
// inner packet ends at the short length when it is set, else before the
// ICV.
func (p *parser) macsec(off int) tunnelHit {
	d := p.data
	if len(d) < off+6 {
		return tunnelHit{}
	}
	tci := d[off]
	if tci&0x80 != 0 || tci&0x0c != 0 {
		return tunnelHit{}
	}
	n := off + 6
	if tci&0x20 != 0 {
		n += 8
	}
	if len(d) < n+2 {
		return tunnelHit{}
	}
	et := be.Uint16(d[n:])
	if et != EtherTypeIPv4 && et != EtherTypeIPv6 {
		return tunnelHit{}
	}
	h := tunnelHit{typ: spec.TunnelMACsec, inner: n + 2, et: et, icv: true}
	if sl := int(d[off+1] & 0x3f); sl != 0 {
		h.end = n + sl // the short length counts the EtherType and the packet
	}
	return h
}

// gtpu recognises a GTP-U G-PDU (version 1, protocol type GTP) at off: the
// 8-byte header, the optional sequence number, N-PDU number and next
// extension type, and the extension headers (length in 4-byte units), then
// IP by its version nibble.
func (p *parser) gtpu(off int) tunnelHit {
	d := p.data
	if len(d) < off+8 || d[off]>>5 != 1 || d[off]&0x10 == 0 || d[off+1] != 0xff {
		return tunnelHit{}
	}
	teid := be.Uint32(d[off+4:])
	n := off + 8
	if d[off]&0x07 != 0 {
		if len(d) < n+4 {
			return tunnelHit{}
		}
		next := d[n+3]
		n += 4
		for k := 0; next != 0 && k < 16; k++ {
			if len(d) < n+1 || d[n] == 0 {
				return tunnelHit{}
			}
			l := int(d[n]) * 4
			if len(d) < n+l {
				return tunnelHit{}
			}
			next = d[n+l-1]
			n += l
		}
		if next != 0 {
			return tunnelHit{}
		}
	}
	if len(d) <= n {
		return tunnelHit{}
	}
	switch d[n] >> 4 {
	case 4:
		return tunnelHit{typ: spec.TunnelGTPU, id: teid, inner: n, et: EtherTypeIPv4}
	case 6:
		return tunnelHit{typ: spec.TunnelGTPU, id: teid, inner: n, et: EtherTypeIPv6}
	}
	return tunnelHit{}
}
