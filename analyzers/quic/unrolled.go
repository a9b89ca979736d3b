package main

import "math/bits"

// The loops of SHA-256, GHASH and AES written out: in a Go-compiled Wasm guest
// every taken jump (every loop iteration) is charged fuel for the whole
// function it is in, straight-line code once.

//go:noinline
func schedule(w *[64]uint32, p []byte) {
	_ = p[63]
	w[0] = uint32(p[0])<<24 | uint32(p[1])<<16 | uint32(p[2])<<8 | uint32(p[3])
	w[1] = uint32(p[4])<<24 | uint32(p[5])<<16 | uint32(p[6])<<8 | uint32(p[7])
	w[2] = uint32(p[8])<<24 | uint32(p[9])<<16 | uint32(p[10])<<8 | uint32(p[11])
	w[3] = uint32(p[12])<<24 | uint32(p[13])<<16 | uint32(p[14])<<8 | uint32(p[15])
	w[4] = uint32(p[16])<<24 | uint32(p[17])<<16 | uint32(p[18])<<8 | uint32(p[19])
	w[5] = uint32(p[20])<<24 | uint32(p[21])<<16 | uint32(p[22])<<8 | uint32(p[23])
	w[6] = uint32(p[24])<<24 | uint32(p[25])<<16 | uint32(p[26])<<8 | uint32(p[27])
	w[7] = uint32(p[28])<<24 | uint32(p[29])<<16 | uint32(p[30])<<8 | uint32(p[31])
	w[8] = uint32(p[32])<<24 | uint32(p[33])<<16 | uint32(p[34])<<8 | uint32(p[35])
	w[9] = uint32(p[36])<<24 | uint32(p[37])<<16 | uint32(p[38])<<8 | uint32(p[39])
	w[10] = uint32(p[40])<<24 | uint32(p[41])<<16 | uint32(p[42])<<8 | uint32(p[43])
	w[11] = uint32(p[44])<<24 | uint32(p[45])<<16 | uint32(p[46])<<8 | uint32(p[47])
	w[12] = uint32(p[48])<<24 | uint32(p[49])<<16 | uint32(p[50])<<8 | uint32(p[51])
	w[13] = uint32(p[52])<<24 | uint32(p[53])<<16 | uint32(p[54])<<8 | uint32(p[55])
	w[14] = uint32(p[56])<<24 | uint32(p[57])<<16 | uint32(p[58])<<8 | uint32(p[59])
	w[15] = uint32(p[60])<<24 | uint32(p[61])<<16 | uint32(p[62])<<8 | uint32(p[63])
	w[16] = w[0] + sigma0(w[1]) + w[9] + sigma1(w[14])
	w[17] = w[1] + sigma0(w[2]) + w[10] + sigma1(w[15])
	w[18] = w[2] + sigma0(w[3]) + w[11] + sigma1(w[16])
	w[19] = w[3] + sigma0(w[4]) + w[12] + sigma1(w[17])
	w[20] = w[4] + sigma0(w[5]) + w[13] + sigma1(w[18])
	w[21] = w[5] + sigma0(w[6]) + w[14] + sigma1(w[19])
	w[22] = w[6] + sigma0(w[7]) + w[15] + sigma1(w[20])
	w[23] = w[7] + sigma0(w[8]) + w[16] + sigma1(w[21])
	w[24] = w[8] + sigma0(w[9]) + w[17] + sigma1(w[22])
	w[25] = w[9] + sigma0(w[10]) + w[18] + sigma1(w[23])
	w[26] = w[10] + sigma0(w[11]) + w[19] + sigma1(w[24])
	w[27] = w[11] + sigma0(w[12]) + w[20] + sigma1(w[25])
	w[28] = w[12] + sigma0(w[13]) + w[21] + sigma1(w[26])
	w[29] = w[13] + sigma0(w[14]) + w[22] + sigma1(w[27])
	w[30] = w[14] + sigma0(w[15]) + w[23] + sigma1(w[28])
	w[31] = w[15] + sigma0(w[16]) + w[24] + sigma1(w[29])
	w[32] = w[16] + sigma0(w[17]) + w[25] + sigma1(w[30])
	w[33] = w[17] + sigma0(w[18]) + w[26] + sigma1(w[31])
	w[34] = w[18] + sigma0(w[19]) + w[27] + sigma1(w[32])
	w[35] = w[19] + sigma0(w[20]) + w[28] + sigma1(w[33])
	w[36] = w[20] + sigma0(w[21]) + w[29] + sigma1(w[34])
	w[37] = w[21] + sigma0(w[22]) + w[30] + sigma1(w[35])
	w[38] = w[22] + sigma0(w[23]) + w[31] + sigma1(w[36])
	w[39] = w[23] + sigma0(w[24]) + w[32] + sigma1(w[37])
	w[40] = w[24] + sigma0(w[25]) + w[33] + sigma1(w[38])
	w[41] = w[25] + sigma0(w[26]) + w[34] + sigma1(w[39])
	w[42] = w[26] + sigma0(w[27]) + w[35] + sigma1(w[40])
	w[43] = w[27] + sigma0(w[28]) + w[36] + sigma1(w[41])
	w[44] = w[28] + sigma0(w[29]) + w[37] + sigma1(w[42])
	w[45] = w[29] + sigma0(w[30]) + w[38] + sigma1(w[43])
	w[46] = w[30] + sigma0(w[31]) + w[39] + sigma1(w[44])
	w[47] = w[31] + sigma0(w[32]) + w[40] + sigma1(w[45])
	w[48] = w[32] + sigma0(w[33]) + w[41] + sigma1(w[46])
	w[49] = w[33] + sigma0(w[34]) + w[42] + sigma1(w[47])
	w[50] = w[34] + sigma0(w[35]) + w[43] + sigma1(w[48])
	w[51] = w[35] + sigma0(w[36]) + w[44] + sigma1(w[49])
	w[52] = w[36] + sigma0(w[37]) + w[45] + sigma1(w[50])
	w[53] = w[37] + sigma0(w[38]) + w[46] + sigma1(w[51])
	w[54] = w[38] + sigma0(w[39]) + w[47] + sigma1(w[52])
	w[55] = w[39] + sigma0(w[40]) + w[48] + sigma1(w[53])
	w[56] = w[40] + sigma0(w[41]) + w[49] + sigma1(w[54])
	w[57] = w[41] + sigma0(w[42]) + w[50] + sigma1(w[55])
	w[58] = w[42] + sigma0(w[43]) + w[51] + sigma1(w[56])
	w[59] = w[43] + sigma0(w[44]) + w[52] + sigma1(w[57])
	w[60] = w[44] + sigma0(w[45]) + w[53] + sigma1(w[58])
	w[61] = w[45] + sigma0(w[46]) + w[54] + sigma1(w[59])
	w[62] = w[46] + sigma0(w[47]) + w[55] + sigma1(w[60])
	w[63] = w[47] + sigma0(w[48]) + w[56] + sigma1(w[61])
}

