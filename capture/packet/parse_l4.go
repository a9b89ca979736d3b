package packet

import "github.com/wringcap/wring/spec"

// transport parses the transport header of protocol p.proto at off; end is
// where the IP datagram ends within the capture (off <= end <= len(data):
// the IP parsers checked their headers fit before end).
func (p *parser) transport(off, end int) {
	p.l4 = uint16(off)
	h := p.data[off:end] // the rest of the datagram
	var hlen int
	switch p.proto {
	case ProtoTCP:
		if len(h) < 20 {
			p.shortBy()
			p.ports(h)
			return
		}
		hlen = int(h[12]>>4) * 4
		p.tcpFlags = h[13]
		p.ports(h)
		if hlen < 20 {
			p.flags |= spec.RecFlagMalformed
			return
		}
		if hlen > len(h) {
			p.shortBy()
			return
		}
	case ProtoUDP:
		if len(h) < 8 {
			p.shortBy()
			p.ports(h)
			return
		}
		p.ports(h)
		if be.Uint16(h[4:6]) < 8 {
			p.flags |= spec.RecFlagMalformed
		}
		hlen = 8
	case ProtoSCTP:
		if len(h) < 12 {
			p.shortBy()
			p.ports(h)
			return
		}
		p.ports(h)
		hlen = 12
	case ProtoICMP, ProtoICMPv6:
		if len(h) < 4 {
			p.shortBy()
			return
		}
		p.srcField = be.Uint16(h[0:2])
		hlen = 4
		if p.proto == ProtoICMP {
			// RFC 792: type, code, checksum and a 4-byte rest-of-header.
			if len(h) < 8 {
				p.shortBy()
				return
			}
			hlen = 8
		}
	default:
		return
	}
	p.pay = uint16(off + hlen)
	p.payLen = uint32(len(h) - hlen)
}

// shortBy flags a header that runs past the end of its datagram, as short
// does.
func (p *parser) shortBy() {
	if !p.clipped {
		p.flags |= spec.RecFlagMalformed
	}
}

// ports records the source and destination ports at the start of h, the
// transport header, when its first four bytes are there.
func (p *parser) ports(h []byte) {
	if len(h) < 4 {
		return
	}
	p.sport = be.Uint16(h[0:2])
	p.dport = be.Uint16(h[2:4])
	p.srcField, p.dstField = p.sport, p.dport
}
