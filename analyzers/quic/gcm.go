package main

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
	p := elem{be64(h[:8]), be64(h[8:])}
	var pow [4]elem // H·x^k
	for k := range pow {
		pow[k] = p
		p = p.mulX()
	}
	for n := range g.tab {
		var e elem
		for k := range 4 {
			if n&(8>>k) != 0 {
				e.hi ^= pow[k].hi
				e.lo ^= pow[k].lo
			}
		}
		g.tab[n] = e
	}
}

// mulH returns y·H.
func (g *gcm) mulH(y elem) elem {
	var z elem
	step := func(n uint64) {
		z = elem{z.hi>>4 ^ red4[z.lo&15], z.lo>>4 | z.hi<<60}
		t := &g.tab[n]
		z.hi ^= t.hi
		z.lo ^= t.lo
	}
	for i := 0; i < 8; i++ { // bytes 15..8, in lo
		b := y.lo >> (8 * i)
		step(b & 15)
		step(b >> 4 & 15)
	}
	for i := 0; i < 8; i++ { // bytes 7..0, in hi
		b := y.hi >> (8 * i)
		step(b & 15)
		step(b >> 4 & 15)
	}
	return z
}

// ghash absorbs b, zero-padded to whole blocks, into y.
func (g *gcm) ghash(y elem, b []byte) elem {
	for len(b) >= 16 {
		y.hi ^= be64(b[:8])
		y.lo ^= be64(b[8:16])
		y = g.mulH(y)
		b = b[16:]
	}
	if len(b) > 0 {
		var last [16]byte
		copy(last[:], b)
		y.hi ^= be64(last[:8])
		y.lo ^= be64(last[8:])
		y = g.mulH(y)
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
	dst = dst[:len(ct)]
	for i, n := 0, uint32(2); i < len(ct); i, n = i+16, n+1 {
		put32(ctr[12:], n)
		g.block.encrypt(ks[:], ctr[:])
		end := min(i+16, len(ct))
		for j := i; j < end; j++ {
			dst[j] = ct[j] ^ ks[j-i]
		}
	}
	return true
}
