package packet

// The parser as it was before the single-store rewrite, kept as the oracle
// of TestParseSameAsReference and FuzzParseReference: the rewrite must fill
// exactly the same records.

import (
	"math/bits"

	"github.com/wringcap/wring/spec"
)

// refParse fills rec with the parse record of one packet (spec/RECORD.md) in a
// single pass over data, the captured bytes whose link-layer header type is
// info.LinkType. It never allocates, never panics on any input and never
// reads past data; what it cannot parse it reports with RecFlagTruncated or
// RecFlagMalformed.
func refParse(info Info, data []byte, rec *Record) {
	*rec = Record{}
	le.PutUint64(rec[spec.RecTimestamp:], uint64(info.Timestamp))
	le.PutUint32(rec[spec.RecCapLen:], uint32(len(data)))
	le.PutUint32(rec[spec.RecWireLen:], info.WireLen)
	le.PutUint32(rec[spec.RecIfindex:], info.Ifindex)
	le.PutUint16(rec[spec.RecQueue:], info.Queue)
	le.PutUint16(rec[spec.RecLinkType:], uint16(info.LinkType))
	// L3, L4 and payload offsets absent, EtherType 0: one store.
	le.PutUint64(rec[spec.RecL3Off:], 0x0000_ffff_ffff_ffff)

	p := refParser{data: data, rec: rec}
	if uint64(len(data)) < uint64(info.WireLen) {
		p.flags = spec.RecFlagTruncated
	}
	p.link(info.LinkType)
	if p.ipv != 0 {
		p.flowHash()
	}
	le.PutUint32(rec[spec.RecFlags:], p.flags)
}

// refParser is the state of one Parse call; it lives on the stack.
type refParser struct {
	data    []byte
	rec     *Record
	flags   uint32
	ipv     uint8
	proto   uint8
	clipped bool   // the IP length runs past the captured bytes
	sport   uint16 // ports that enter the flow hash
	dport   uint16
}

// short reports whether a header of need bytes at off runs past end, the
// end of the enclosing IP datagram, and flags it: when the datagram itself
// ran past the capture, ipEnd has already said truncated or malformed;
// otherwise the IP length is too short for what it carries.
func (p *refParser) short(off, need, end int) bool {
	if off+need <= end {
		return false
	}
	if !p.clipped {
		p.flags |= spec.RecFlagMalformed
	}
	return true
}

// link finds the network layer for the packet's link type.
func (p *refParser) link(lt spec.LinkType) {
	d := p.data
	switch lt {
	case spec.LinkEthernet:
		if len(d) < 14 {
			p.flags |= spec.RecFlagTruncated
			return
		}
		et := be.Uint16(d[12:])
		off := 14
		if et < 0x0600 { // 802.3 length: LLC, maybe SNAP
			if len(d) < off+8 || d[off] != 0xaa || d[off+1] != 0xaa || d[off+2] != 0x03 ||
				d[off+3] != 0 || d[off+4] != 0 || d[off+5] != 0 {
				if len(d) < off+3 {
					p.flags |= spec.RecFlagTruncated
				}
				return
			}
			et = be.Uint16(d[off+6:])
			off += 8
		}
		p.ether(off, et)
	case spec.LinkRaw:
		if len(d) < 1 {
			p.flags |= spec.RecFlagTruncated
			return
		}
		switch d[0] >> 4 {
		case 4:
			p.ether(0, EtherTypeIPv4)
		case 6:
			p.ether(0, EtherTypeIPv6)
		default:
			p.flags |= spec.RecFlagMalformed
		}
	case spec.LinkIPv4:
		p.ether(0, EtherTypeIPv4)
	case spec.LinkIPv6:
		p.ether(0, EtherTypeIPv6)
	case spec.LinkLinuxSLL:
		if len(d) < 16 {
			p.flags |= spec.RecFlagTruncated
			return
		}
		p.ether(16, be.Uint16(d[14:]))
	case spec.LinkLinuxSLL2:
		if len(d) < 20 {
			p.flags |= spec.RecFlagTruncated
			return
		}
		p.ether(20, be.Uint16(d[0:]))
	case spec.LinkNull, spec.LinkLoop:
		if len(d) < 4 {
			p.flags |= spec.RecFlagTruncated
			return
		}
		af := be.Uint32(d)
		if lt == spec.LinkNull && af&0xffff0000 != 0 { // host order, written little-endian
			af = le.Uint32(d)
		}
		switch af {
		case 2: // AF_INET everywhere
			p.ether(4, EtherTypeIPv4)
		case 10, 24, 28, 30: // AF_INET6: Linux, NetBSD/OpenBSD, FreeBSD, Darwin
			p.ether(4, EtherTypeIPv6)
		}
	}
}