func sigma0(a uint32) uint32 { return bits.RotateLeft32(a, -7) ^ bits.RotateLeft32(a, -18) ^ a>>3 }

func sigma1(b uint32) uint32 { return bits.RotateLeft32(b, -17) ^ bits.RotateLeft32(b, -19) ^ b>>10 }

// step is one SHA-256 round: it returns the new d and h.
func step(a, b, c, d, e, f, g, h, k uint32) (uint32, uint32) {
	t1 := h + (bits.RotateLeft32(e, -6) ^ bits.RotateLeft32(e, -11) ^ bits.RotateLeft32(e, -25)) + (e&f ^ ^e&g) + k
	t2 := (bits.RotateLeft32(a, -2) ^ bits.RotateLeft32(a, -13) ^ bits.RotateLeft32(a, -22)) + (a&b ^ a&c ^ b&c)
	return d + t1, t1 + t2
}

//go:noinline
func compress(s *[8]uint32, w *[64]uint32) {
	a, b, c, d, e, f, g, h := s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]
	d, h = step(a, b, c, d, e, f, g, h, sha256K[0]+w[0])
	c, g = step(h, a, b, c, d, e, f, g, sha256K[1]+w[1])
	b, f = step(g, h, a, b, c, d, e, f, sha256K[2]+w[2])
	a, e = step(f, g, h, a, b, c, d, e, sha256K[3]+w[3])
	h, d = step(e, f, g, h, a, b, c, d, sha256K[4]+w[4])
	g, c = step(d, e, f, g, h, a, b, c, sha256K[5]+w[5])
	f, b = step(c, d, e, f, g, h, a, b, sha256K[6]+w[6])
	e, a = step(b, c, d, e, f, g, h, a, sha256K[7]+w[7])
	d, h = step(a, b, c, d, e, f, g, h, sha256K[8]+w[8])
	c, g = step(h, a, b, c, d, e, f, g, sha256K[9]+w[9])
	b, f = step(g, h, a, b, c, d, e, f, sha256K[10]+w[10])
	a, e = step(f, g, h, a, b, c, d, e, sha256K[11]+w[11])
	h, d = step(e, f, g, h, a, b, c, d, sha256K[12]+w[12])
	g, c = step(d, e, f, g, h, a, b, c, sha256K[13]+w[13])
	f, b = step(c, d, e, f, g, h, a, b, sha256K[14]+w[14])
	e, a = step(b, c, d, e, f, g, h, a, sha256K[15]+w[15])
	d, h = step(a, b, c, d, e, f, g, h, sha256K[16]+w[16])
	c, g = step(h, a, b, c, d, e, f, g, sha256K[17]+w[17])
	b, f = step(g, h, a, b, c, d, e, f, sha256K[18]+w[18])
	a, e = step(f, g, h, a, b, c, d, e, sha256K[19]+w[19])
	h, d = step(e, f, g, h, a, b, c, d, sha256K[20]+w[20])
	g, c = step(d, e, f, g, h, a, b, c, sha256K[21]+w[21])
	f, b = step(c, d, e, f, g, h, a, b, sha256K[22]+w[22])
	e, a = step(b, c, d, e, f, g, h, a, sha256K[23]+w[23])
	d, h = step(a, b, c, d, e, f, g, h, sha256K[24]+w[24])
	c, g = step(h, a, b, c, d, e, f, g, sha256K[25]+w[25])
	b, f = step(g, h, a, b, c, d, e, f, sha256K[26]+w[26])
	a, e = step(f, g, h, a, b, c, d, e, sha256K[27]+w[27])
	h, d = step(e, f, g, h, a, b, c, d, sha256K[28]+w[28])
	g, c = step(d, e, f, g, h, a, b, c, sha256K[29]+w[29])
	f, b = step(c, d, e, f, g, h, a, b, sha256K[30]+w[30])
	e, a = step(b, c, d, e, f, g, h, a, sha256K[31]+w[31])
	d, h = step(a, b, c, d, e, f, g, h, sha256K[32]+w[32])
	c, g = step(h, a, b, c, d, e, f, g, sha256K[33]+w[33])
	b, f = step(g, h, a, b, c, d, e, f, sha256K[34]+w[34])
	a, e = step(f, g, h, a, b, c, d, e, sha256K[35]+w[35])
	h, d = step(e, f, g, h, a, b, c, d, sha256K[36]+w[36])
	g, c = step(d, e, f, g, h, a, b, c, sha256K[37]+w[37])
	f, b = step(c, d, e, f, g, h, a, b, sha256K[38]+w[38])
	e, a = step(b, c, d, e, f, g, h, a, sha256K[39]+w[39])
	d, h = step(a, b, c, d, e, f, g, h, sha256K[40]+w[40])
	c, g = step(h, a, b, c, d, e, f, g, sha256K[41]+w[41])
	b, f = step(g, h, a, b, c, d, e, f, sha256K[42]+w[42])
	a, e = step(f, g, h, a, b, c, d, e, sha256K[43]+w[43])
	h, d = step(e, f, g, h, a, b, c, d, sha256K[44]+w[44])
	g, c = step(d, e, f, g, h, a, b, c, sha256K[45]+w[45])
	f, b = step(c, d, e, f, g, h, a, b, sha256K[46]+w[46])
	e, a = step(b, c, d, e, f, g, h, a, sha256K[47]+w[47])
	d, h = step(a, b, c, d, e, f, g, h, sha256K[48]+w[48])
	c, g = step(h, a, b, c, d, e, f, g, sha256K[49]+w[49])
	b, f = step(g, h, a, b, c, d, e, f, sha256K[50]+w[50])
	a, e = step(f, g, h, a, b, c, d, e, sha256K[51]+w[51])
	h, d = step(e, f, g, h, a, b, c, d, sha256K[52]+w[52])
	g, c = step(d, e, f, g, h, a, b, c, sha256K[53]+w[53])
	f, b = step(c, d, e, f, g, h, a, b, sha256K[54]+w[54])
	e, a = step(b, c, d, e, f, g, h, a, sha256K[55]+w[55])
	d, h = step(a, b, c, d, e, f, g, h, sha256K[56]+w[56])
	c, g = step(h, a, b, c, d, e, f, g, sha256K[57]+w[57])
	b, f = step(g, h, a, b, c, d, e, f, sha256K[58]+w[58])
	a, e = step(f, g, h, a, b, c, d, e, sha256K[59]+w[59])
	h, d = step(e, f, g, h, a, b, c, d, sha256K[60]+w[60])
	g, c = step(d, e, f, g, h, a, b, c, sha256K[61]+w[61])
	f, b = step(c, d, e, f, g, h, a, b, sha256K[62]+w[62])
	e, a = step(b, c, d, e, f, g, h, a, sha256K[63]+w[63])
	s[0] += a
	s[1] += b
	s[2] += c
	s[3] += d
	s[4] += e
	s[5] += f
	s[6] += g
	s[7] += h
}

