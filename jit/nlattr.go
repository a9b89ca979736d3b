package jit

import "encoding/binary"

// The netlink attribute searches of SKF_AD_NLATTR and SKF_AD_NLATTR_NEST,
// as Linux's bpf_skb_get_nlattr and bpf_skb_get_nlattr_nest define them:
// the packet holds netlink attributes (struct nlattr: u16 length, u16 type,
// host byte order, little-endian on the hosts wring runs on), A is where
// the search starts and X the attribute type wanted. The result is the
// packet offset of the first matching attribute, or 0. They only mean
// something on netlink sockets; the native backend leaves programs that use
// them to the portable one (see Filter.Native).

const (
	nlaHeader   = 4      // sizeof(struct nlattr)
	nlaTypeBits = 0x3fff // the type without NLA_F_NESTED and NLA_F_NET_BYTEORDER
)

func nlattr(pkt []byte, a, x uint32) uint32 {
	if uint64(len(pkt)) > 1<<32-1 {
		return 0
	}
	n := uint32(len(pkt))
	if n < nlaHeader || a > n-nlaHeader {
		return 0
	}
	return nlaSearch(pkt, a, int64(n-a), x)
}

func nlattrNest(pkt []byte, a, x uint32) uint32 {
	if uint64(len(pkt)) > 1<<32-1 {
		return 0
	}
	n := uint32(len(pkt))
	if n < nlaHeader || a > n-nlaHeader {
		return 0
	}
	outer := uint32(binary.LittleEndian.Uint16(pkt[a:]))
	if outer > n-a {
		return 0
	}
	// The nested attributes follow the outer header; a length below the
	// header leaves nothing to search.
	return nlaSearch(pkt, a+nlaHeader, int64(outer)-nlaHeader, x)
}

// nlaSearch walks the attributes starting at pos with rem bytes left
// (nla_find) and returns the offset of the first of type typ, or 0.
func nlaSearch(pkt []byte, pos uint32, rem int64, typ uint32) uint32 {
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
