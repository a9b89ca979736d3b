package packet

import "github.com/wringcap/wring/spec"

// transport parses the transport header of protocol p.proto at off; end is
// where the IP datagram ends within the capture.
func (p *parser) transport(off, end int) {
	d, rec := p.data, p.rec
	le.PutUint16(rec[spec.RecL4Off:], uint16(off))
	var hlen int
	switch p.proto {
	case ProtoTCP:
		if p.short(off, 20, end) {
			p.ports(off, end)
			return
		}
		hlen = int(d[off+12]>>4) * 4
		rec[spec.RecTCPFlags] = d[off+13]
		p.ports(off, end)
		if hlen < 20 {
			p.flags |= spec.RecFlagMalformed
			return
		}
		if p.short(off, hlen, end) {
			return
		}
	case ProtoUDP:
		if p.short(off, 8, end) {
			p.ports(off, end)
			return
		}
		p.ports(off, end)
		if be.Uint16(d[off+4:]) < 8 {
			p.flags |= spec.RecFlagMalformed
		}
		hlen = 8
	case ProtoSCTP:
		if p.short(off, 12, end) {
			p.ports(off, end)
			return
		}
		p.ports(off, end)
		hlen = 12
	case ProtoICMP, ProtoICMPv6:
		if p.short(off, 4, end) {
			return
		}
		le.PutUint16(rec[spec.RecSrcPort:], be.Uint16(d[off:]))
		hlen = 4
		if p.proto == ProtoICMP {
			// RFC 792: type, code, checksum and a 4-byte rest-of-header.
			if p.short(off, 8, end) {
				return
			}
			hlen = 8
		}
	default:
		return
	}
	le.PutUint16(rec[spec.RecPayloadOff:], uint16(off+hlen))
	le.PutUint32(rec[spec.RecPayloadLen:], uint32(end-off-hlen))
}

// ports records the source and destination ports at off when the first
// four bytes of the header are there.
func (p *parser) ports(off, end int) {
	if off+4 > end {
		return
	}
	d := p.data
	p.sport = be.Uint16(d[off:])
	p.dport = be.Uint16(d[off+2:])
	le.PutUint16(p.rec[spec.RecSrcPort:], p.sport)
	le.PutUint16(p.rec[spec.RecDstPort:], p.dport)
}