// mul8 runs Horner's rule over the eight bytes of w, last byte first,
// low nibble first: z = z·x^4 + nibble·H.
//
//go:noinline
func (g *gcm) mul8(z elem, w uint64) elem {
	tab := &g.tab
	hi, lo := z.hi, z.lo
	var t *elem
	t = &tab[w>>0&15]
	hi, lo = hi>>4^red4[lo&15]^t.hi, (lo>>4|hi<<60)^t.lo
	t = &tab[w>>4&15]
	hi, lo = hi>>4^red4[lo&15]^t.hi, (lo>>4|hi<<60)^t.lo
	t = &tab[w>>8&15]
	hi, lo = hi>>4^red4[lo&15]^t.hi, (lo>>4|hi<<60)^t.lo
	t = &tab[w>>12&15]
	hi, lo = hi>>4^red4[lo&15]^t.hi, (lo>>4|hi<<60)^t.lo
	t = &tab[w>>16&15]
	hi, lo = hi>>4^red4[lo&15]^t.hi, (lo>>4|hi<<60)^t.lo
	t = &tab[w>>20&15]
	hi, lo = hi>>4^red4[lo&15]^t.hi, (lo>>4|hi<<60)^t.lo
	t = &tab[w>>24&15]
	hi, lo = hi>>4^red4[lo&15]^t.hi, (lo>>4|hi<<60)^t.lo
	t = &tab[w>>28&15]
	hi, lo = hi>>4^red4[lo&15]^t.hi, (lo>>4|hi<<60)^t.lo
	t = &tab[w>>32&15]
	hi, lo = hi>>4^red4[lo&15]^t.hi, (lo>>4|hi<<60)^t.lo
	t = &tab[w>>36&15]
	hi, lo = hi>>4^red4[lo&15]^t.hi, (lo>>4|hi<<60)^t.lo
	t = &tab[w>>40&15]
	hi, lo = hi>>4^red4[lo&15]^t.hi, (lo>>4|hi<<60)^t.lo
	t = &tab[w>>44&15]
	hi, lo = hi>>4^red4[lo&15]^t.hi, (lo>>4|hi<<60)^t.lo
	t = &tab[w>>48&15]
	hi, lo = hi>>4^red4[lo&15]^t.hi, (lo>>4|hi<<60)^t.lo
	t = &tab[w>>52&15]
	hi, lo = hi>>4^red4[lo&15]^t.hi, (lo>>4|hi<<60)^t.lo
	t = &tab[w>>56&15]
	hi, lo = hi>>4^red4[lo&15]^t.hi, (lo>>4|hi<<60)^t.lo
	t = &tab[w>>60&15]
	hi, lo = hi>>4^red4[lo&15]^t.hi, (lo>>4|hi<<60)^t.lo
	return elem{hi, lo}
}