// ether walks VLAN tags and MPLS labels from off, where a header of
// EtherType et starts, and parses the network layer.
func (p *refParser) ether(off int, et uint16) {
	d, rec := p.data, p.rec
	var vlans uint32
	for et == EtherTypeVLAN || et == EtherTypeQinQ || et == EtherTypeQinQOld {
		if len(d) < off+4 {
			p.flags |= spec.RecFlagTruncated
			p.setVLANs(vlans)
			le.PutUint16(rec[spec.RecEtherType:], et)
			return
		}
		tci := be.Uint16(d[off:])
		switch vlans {
		case 0:
			le.PutUint16(rec[spec.RecVLANOuter:], tci)
		case 1:
			le.PutUint16(rec[spec.RecVLANInner:], tci)
		}
		vlans++
		et = be.Uint16(d[off+2:])
		off += 4
	}
	p.setVLANs(vlans)
	if et == EtherTypeMPLS || et == EtherTypeMPLSMC {
		var n uint32
		for {
			if len(d) < off+4 {
				p.flags |= spec.RecFlagTruncated
				p.setMPLS(n)
				le.PutUint16(rec[spec.RecEtherType:], et)
				return
			}
			e := be.Uint32(d[off:])
			if n == 0 {
				le.PutUint32(rec[spec.RecMPLSTop:], e)
			}
			n++
			off += 4
			if e&0x100 != 0 {
				break
			}
			if n == MaxMPLSLabels {
				p.flags |= spec.RecFlagMalformed
				p.setMPLS(n)
				le.PutUint16(rec[spec.RecEtherType:], et)
				return
			}
		}
		p.setMPLS(n)
		// The label stack does not say what it carries: guess IP from the
		// version nibble, as routers' load balancers do.
		if len(d) > off {
			switch d[off] >> 4 {
			case 4:
				et = EtherTypeIPv4
			case 6:
				et = EtherTypeIPv6
			}
		}
	}
	le.PutUint16(rec[spec.RecEtherType:], et)
	switch et {
	case EtherTypeIPv4:
		p.ipv4(off)
	case EtherTypeIPv6:
		p.ipv6(off)
	}
}

func (p *refParser) setVLANs(n uint32) {
	if n == 0 {
		return
	}
	if n > 255 {
		n = 255
	}
	p.rec[spec.RecVLANCount] = uint8(n)
	p.flags |= spec.RecFlagVLAN
}

func (p *refParser) setMPLS(n uint32) {
	if n > 255 {
		n = 255
	}
	p.rec[spec.RecMPLSCount] = uint8(n)
	p.flags |= spec.RecFlagMPLS
}

