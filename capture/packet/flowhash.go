package packet

import "math/bits"

// Flow hash constants (spec/RECORD.md, "Flow hash"). The seed is fixed so
// that every wring process, filter and analyzer computes the same value.
const (
	flowSeed = 0x9e3779b97f4a7c15 // 2^64 / golden ratio
	flowMul1 = 0xa0761d6478bd642f
	flowMul2 = 0xe7037ed1a0b428db
)

// flowMix is the 64x64→128 multiply-fold step of wyhash.
func flowMix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// FlowHash computes the symmetric flow hash of spec/RECORD.md from the
// fields it covers: the IP version (4 or 6), the transport protocol, the
// two addresses (16 bytes each, IPv4 in the first four) and the two ports
// (zero when they do not enter the hash). Swapping the endpoints gives the
// same value.
func FlowHash(ipVersion, proto uint8, src, dst *[16]byte, sport, dport uint16) uint32 {
	s0, s1 := be.Uint64(src[0:]), be.Uint64(src[8:])
	d0, d1 := be.Uint64(dst[0:]), be.Uint64(dst[8:])
	// Order the endpoints by (address, port), as unsigned big-endian numbers.
	if s0 > d0 || (s0 == d0 && (s1 > d1 || (s1 == d1 && sport > dport))) {
		s0, s1, d0, d1 = d0, d1, s0, s1
		sport, dport = dport, sport
	}
	return flowHashOrdered(ipVersion, proto, s0, s1, d0, d1, sport, dport)
}

func flowHashOrdered(ipVersion, proto uint8, a0, a1, b0, b1 uint64, ap, bp uint16) uint32 {
	w := uint64(ap)<<48 | uint64(bp)<<32 | uint64(proto)<<8 | uint64(ipVersion)
	h := flowMix(a0^flowMul1, a1^flowSeed)
	h = flowMix(h^b0^flowMul2, b1^flowMul1)
	h = flowMix(h^w, flowMul2)
	return uint32(h) ^ uint32(h>>32)
}
