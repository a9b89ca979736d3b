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
func Parse(info Info, data []byte, rec *Record) {
	*rec = Record{}
	le.PutUint64(rec[spec.RecTimestamp:], uint64(info.Timestamp))
	le.PutUint32(rec[spec.RecCapLen:], uint32(len(data)))
	le.PutUint32(rec[spec.RecWireLen:], info.WireLen)
	le.PutUint32(rec[spec.RecIfindex:], info.Ifindex)
	le.PutUint16(rec[spec.RecQueue:], info.Queue)
	le.PutUint16(rec[spec.RecLinkType:], uint16(info.LinkType))
	// L3, L4 and payload offsets absent, EtherType 0: one store.
	le.PutUint64(rec[spec.RecL3Off:], 0x0000_ffff_ffff_ffff)

	p := parser{data: data, rec: rec}
	if uint64(len(data)) < uint64(info.WireLen) {
		p.flags = spec.RecFlagTruncated
	}
	p.link(info.LinkType)
	if p.ipv != 0 {
		p.flowHash()
	}
	le.PutUint32(rec[spec.RecFlags:], p.flags)
}

// parser is the state of one Parse call; it lives on the stack.
type parser struct {
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
func (p *parser) link(lt spec.LinkType) {
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
func (p *parser) ether(off int, et uint16) {
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

func (p *parser) setVLANs(n uint32) {
	if n == 0 {
		return
	}
	if n > 255 {
		n = 255
	}
	p.rec[spec.RecVLANCount] = uint8(n)
	p.flags |= spec.RecFlagVLAN
}

func (p *parser) setMPLS(n uint32) {
	if n > 255 {
		n = 255
	}
	p.rec[spec.RecMPLSCount] = uint8(n)
	p.flags |= spec.RecFlagMPLS
}
