package spec

import "encoding/binary"

// The netlink attribute searches of SKF_AD_NLATTR and SKF_AD_NLATTR_NEST,
// as Linux's __skb_get_nlattr and __skb_get_nlattr_nest define them: the
// packet holds netlink attributes (struct nlattr: u16 length, u16 type, in
// host byte order, little-endian on the hosts wring runs on), A is the
// offset where the search starts and X the attribute type wanted. They only
// mean something on netlink sockets.

const (
	nlaHeader   = 4      // sizeof(struct nlattr)
	nlaTypeBits = 0x3fff // the type without NLA_F_NESTED and NLA_F_NET_BYTEORDER
)

// nlAttr returns the packet offset of the first netlink attribute of type x
// at or after offset a, or 0 (SKF_AD_NLATTR).
func nlAttr(pkt []byte, a, x uint32) uint32 {
	n, ok := nlaStart(pkt, a)
	if !ok {
		return 0
	}
	return nlaFind(pkt, a, int64(n-a), x)
}

// nlAttrNest returns the packet offset of the first netlink attribute of
// type x nested in the attribute at offset a, or 0 (SKF_AD_NLATTR_NEST).
func nlAttrNest(pkt []byte, a, x uint32) uint32 {
	n, ok := nlaStart(pkt, a)
	if !ok {
		return 0
	}
	outer := uint32(binary.LittleEndian.Uint16(pkt[a:]))
	if outer > n-a {
		return 0
	}
	// The nested attributes follow the outer header; a length below the
	// header (nla_len(nla) < 0) leaves nothing to search.
	return nlaFind(pkt, a+nlaHeader, int64(outer)-nlaHeader, x)
}

// nlaStart returns the packet's length, and whether an attribute header
// fits at offset a (Linux's first check of both searches).
func nlaStart(pkt []byte, a uint32) (uint32, bool) {
	if uint64(len(pkt)) > 1<<32-1 {
		return 0, false
	}
	n := uint32(len(pkt))
	return n, n >= nlaHeader && a <= n-nlaHeader
}

// nlaFind walks the attributes starting at pos with rem bytes left
// (nla_find) and returns the offset of the first of type typ, or 0.
func nlaFind(pkt []byte, pos uint32, rem int64, typ uint32) uint32 {
	for rem >= nlaHeader {
		size := int64(binary.LittleEndian.Uint16(pkt[pos:]))
		if size < nlaHeader || size > rem {
			return 0
		}
		if uint32(binary.LittleEndian.Uint16(pkt[pos+2:]))&nlaTypeBits == typ {
			return pos
		}
		step := (size + 3) &^ 3 // NLA_ALIGN
		rem -= step
		pos += uint32(step)
	}
	return 0
}
