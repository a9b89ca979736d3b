package packet

import (
	"encoding/binary"

	"github.com/wringcap/wring/spec"
)

var (
	be = binary.BigEndian
	le = binary.LittleEndian
)

// EtherTypes and IP protocol numbers the parser knows.
const (
	EtherTypeIPv4    = 0x0800
	EtherTypeIPv6    = 0x86dd
	EtherTypeVLAN    = 0x8100 // 802.1Q
	EtherTypeQinQ    = 0x88a8 // 802.1ad
	EtherTypeQinQOld = 0x9100 // pre-standard double tagging
	EtherTypeMPLS    = 0x8847
	EtherTypeMPLSMC  = 0x8848

	ProtoICMP   = 1
	ProtoTCP    = 6
	ProtoUDP    = 17
	ProtoICMPv6 = 58
	ProtoSCTP   = 132
)

// MaxIPv6ExtHeaders bounds the IPv6 extension-header chain the parser
// follows; a longer chain leaves the transport layer unparsed.
const MaxIPv6ExtHeaders = 8

// MaxMPLSLabels bounds the MPLS label stack the parser walks; a deeper
// stack is counted and flagged malformed.
const MaxMPLSLabels = 16

// Parse fills rec with the parse record of one packet (spec/RECORD.md) in a
// single pass over data, the captured bytes whose link-layer header type is
// info.LinkType. It never allocates, never panics on any input and never
// reads past data; what it cannot parse it reports with RecFlagTruncated or
// RecFlagMalformed.
//
// The fields are gathered in the parser (on the stack) and the record is
// written at the end, eight bytes at a time: no store to rec can delay a
// later load of the parser's state.
func Parse(info Info, data []byte, rec *Record) {
	// Field by field: a composite literal would be built in a temporary
	// and copied, and the copy's wide loads of the narrow stores stall.
	var p parser
	p.data = data
	p.l3, p.l4, p.pay = spec.NoOffset, spec.NoOffset, spec.NoOffset
	if uint64(len(data)) < uint64(info.WireLen) {
		p.flags = spec.RecFlagTruncated
	}
	// The common case, Ethernet II, without the link-type switch.
	if info.LinkType == spec.LinkEthernet && len(data) >= 14 && be.Uint16(data[12:]) >= 0x0600 {
		p.ether(14, be.Uint16(data[12:]))
	} else {
		p.link(info.LinkType)
	}
	p.write(info, rec)
}

// write fills rec from the parser's fields.
func (p *parser) write(info Info, rec *Record) {
	data := p.data
	// The flow hash (flowHashOrdered written out: a call costs as much as
	// a mix). Ports enter it only for TCP, UDP and SCTP datagrams that are
	// not fragments, so that every fragment of a datagram, and both
	// directions of an ICMP exchange, hash alike.
	var hash uint32
	if p.ipv != 0 {
		var ports uint64 // sport<<16 | dport
		if p.flags&spec.RecFlagFragment == 0 && (p.proto == ProtoTCP || p.proto == ProtoUDP || p.proto == ProtoSCTP) {
			ports = uint64(p.sport)<<16 | uint64(p.dport)
		}
		s0, s1, d0, d1 := p.src0, p.src1, p.dst0, p.dst1
		if s0 > d0 || (s0 == d0 && (s1 > d1 || (s1 == d1 && ports>>16 > ports&0xffff))) {
			s0, s1, d0, d1 = d0, d1, s0, s1
			ports = ports>>16 | ports&0xffff<<16
		}
		h := flowMix(s0^flowMul1, s1^flowSeed)
		h = flowMix(h^d0^flowMul2, d1^flowMul1)
		h = flowMix(h^(ports<<32|uint64(p.proto)<<8|uint64(p.ipv)), flowMul2)
		hash = uint32(h) ^ uint32(h>>32)
	}
	le.PutUint64(rec[spec.RecTimestamp:], uint64(info.Timestamp))
	le.PutUint64(rec[spec.RecCapLen:], uint64(uint32(len(data)))|uint64(info.WireLen)<<32)
	le.PutUint64(rec[spec.RecIfindex:], uint64(info.Ifindex)|uint64(info.Queue)<<32|uint64(info.LinkType)<<48)
	le.PutUint64(rec[spec.RecL3Off:], uint64(p.l3)|uint64(p.l4)<<16|uint64(p.pay)<<32|uint64(p.et)<<48)
	le.PutUint64(rec[spec.RecVLANOuter:], uint64(p.vlanOuter)|uint64(p.vlanInner)<<16|
		uint64(p.vlanCount)<<32|uint64(p.mplsCount)<<40|uint64(p.ipv)<<48|uint64(p.proto)<<56)
	// TCP flags, TTL, the two port fields and the reserved zero.
	le.PutUint64(rec[spec.RecTCPFlags:], uint64(p.tcpFlags)|uint64(p.ttl)<<8|uint64(p.srcField)<<16|uint64(p.dstField)<<32)
	be.PutUint64(rec[spec.RecSrcAddr:], p.src0)
	be.PutUint64(rec[spec.RecSrcAddr+8:], p.src1)
	be.PutUint64(rec[spec.RecDstAddr:], p.dst0)
	be.PutUint64(rec[spec.RecDstAddr+8:], p.dst1)
	le.PutUint64(rec[spec.RecFlowHash:], uint64(hash)|uint64(p.flags)<<32)
	le.PutUint64(rec[spec.RecPayloadLen:], uint64(p.payLen)|uint64(p.mplsTop)<<32)
}