// encrypt encrypts the 16-byte block src into dst (they may overlap).
//
//go:noinline
func (c *aes128) encrypt(dst, src []byte) {
	_, _ = dst[15], src[15]
	rk := &c.rk
	s0 := uint32(src[0])<<24 | uint32(src[1])<<16 | uint32(src[2])<<8 | uint32(src[3])
	s1 := uint32(src[4])<<24 | uint32(src[5])<<16 | uint32(src[6])<<8 | uint32(src[7])
	s2 := uint32(src[8])<<24 | uint32(src[9])<<16 | uint32(src[10])<<8 | uint32(src[11])
	s3 := uint32(src[12])<<24 | uint32(src[13])<<16 | uint32(src[14])<<8 | uint32(src[15])
	s0, s1, s2, s3 = s0^rk[0], s1^rk[1], s2^rk[2], s3^rk[3]
	var t0, t1, t2, t3 uint32
	t0 = te0[s0>>24] ^ te1[s1>>16&0xff] ^ te2[s2>>8&0xff] ^ te3[s3&0xff] ^ rk[4]
	t1 = te0[s1>>24] ^ te1[s2>>16&0xff] ^ te2[s3>>8&0xff] ^ te3[s0&0xff] ^ rk[5]
	t2 = te0[s2>>24] ^ te1[s3>>16&0xff] ^ te2[s0>>8&0xff] ^ te3[s1&0xff] ^ rk[6]
	t3 = te0[s3>>24] ^ te1[s0>>16&0xff] ^ te2[s1>>8&0xff] ^ te3[s2&0xff] ^ rk[7]
	s0, s1, s2, s3 = t0, t1, t2, t3
	t0 = te0[s0>>24] ^ te1[s1>>16&0xff] ^ te2[s2>>8&0xff] ^ te3[s3&0xff] ^ rk[8]
	t1 = te0[s1>>24] ^ te1[s2>>16&0xff] ^ te2[s3>>8&0xff] ^ te3[s0&0xff] ^ rk[9]
	t2 = te0[s2>>24] ^ te1[s3>>16&0xff] ^ te2[s0>>8&0xff] ^ te3[s1&0xff] ^ rk[10]
	t3 = te0[s3>>24] ^ te1[s0>>16&0xff] ^ te2[s1>>8&0xff] ^ te3[s2&0xff] ^ rk[11]
	s0, s1, s2, s3 = t0, t1, t2, t3
	t0 = te0[s0>>24] ^ te1[s1>>16&0xff] ^ te2[s2>>8&0xff] ^ te3[s3&0xff] ^ rk[12]
	t1 = te0[s1>>24] ^ te1[s2>>16&0xff] ^ te2[s3>>8&0xff] ^ te3[s0&0xff] ^ rk[13]
	t2 = te0[s2>>24] ^ te1[s3>>16&0xff] ^ te2[s0>>8&0xff] ^ te3[s1&0xff] ^ rk[14]
	t3 = te0[s3>>24] ^ te1[s0>>16&0xff] ^ te2[s1>>8&0xff] ^ te3[s2&0xff] ^ rk[15]
	s0, s1, s2, s3 = t0, t1, t2, t3
	t0 = te0[s0>>24] ^ te1[s1>>16&0xff] ^ te2[s2>>8&0xff] ^ te3[s3&0xff] ^ rk[16]
	t1 = te0[s1>>24] ^ te1[s2>>16&0xff] ^ te2[s3>>8&0xff] ^ te3[s0&0xff] ^ rk[17]
	t2 = te0[s2>>24] ^ te1[s3>>16&0xff] ^ te2[s0>>8&0xff] ^ te3[s1&0xff] ^ rk[18]
	t3 = te0[s3>>24] ^ te1[s0>>16&0xff] ^ te2[s1>>8&0xff] ^ te3[s2&0xff] ^ rk[19]
	s0, s1, s2, s3 = t0, t1, t2, t3
	t0 = te0[s0>>24] ^ te1[s1>>16&0xff] ^ te2[s2>>8&0xff] ^ te3[s3&0xff] ^ rk[20]
	t1 = te0[s1>>24] ^ te1[s2>>16&0xff] ^ te2[s3>>8&0xff] ^ te3[s0&0xff] ^ rk[21]
	t2 = te0[s2>>24] ^ te1[s3>>16&0xff] ^ te2[s0>>8&0xff] ^ te3[s1&0xff] ^ rk[22]
	t3 = te0[s3>>24] ^ te1[s0>>16&0xff] ^ te2[s1>>8&0xff] ^ te3[s2&0xff] ^ rk[23]
	s0, s1, s2, s3 = t0, t1, t2, t3
	t0 = te0[s0>>24] ^ te1[s1>>16&0xff] ^ te2[s2>>8&0xff] ^ te3[s3&0xff] ^ rk[24]
	t1 = te0[s1>>24] ^ te1[s2>>16&0xff] ^ te2[s3>>8&0xff] ^ te3[s0&0xff] ^ rk[25]
	t2 = te0[s2>>24] ^ te1[s3>>16&0xff] ^ te2[s0>>8&0xff] ^ te3[s1&0xff] ^ rk[26]
	t3 = te0[s3>>24] ^ te1[s0>>16&0xff] ^ te2[s1>>8&0xff] ^ te3[s2&0xff] ^ rk[27]
	s0, s1, s2, s3 = t0, t1, t2, t3
	t0 = te0[s0>>24] ^ te1[s1>>16&0xff] ^ te2[s2>>8&0xff] ^ te3[s3&0xff] ^ rk[28]
	t1 = te0[s1>>24] ^ te1[s2>>16&0xff] ^ te2[s3>>8&0xff] ^ te3[s0&0xff] ^ rk[29]
	t2 = te0[s2>>24] ^ te1[s3>>16&0xff] ^ te2[s0>>8&0xff] ^ te3[s1&0xff] ^ rk[30]
	t3 = te0[s3>>24] ^ te1[s0>>16&0xff] ^ te2[s1>>8&0xff] ^ te3[s2&0xff] ^ rk[31]
	s0, s1, s2, s3 = t0, t1, t2, t3
	t0 = te0[s0>>24] ^ te1[s1>>16&0xff] ^ te2[s2>>8&0xff] ^ te3[s3&0xff] ^ rk[32]
	t1 = te0[s1>>24] ^ te1[s2>>16&0xff] ^ te2[s3>>8&0xff] ^ te3[s0&0xff] ^ rk[33]
	t2 = te0[s2>>24] ^ te1[s3>>16&0xff] ^ te2[s0>>8&0xff] ^ te3[s1&0xff] ^ rk[34]
	t3 = te0[s3>>24] ^ te1[s0>>16&0xff] ^ te2[s1>>8&0xff] ^ te3[s2&0xff] ^ rk[35]
	s0, s1, s2, s3 = t0, t1, t2, t3
	t0 = te0[s0>>24] ^ te1[s1>>16&0xff] ^ te2[s2>>8&0xff] ^ te3[s3&0xff] ^ rk[36]
	t1 = te0[s1>>24] ^ te1[s2>>16&0xff] ^ te2[s3>>8&0xff] ^ te3[s0&0xff] ^ rk[37]
	t2 = te0[s2>>24] ^ te1[s3>>16&0xff] ^ te2[s0>>8&0xff] ^ te3[s1&0xff] ^ rk[38]
	t3 = te0[s3>>24] ^ te1[s0>>16&0xff] ^ te2[s1>>8&0xff] ^ te3[s2&0xff] ^ rk[39]
	s0, s1, s2, s3 = t0, t1, t2, t3
	// The last round has no MixColumns.
	t0 = (uint32(sbox[s0>>24])<<24 | uint32(sbox[s1>>16&0xff])<<16 | uint32(sbox[s2>>8&0xff])<<8 | uint32(sbox[s3&0xff])) ^ rk[40]
	t1 = (uint32(sbox[s1>>24])<<24 | uint32(sbox[s2>>16&0xff])<<16 | uint32(sbox[s3>>8&0xff])<<8 | uint32(sbox[s0&0xff])) ^ rk[41]
	t2 = (uint32(sbox[s2>>24])<<24 | uint32(sbox[s3>>16&0xff])<<16 | uint32(sbox[s0>>8&0xff])<<8 | uint32(sbox[s1&0xff])) ^ rk[42]
	t3 = (uint32(sbox[s3>>24])<<24 | uint32(sbox[s0>>16&0xff])<<16 | uint32(sbox[s1>>8&0xff])<<8 | uint32(sbox[s2&0xff])) ^ rk[43]
	dst[0], dst[1], dst[2], dst[3] = byte(t0>>24), byte(t0>>16), byte(t0>>8), byte(t0)
	dst[4], dst[5], dst[6], dst[7] = byte(t1>>24), byte(t1>>16), byte(t1>>8), byte(t1)
	dst[8], dst[9], dst[10], dst[11] = byte(t2>>24), byte(t2>>16), byte(t2>>8), byte(t2)
	dst[12], dst[13], dst[14], dst[15] = byte(t3>>24), byte(t3>>16), byte(t3>>8), byte(t3)
}
