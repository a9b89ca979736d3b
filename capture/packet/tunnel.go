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

// OuterL3 returns the offset of the outer IP header.
func (t *TunnelRecord) OuterL3() uint16 { return le.Uint16(t[spec.TunOuterL3:]) }

// Well-known ports and numbers of the tunnels ParseInner enters.
const (
	PortVXLAN        = 4789
	PortGeneve       = 6081
	PortGTPU         = 2152
	ProtoGRE         = 47
	ProtoIPIP        = 4
	ProtoIPv6        = 41
	EtherTypeTransEB = 0x6558 // transparent Ethernet bridging
)

// ParseInner fills rec as Parse does, except that a packet carried in one
// of the tunnels of spec.TunnelType is described from its inner packet:
// rec holds the inner packet's layers (its offsets still count from the
// start of data, its lengths and metadata are the captured packet's), and
// tun the outer packet (addresses, ports, offsets, tunnel type and id).
// For any other packet, rec is what Parse gives and tun's type is
// TunnelNone. One tunnel header is removed; a tunnel inside the inner
// packet is described as the inner packet's protocol. Like Parse it never
// allocates, never panics and never reads past data.
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
	typ, id, inner, innerET := p.tunnel()
	if typ == spec.TunnelNone {
		p.write(info, rec)
		return
	}
	tun[spec.TunType] = byte(typ)
	tun[spec.TunIPVersion] = p.ipv
	tun[spec.TunIPProto] = p.proto
	tun[spec.TunDepth] = 1
	le.PutUint32(tun[spec.TunID:], id)
	le.PutUint16(tun[spec.TunOuterL3:], p.l3)
	le.PutUint16(tun[spec.TunOuterL4:], p.l4)
	le.PutUint16(tun[spec.TunInner:], uint16(inner))
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
	q.l3, q.l4, q.pay = spec.NoOffset, spec.NoOffset, spec.NoOffset
	q.flags = p.flags & spec.RecFlagTruncated
	if innerET == EtherTypeTransEB {
		le.PutUint16(tun[spec.TunInnerLink:], uint16(spec.LinkEthernet))
		q.linkAt(spec.LinkEthernet, inner, maxLinkDepth)
	} else {
		le.PutUint16(tun[spec.TunInnerLink:], uint16(spec.LinkRaw))
		q.ether(inner, innerET)
	}
	q.write(info, rec)
}

// tunnel recognises a tunnel header after the outer packet's IP header
// and returns its type, id, the offset of the inner packet and its
// EtherType (EtherTypeTransEB for Ethernet).
func (p *parser) tunnel() (spec.TunnelType, uint32, int, uint16) {
	none := func() (spec.TunnelType, uint32, int, uint16) { return spec.TunnelNone, 0, 0, 0 }
	if p.ipv == 0 || p.l4 == spec.NoOffset || p.flags&spec.RecFlagFragment != 0 {
		return none()
	}
	d := p.data
	off := int(p.l4)
	switch p.proto {
	case ProtoIPIP, ProtoIPv6:
		if len(d) <= off {
			return none()
		}
		if p.proto == ProtoIPIP && d[off]>>4 == 4 {
			return spec.TunnelIPIP, 0, off, EtherTypeIPv4
		}
		if p.proto == ProtoIPv6 && d[off]>>4 == 6 {
			return spec.TunnelIP6IP, 0, off, EtherTypeIPv6
		}
	case ProtoGRE:
		if len(d) < off+4 {
			return none()
		}
		fl, et := be.Uint16(d[off:]), be.Uint16(d[off+2:])
		if fl&0x0007 != 0 || fl&0x4000 != 0 { // version 0 only; no source routing
			return none()
		}
		n := off + 4
		if fl&0x8000 != 0 { // checksum and reserved
			n += 4
		}
		var key uint32
		if fl&0x2000 != 0 {
			if len(d) < n+4 {
				return none()
			}
			key = be.Uint32(d[n:])
			n += 4
		}
		if fl&0x1000 != 0 { // sequence number
			n += 4
		}
		if len(d) < n {
			return none()
		}
		switch et {
		case EtherTypeIPv4, EtherTypeIPv6, EtherTypeTransEB:
			return spec.TunnelGRE, key, n, et
		}
	case ProtoUDP:
		if p.pay == spec.NoOffset {
			return none()
		}
		pay := int(p.pay)
		switch {
		case p.dport == PortVXLAN:
			if len(d) < pay+8+14 || d[pay]&0x08 == 0 {
				return none()
			}
			return spec.TunnelVXLAN, be.Uint32(d[pay+4:]) >> 8, pay + 8, EtherTypeTransEB
		case p.dport == PortGeneve:
			if len(d) < pay+8 || d[pay]>>6 != 0 {
				return none()
			}
			n := pay + 8 + int(d[pay]&0x3f)*4
			et := be.Uint16(d[pay+2:])
			if len(d) <= n || (et != EtherTypeTransEB && et != EtherTypeIPv4 && et != EtherTypeIPv6) {
				return none()
			}
			return spec.TunnelGeneve, be.Uint32(d[pay+4:]) >> 8, n, et
		case p.dport == PortGTPU || p.sport == PortGTPU:
			return p.gtpu(pay)
		}
	}
	return none()
}

// gtpu recognises a GTP-U G-PDU (version 1, protocol type GTP) at off: the
// 8-byte header, the optional sequence number, N-PDU number and next
// extension type, and the extension headers (length in 4-byte units), then
// IP by its version nibble.
func (p *parser) gtpu(off int) (spec.TunnelType, uint32, int, uint16) {
	d := p.data
	if len(d) < off+8 || d[off]>>5 != 1 || d[off]&0x10 == 0 || d[off+1] != 0xff {
		return spec.TunnelNone, 0, 0, 0
	}
	teid := be.Uint32(d[off+4:])
	n := off + 8
	if d[off]&0x07 != 0 {
		if len(d) < n+4 {
			return spec.TunnelNone, 0, 0, 0
		}
		next := d[n+3]
		n += 4
		for k := 0; next != 0 && k < 16; k++ {
			if len(d) < n+1 || d[n] == 0 {
				return spec.TunnelNone, 0, 0, 0
			}
			l := int(d[n]) * 4
			if len(d) < n+l {
				return spec.TunnelNone, 0, 0, 0
			}
			next = d[n+l-1]
			n += l
		}
		if next != 0 {
			return spec.TunnelNone, 0, 0, 0
		}
	}
	if len(d) <= n {
		return spec.TunnelNone, 0, 0, 0
	}
	switch d[n] >> 4 {
	case 4:
		return spec.TunnelGTPU, teid, n, EtherTypeIPv4
	case 6:
		return spec.TunnelGTPU, teid, n, EtherTypeIPv6
	}
	return spec.TunnelNone, 0, 0, 0
}
