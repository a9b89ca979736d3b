package main

import "math/bits"

// AES-128-GCM decryption (NIST SP 800-38D) with a 12-byte nonce and a
// 16-byte tag, as QUIC packet protection uses it. GHASH multiplies by the
// hash key with a 16-entry table of its 4-bit multiples.

// elem is an element of GF(2^128) in GCM's bit order: the first bit of a
// block, the MSB of hi, is the coefficient of x^0.
type elem struct{ hi, lo uint64 }

// mulX multiplies by x: a right shift, reduced by x^128 = x^7+x^2+x+1.
func (e elem) mulX() elem {
	carry := e.lo & 1
	e.lo = e.lo>>1 | e.hi<<63
	e.hi >>= 1
	if carry != 0 {
		e.hi ^= 0xe1 << 56
	}
	return e
}

// red4[b] is what the four coefficients b (x^124..x^127, the low nibble
// of lo) contribute to hi when an element is multiplied by x^4.
var red4 [16]uint64

func init() {
	for b := range red4 {
		e := elem{lo: uint64(b)}
		for range 4 {
			e = e.mulX()
		}
		red4[b] = e.hi
	}
}

// gcm is an AES-128-GCM key: the block cipher and the GHASH table.
type gcm struct {
	block aes128
	// tab[n] is n·H for the nibble n whose bit 3 is x^0 and bit 0 x^3.
	tab [16]elem
}

const tagSize = 16

func (g *gcm) setKey(key []byte) {
	g.block.setKey(key)
	var zero, h [16]byte
	g.block.encrypt(h[:], zero[:])
	fillTable(&g.tab, elem{be64(h[:8]), be64(h[8:])})
}

// fillTable fills tab with the 4-bit multiples of p.
//
//go:noinline
func fillTable(tab *[16]elem, p elem) {
	// Entry n is entry n without its lowest set bit, plus that bit's
	// power: bit 3 is p·x^0, bit 0 is p·x^3.
	pow := [4]elem{p, p.mulX(), p.mulX().mulX(), p.mulX().mulX().mulX()}
	tab[0] = elem{}
	for n := 1; n < 16; n++ {
		low := n & -n // 1, 2, 4 or 8
		k := 3 - bits.TrailingZeros(uint(low))
		e := tab[n&^low]
		tab[n] = elem{e.hi ^ pow[k].hi, e.lo ^ pow[k].lo}
	}
}

// mulH returns y·H. (Loops in the hot path live in small functions: in
// a Go-compiled Wasm guest every loop iteration is charged fuel for its
// whole function.)
func (g *gcm) mulH(y elem) elem {
	z := g.mul8(elem{}, y.lo) // bytes 15..8
	return g.mul8(z, y.hi)    // bytes 7..0
}

// ghash absorbs b, zero-padded to whole blocks, into y.
//
//go:noinline
func (g *gcm) ghash(y elem, b []byte) elem {
	for len(b) >= 16 {
		y = g.mulH(elem{y.hi ^ be64(b[:8]), y.lo ^ be64(b[8:16])})
		b = b[16:]
	}
	if len(b) > 0 {
		var last [16]byte
		copy(last[:], b)
		y = g.mulH(elem{y.hi ^ be64(last[:8]), y.lo ^ be64(last[8:])})
	}
	return y
}

// open checks the tag at the end of sealed (ciphertext then tag) over aad
// and the ciphertext, and decrypts the ciphertext into dst, which must
// hold len(sealed)-tagSize bytes (dst may be sealed itself). It reports
// false, leaving dst untouched, when the tag does not match.
func (g *gcm) open(dst []byte, nonce *[12]byte, aad, sealed []byte) bool {
	if len(sealed) < tagSize {
		return false
	}
	ct := sealed[:len(sealed)-tagSize]
	tag := sealed[len(sealed)-tagSize:]
	y := g.ghash(elem{}, aad)
	y = g.ghash(y, ct)
	y.hi ^= uint64(len(aad)) * 8
	y.lo ^= uint64(len(ct)) * 8
	y = g.mulH(y)
	var ctr, ks [16]byte
	copy(ctr[:12], nonce[:])
	put32(ctr[12:], 1)
	g.block.encrypt(ks[:], ctr[:])
	var want [16]byte
	put64(want[:8], y.hi^be64(ks[:8]))
	put64(want[8:], y.lo^be64(ks[8:]))
	var diff byte
	for i := range want {
		diff |= want[i] ^ tag[i]
	}
	if diff != 0 {
		return false
	}
	g.ctr(dst[:len(ct)], ct, &ctr)
	return true
}

// ctr XORs src with the key stream from counter block 2 on into dst.
//
//go:noinline
func (g *gcm) ctr(dst, src []byte, ctr *[16]byte) {
	var ks [16]byte
	n := uint32(2)
	for len(src) >= 16 {
		put32(ctr[12:], n)
		g.block.encrypt(ks[:], ctr[:])
		put64(dst[:8], be64(src[:8])^be64(ks[:8]))
		put64(dst[8:16], be64(src[8:16])^be64(ks[8:]))
		dst, src, n = dst[16:], src[16:], n+1
	}
	if len(src) > 0 {
		put32(ctr[12:], n)
		g.block.encrypt(ks[:], ctr[:])
		xorBytes(dst, src, ks[:])
	}
}

//go:noinline
func xorBytes(dst, a, b []byte) {
	for i := range a {
		dst[i] = a[i] ^ b[i]
	}
}
