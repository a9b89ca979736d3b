package main

import "math/bits"

// SHA-256 (FIPS 180-4) for HKDF. crypto/sha256 would do, but in a
// Go-compiled Wasm guest every loop iteration is charged fuel for its
// whole function, and its block function is one large function with 128
// iterations per block; here the loops are functions of their own.

// sha256K are the round constants and sha256H0 the initial hash: the
// first 32 bits of the fractional parts of the cube roots of the first 64
// primes and of the square roots of the first 8, computed exactly at
// start-up.
var (
	sha256K  [64]uint32
	sha256H0 [8]uint32
)

func init() {
	i := 0
	for p := uint64(2); i < 64; p++ {
		if !prime(p) {
			continue
		}
		sha256K[i] = uint32(root(p, 3))
		if i < 8 {
			sha256H0[i] = uint32(root(p, 2))
		}
		i++
	}
}

func prime(p uint64) bool {
	for d := uint64(2); d*d <= p; d++ {
		if p%d == 0 {
			return false
		}
	}
	return true
}

// root returns floor(p^(1/k) · 2^32) for k 2 or 3 and p < 512: the
// largest x with x^k ≤ p·2^(32k), in 128-bit arithmetic.
func root(p uint64, k int) uint64 {
	lo, hi := uint64(0), uint64(1)<<36
	for lo+1 < hi {
		x := (lo + hi) / 2
		var h, l uint64
		var limit uint64 // p·2^(32k) = limit·2^64
		if k == 2 {
			h, l = bits.Mul64(x, x)
			limit = p
		} else {
			h1, l1 := bits.Mul64(x, x)
			h2, l2 := bits.Mul64(l1, x)
			h, l = h1*x+h2, l2
			limit = p << 32
		}
		if h < limit || (h == limit && l == 0) {
			lo = x
		} else {
			hi = x
		}
	}
	return lo
}

// sha256 hashes one message given in parts, into a reused state.
type sha256 struct {
	h   [8]uint32
	w   [64]uint32
	buf [64]byte
	nb  int    // bytes in buf
	n   uint64 // bytes hashed
}

func (s *sha256) reset() {
	s.h = sha256H0
	s.nb, s.n = 0, 0
}

//go:noinline
func (s *sha256) write(p []byte) {
	s.n += uint64(len(p))
	if s.nb > 0 {
		k := copy(s.buf[s.nb:], p)
		s.nb += k
		p = p[k:]
		if s.nb < 64 {
			return
		}
		s.block(s.buf[:])
		s.nb = 0
	}
	for len(p) >= 64 {
		s.block(p[:64])
		p = p[64:]
	}
	s.nb = copy(s.buf[:], p)
}

// sum finishes the hash into out.
func (s *sha256) sum(out *[32]byte) {
	n := s.n
	var pad [72]byte
	pad[0] = 0x80
	k := 56 - s.nb
	if k <= 0 {
		k += 64
	}
	put64(pad[k:], n*8)
	s.write(pad[:k+8])
	putState(out, &s.h)
}

//go:noinline
func putState(out *[32]byte, h *[8]uint32) {
	for i, v := range h {
		put32(out[4*i:], v)
	}
}

func (s *sha256) block(p []byte) {
	schedule(&s.w, p)
	compress(&s.h, &s.w)
}