// ipEnd returns where an IP datagram of total length total that starts at
// off ends within the capture, flagging a datagram longer than what was
// captured.
func (p *refParser) ipEnd(off, total int) int {
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
func (p *refParser) ipv4(off int) {
	d, rec := p.data, p.rec
	le.PutUint16(rec[spec.RecL3Off:], uint16(off))
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
	rec[spec.RecIPVersion] = 4
	rec[spec.RecIPProto] = h[9]
	rec[spec.RecTTL] = h[8]
	copy(rec[spec.RecSrcAddr:spec.RecSrcAddr+4], h[12:16])
	copy(rec[spec.RecDstAddr:spec.RecDstAddr+4], h[16:20])
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
func (p *refParser) ipv6(off int) {
	d, rec := p.data, p.rec
	le.PutUint16(rec[spec.RecL3Off:], uint16(off))
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
	rec[spec.RecIPVersion] = 6
	rec[spec.RecTTL] = h[7]
	copy(rec[spec.RecSrcAddr:spec.RecSrcAddr+16], h[8:24])
	copy(rec[spec.RecDstAddr:spec.RecDstAddr+16], h[24:40])
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

func (p *refParser) setProto(proto uint8) {
	p.proto = proto
	p.rec[spec.RecIPProto] = proto
}

// transport parses the transport header of protocol p.proto at off; end is
// where the IP datagram ends within the capture.
func (p *refParser) transport(off, end int) {
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
func (p *refParser) ports(off, end int) {
	if off+4 > end {
		return
	}
	d := p.data
	p.sport = be.Uint16(d[off:])
	p.dport = be.Uint16(d[off+2:])
	le.PutUint16(p.rec[spec.RecSrcPort:], p.sport)
	le.PutUint16(p.rec[spec.RecDstPort:], p.dport)
}

// refFlowMix is the 64x64→128 multiply-fold step of wyhash.
func refFlowMix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// refFlowHash computes the symmetric flow hash of spec/RECORD.md from the
// fields it covers: the IP version (4 or 6), the transport protocol, the
// two addresses (16 bytes each, IPv4 in the first four) and the two ports
// (zero when they do not enter the hash). Swapping the endpoints gives the
// same value.
func refFlowHash(ipVersion, proto uint8, src, dst *[16]byte, sport, dport uint16) uint32 {
	s0, s1 := be.Uint64(src[0:]), be.Uint64(src[8:])
	d0, d1 := be.Uint64(dst[0:]), be.Uint64(dst[8:])
	// Order the endpoints by (address, port), as unsigned big-endian numbers.
	if s0 > d0 || (s0 == d0 && (s1 > d1 || (s1 == d1 && sport > dport))) {
		s0, s1, d0, d1 = d0, d1, s0, s1
		sport, dport = dport, sport
	}
	return refFlowHashOrdered(ipVersion, proto, s0, s1, d0, d1, sport, dport)
}

func refFlowHashOrdered(ipVersion, proto uint8, a0, a1, b0, b1 uint64, ap, bp uint16) uint32 {
	w := uint64(ap)<<48 | uint64(bp)<<32 | uint64(proto)<<8 | uint64(ipVersion)
	h := refFlowMix(a0^flowMul1, a1^flowSeed)
	h = refFlowMix(h^b0^flowMul2, b1^flowMul1)
	h = refFlowMix(h^w, flowMul2)
	return uint32(h) ^ uint32(h>>32)
}

// flowHash fills RecFlowHash. Ports enter the hash only for TCP, UDP and
// SCTP datagrams that are not fragments, so that every fragment of a
// datagram, and both directions of an ICMP exchange, hash alike.
func (p *refParser) flowHash() {
	rec := p.rec
	var sport, dport uint16
	if p.flags&spec.RecFlagFragment == 0 {
		switch p.proto {
		case ProtoTCP, ProtoUDP, ProtoSCTP:
			sport, dport = p.sport, p.dport
		}
	}
	var h uint32
	if p.ipv == 4 {
		s := uint64(be.Uint32(rec[spec.RecSrcAddr:]))
		d := uint64(be.Uint32(rec[spec.RecDstAddr:]))
		if s > d || (s == d && sport > dport) {
			s, d = d, s
			sport, dport = dport, sport
		}
		h = refFlowHashOrdered(4, p.proto, s<<32, 0, d<<32, 0, sport, dport)
	} else {
		h = refFlowHash(6, p.proto, (*[16]byte)(rec[spec.RecSrcAddr:spec.RecSrcAddr+16]),
			(*[16]byte)(rec[spec.RecDstAddr:spec.RecDstAddr+16]), sport, dport)
	}
	le.PutUint32(rec[spec.RecFlowHash:], h)
}