// parser is the state of one Parse call, the record's fields among it; it
// lives on the stack.
type parser struct {
	data    []byte
	flags   uint32
	ipv     uint8
	proto   uint8
	clipped bool   // the IP length runs past the captured bytes
	sport   uint16 // ports that enter the flow hash
	dport   uint16

	l3, l4, pay          uint16 // offsets, spec.NoOffset when absent
	et                   uint16 // EtherType of the network layer
	netOff               uint16 // where the layer of EtherType et starts (for ParseInner)
	vlanOuter, vlanInner uint16
	vlanCount, mplsCount uint8
	tcpFlags, ttl        uint8
	srcField, dstField   uint16 // RecSrcPort and RecDstPort
	src0, src1           uint64 // source address, big-endian halves (IPv4 in the top of src0)
	dst0, dst1           uint64
	payLen               uint32
	mplsTop              uint32
}

// short reports whether a header of need bytes at off runs past end, the
// end of the enclosing IP datagram, and flags it: when the datagram itself
// ran past the capture, ipEnd has already said truncated or malformed;
// otherwise the IP length is too short for what it carries.
func (p *parser) short(off, need, end int) bool {
	if off+need <= end {
		return false
	}
	if !p.clipped {
		p.flags |= spec.RecFlagMalformed
	}
	return true
}

// link finds the network layer for the packet's link type.
func (p *parser) link(lt spec.LinkType) { p.linkAt(lt, 0, 0) }

// linkAt finds the network layer of a link-layer header of type lt that
// starts at off; depth counts the encapsulating headers (PKTAP, PPI) that
// led here.
func (p *parser) linkAt(lt spec.LinkType, off, depth int) {
	d := p.data
	switch lt {
	case spec.LinkEthernet:
		if len(d) < off+14 {
			p.flags |= spec.RecFlagTruncated
			return
		}
		et := be.Uint16(d[off+12:])
		off += 14
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
		if len(d) < off+1 {
			p.flags |= spec.RecFlagTruncated
			return
		}
		switch d[off] >> 4 {
		case 4:
			p.ether(off, EtherTypeIPv4)
		case 6:
			p.ether(off, EtherTypeIPv6)
		default:
			p.flags |= spec.RecFlagMalformed
		}
	case spec.LinkIPv4:
		p.ether(off, EtherTypeIPv4)
	case spec.LinkIPv6:
		p.ether(off, EtherTypeIPv6)
	case spec.LinkLinuxSLL:
		if len(d) < off+16 {
			p.flags |= spec.RecFlagTruncated
			return
		}
		p.ether(off+16, be.Uint16(d[off+14:]))
	case spec.LinkLinuxSLL2:
		if len(d) < off+20 {
			p.flags |= spec.RecFlagTruncated
			return
		}
		p.ether(off+20, be.Uint16(d[off:]))
	case spec.LinkNull, spec.LinkLoop:
		if len(d) < off+4 {
			p.flags |= spec.RecFlagTruncated
			return
		}
		af := be.Uint32(d[off:])
		if lt == spec.LinkNull && af&0xffff0000 != 0 { // host order, written little-endian
			af = le.Uint32(d[off:])
		}
		switch af {
		case 2: // AF_INET everywhere
			p.ether(off+4, EtherTypeIPv4)
		case 10, 24, 28, 30: // AF_INET6: Linux, NetBSD/OpenBSD, FreeBSD, Darwin
			p.ether(off+4, EtherTypeIPv6)
		}
	default:
		p.linkMore(lt, off, depth)
	}
}

// ether walks VLAN tags and MPLS labels from off, where a header of
// EtherType et starts, and parses the network layer.
func (p *parser) ether(off int, et uint16) {
	d := p.data
	var vlans uint32
	for et == EtherTypeVLAN || et == EtherTypeQinQ || et == EtherTypeQinQOld {
		if len(d) < off+4 {
			p.flags |= spec.RecFlagTruncated
			p.setVLANs(vlans)
			p.et = et
			return
		}
		h := d[off : off+4]
		switch vlans {
		case 0:
			p.vlanOuter = be.Uint16(h)
		case 1:
			p.vlanInner = be.Uint16(h)
		}
		vlans++
		et = be.Uint16(h[2:])
		off += 4
	}
	p.setVLANs(vlans)
	if et == EtherTypePPPoESession {
		// PPPoE session data (RFC 2516): what the PPP protocol carries.
		if len(d) < off+8 {
			p.flags |= spec.RecFlagTruncated
			p.et = et
			return
		}
		if inner := pppEtherType(be.Uint16(d[off+6:])); inner != 0 && d[off] == 0x11 && d[off+1] == 0 {
			et = inner
			off += 8
		}
	}
	if et == EtherTypeMPLS || et == EtherTypeMPLSMC {
		var n uint32
		for {
			if len(d) < off+4 {
				p.flags |= spec.RecFlagTruncated
				p.setMPLS(n)
				p.et = et
				return
			}
			e := be.Uint32(d[off : off+4])
			if n == 0 {
				p.mplsTop = e
			}
			n++
			off += 4
			if e&0x100 != 0 {
				break
			}
			if n == MaxMPLSLabels {
				p.flags |= spec.RecFlagMalformed
				p.setMPLS(n)
				p.et = et
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
	p.et = et
	p.netOff = uint16(off)
	switch et {
	case EtherTypeIPv4:
		p.ipv4(off)
	case EtherTypeIPv6:
		p.ipv6(off)
	}
}

func (p *parser) setVLANs(n uint32) {
	if n == 0 {
		return
	}
	if n > 255 {
		n = 255
	}
	p.vlanCount = uint8(n)
	p.flags |= spec.RecFlagVLAN
}

func (p *parser) setMPLS(n uint32) {
	if n > 255 {
		n = 255
	}
	p.mplsCount = uint8(n)
	p.flags |= spec.RecFlagMPLS
}
