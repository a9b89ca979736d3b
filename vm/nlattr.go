package vm

import "encoding/binary"

// Netlink attribute search, as Linux's __skb_get_nlattr and
// __skb_get_nlattr_nest do for SKF_AD_NLATTR and SKF_AD_NLATTR_NEST: the
// packet holds netlink attributes (struct nlattr: u16 length, u16 type, in
// little-endian byte order here, the order of the hosts wring runs on),
// A is the offset where the search starts and X the attribute type. The
// result is the offset of the first attribute of that type, or 0.

const (
	nlaHdrLen   = 4
	nlaTypeMask = 0x3fff // without NLA_F_NESTED and NLA_F_NET_BYTEORDER
)

func nlattr(pkt []byte, a, x uint32) uint32 {
	n := uint32(len(pkt))
	if uint64(len(pkt)) > 1<<32-1 || n < nlaHdrLen || a > n-nlaHdrLen {
		return 0
	}
	return nlaFind(pkt, a, n-a, x)
}

func nlattrNest(pkt []byte, a, x uint32) uint32 {
	n := uint32(len(pkt))
	if uint64(len(pkt)) > 1<<32-1 || n < nlaHdrLen || a > n-nlaHdrLen {
		return 0
	}
	l := uint32(binary.LittleEndian.Uint16(pkt[a:]))
	if l > n-a {
		return 0
	}
	if l < nlaHdrLen { // nla_len(nla) would be negative: nothing to search
		return 0
	}
	return nlaFind(pkt, a+nlaHdrLen, l-nlaHdrLen, x)
}

// nlaFind walks the attributes in pkt[pos:pos+rem] (nla_find).
func nlaFind(pkt []byte, pos, rem, typ uint32) uint32 {
	r := int64(rem)
	for r >= nlaHdrLen {
		l := int64(binary.LittleEndian.Uint16(pkt[pos:]))
		if l < nlaHdrLen || l > r {
			return 0
		}
		if uint32(binary.LittleEndian.Uint16(pkt[pos+2:]))&nlaTypeMask == typ {
			return pos
		}
		step := (l + 3) &^ 3
		r -= step
		pos += uint32(step)
	}
	return 0
}
