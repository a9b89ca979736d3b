package packet

import "github.com/wringcap/wring/spec"

// ipEnd returns where an IP datagram of total length total that starts at
// off ends within the capture, flagging a datagram longer than what was
// captured.
func (p *parser) ipEnd(off, total int) int {
	end := off + total
	if end > len(p.data) {
		end = len(p.data)
		p.clipped = true
		if p.flags&spec.RecFlagTruncated == 0 {
			// The whole frame is here and still shorter than IP says.
			p.flags |= spec.RecFlagMalformed
		}
	}
	return end
}

// ipv4 parses an IPv4 header at off.
func (p *parser) ipv4(off int) {
	d := p.data
	p.l3 = uint16(off)
	if len(d) < off+20 {
		p.flags |= spec.RecFlagTruncated
		return
	}
	h := d[off : off+20]
	if h[0]>>4 != 4 {
		p.flags |= spec.RecFlagMalformed
		return
	}
	ihl := int(h[0]&0x0f) * 4
	total := int(be.Uint16(h[2:]))
	if total == 0 {
		// Segmentation offload: the length field is left zero and the
		// captured bytes are the datagram.
		total = len(d) - off
	}
	if ihl < 20 || total < ihl {
		p.flags |= spec.RecFlagMalformed
		return
	}
	p.ipv = 4
	p.proto = h[9]
	p.ttl = h[8]
	p.src0 = uint64(be.Uint32(h[12:])) << 32
	p.dst0 = uint64(be.Uint32(h[16:])) << 32
	if ihl > 20 {
		p.flags |= spec.RecFlagIPOptions
	}
	frag := be.Uint16(h[6:])
	later := frag&0x1fff != 0
	if later || frag&0x2000 != 0 {
		p.flags |= spec.RecFlagFragment
		if later {
			p.flags |= spec.RecFlagLaterFragment
		}
	}
	end := p.ipEnd(off, total)
	if p.short(off, ihl, end) || later {
		return
	}
	p.transport(off+ihl, end)
}

// ipv6 parses an IPv6 header and its extension headers at off.
func (p *parser) ipv6(off int) {
	d := p.data
	p.l3 = uint16(off)
	if len(d) < off+40 {
		p.flags |= spec.RecFlagTruncated
		return
	}
	h := d[off : off+40]
	if h[0]>>4 != 6 {
		p.flags |= spec.RecFlagMalformed
		return
	}
	p.ipv = 6
	p.ttl = h[7]
	p.src0, p.src1 = be.Uint64(h[8:]), be.Uint64(h[16:])
	p.dst0, p.dst1 = be.Uint64(h[24:]), be.Uint64(h[32:])
	nh := h[6]
	plen := int(be.Uint16(h[4:]))
	if plen == 0 && nh == 0 {
		// A jumbogram (RFC 2675): the length is in a hop-by-hop option;
		// take the captured bytes.
		plen = len(d) - off - 40
	}
	end := p.ipEnd(off, 40+plen)
	q := off + 40
	for i := 0; ; i++ {
		var hlen int
		switch nh {
		case 0, 43, 60, 135, 139, 140, 253, 254:
			// Hop-by-hop, routing, destination options, mobility, HIP,
			// shim6, experimental: next header, length in 8-octet units.
			if p.short(q, 2, end) {
				p.setProto(nh)
				return
			}
			hlen = (int(d[q+1]) + 1) * 8
		case 51: // AH: length in 4-octet units, minus 2
			if p.short(q, 2, end) {
				p.setProto(nh)
				return
			}
			hlen = (int(d[q+1]) + 2) * 4
		case 44: // fragment
			if p.short(q, 8, end) {
				p.setProto(nh)
				return
			}
			hlen = 8
			fo := be.Uint16(d[q+2:])
			if fo&0xfff8 != 0 || fo&1 != 0 {
				p.flags |= spec.RecFlagFragment
			}
			if fo&0xfff8 != 0 {
				// What follows is the middle of a datagram, not headers.
				p.flags |= spec.RecFlagLaterFragment | spec.RecFlagIPv6Ext
				p.setProto(d[q])
				return
			}
		default:
			p.setProto(nh)
			if p.flags&spec.RecFlagLaterFragment == 0 {
				p.transport(q, end)
			}
			return
		}
		p.flags |= spec.RecFlagIPv6Ext
		if i == MaxIPv6ExtHeaders {
			// Too long a chain: stop without a transport layer.
			p.setProto(nh)
			return
		}
		nh = d[q]
		if p.short(q, hlen, end) {
			p.setProto(nh)
			return
		}
		q += hlen
	}
}

func (p *parser) setProto(proto uint8) {
	p.proto = proto
}
