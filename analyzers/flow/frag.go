package main

import "math/bits"

// Fragments. Only a datagram's first fragment carries its transport header;
// the flow hash (spec/RECORD.md) leaves the ports out of every fragment so
// that they hash alike. The flow analyzer carries the first fragment's
// ports to the later ones instead of reassembling: a table keyed by the
// datagram (IP version, protocol, addresses and IP identification) keeps
// them for fragTimeout (not keyed by VLAN: tshark reassembles across a
// change of tag too), and each fragment then counts in the datagram's
// 5-tuple flow, with the hash its unfragmented packets have. A later
// fragment seen before its first one (out of order, or the first was lost)
// has no ports to take and counts in the addresses' port-less flow, as
// before; so does every fragment when the table's slot was taken by
// another datagram. Both are counted (fragments_carried,
// fragments_portless).

const (
	fragSlots   = 1024  // datagrams remembered at once (a direct-mapped table)
	fragTimeout = 30e9  // ns: how long a first fragment's ports are kept
	maxExtHdrs  = 8     // IPv6 extension headers walked to find the fragment header
	noOffset    = 65535 // spec.NoOffset
)

// fragKey identifies a datagram.
type fragKey struct {
	version, proto uint8
	src, dst       [16]byte
	id             uint32
}

type fragEntry struct {
	key          fragKey
	sport, dport uint16
	seen         int64 // capture time of the first fragment, 0: empty
}

type fragTable struct {
	slots [fragSlots]fragEntry
}

// slot returns the entry for k's slot.
func (t *fragTable) slot(k *fragKey) *fragEntry {
	h := uint64(k.id)*0x9e3779b97f4a7c15 ^ uint64(k.proto)<<56
	for i := 0; i < 16; i += 8 {
		h ^= le64(k.src[i:]) * 0xa0761d6478bd642f
		h ^= le64(k.dst[i:]) * 0xe7037ed1a0b428db
		h = bits.RotateLeft64(h, 29)
	}
	return &t.slots[h%fragSlots]
}

// first remembers the ports of a datagram's first fragment.
func (t *fragTable) first(k *fragKey, sport, dport uint16, now int64) {
	e := t.slot(k)
	*e = fragEntry{key: *k, sport: sport, dport: dport, seen: max(now, 1)}
}

// later returns the ports of the datagram's first fragment, if it is known.
func (t *fragTable) later(k *fragKey, now int64) (sport, dport uint16, ok bool) {
	e := t.slot(k)
	if e.seen == 0 || e.key != *k || now-e.seen > fragTimeout {
		return 0, 0, false
	}
	return e.sport, e.dport, true
}

// fragID reads the IP identification of the fragment whose network header
// starts at l3 in data: IPv4's 16-bit field, or the 32-bit one of IPv6's
// fragment header, found by walking the extension headers.
func fragID(data []byte, l3 int, version uint8) (uint32, bool) {
	if version == 4 {
		if l3+6 > len(data) {
			return 0, false
		}
		return uint32(data[l3+4])<<8 | uint32(data[l3+5]), true
	}
	if l3+40 > len(data) {
		return 0, false
	}
	next, off := data[l3+6], l3+40
	for range maxExtHdrs {
		switch next {
		case 44: // fragment header: next, reserved, offset and flags, id
			if off+8 > len(data) {
				return 0, false
			}
			return uint32(data[off+4])<<24 | uint32(data[off+5])<<16 | uint32(data[off+6])<<8 | uint32(data[off+7]), true
		case 0, 43, 60: // hop-by-hop, routing, destination options
			if off+2 > len(data) {
				return 0, false
			}
			next, off = data[off], off+(int(data[off+1])+1)*8
		case 51: // authentication header
			if off+2 > len(data) {
				return 0, false
			}
			next, off = data[off], off+(int(data[off+1])+2)*4
		default:
			return 0, false
		}
	}
	return 0, false
}

// flowHash is spec/RECORD.md's symmetric flow hash of a 5-tuple (the
// Record's, for a packet that is not a fragment).
func flowHash(version, proto uint8, src, dst *[16]byte, sport, dport uint16) uint32 {
	const (
		s  = 0x9e3779b97f4a7c15
		k1 = 0xa0761d6478bd642f
		k2 = 0xe7037ed1a0b428db
	)
	a0, a1, b0, b1 := be64(src[:8]), be64(src[8:]), be64(dst[:8]), be64(dst[8:])
	pa, pb := sport, dport
	if b0 < a0 || b0 == a0 && (b1 < a1 || b1 == a1 && pb < pa) {
		a0, a1, b0, b1 = b0, b1, a0, a1
		pa, pb = pb, pa
	}
	w := uint64(pa)<<48 | uint64(pb)<<32 | uint64(proto)<<8 | uint64(version)
	h := mix(a0^k1, a1^s)
	h = mix(h^b0^k2, b1^k1)
	h = mix(h^w, k2)
	return uint32(h) ^ uint32(h>>32)
}

func mix(x, y uint64) uint64 {
	hi, lo := bits.Mul64(x, y)
	return hi ^ lo
}

func be64(b []byte) uint64 {
	return uint64(b[0])<<56 | uint64(b[1])<<48 | uint64(b[2])<<40 | uint64(b[3])<<32 |
		uint64(b[4])<<24 | uint64(b[5])<<16 | uint64(b[6])<<8 | uint64(b[7])
}

func le64(b []byte) uint64 {
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}
