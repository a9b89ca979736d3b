package main

// AES-128 encryption (FIPS 197), the only direction QUIC's Initial packet
// protection needs: AES-GCM decrypts with the forward cipher (counter
// mode), and header protection encrypts one sample block. The S-box and the
// round tables are computed at start-up from the field arithmetic; a key
// schedule is a value, so deriving keys allocates nothing. The tables are
// not constant-time, which is fine here: Initial keys derive from a
// connection id anyone on the path sees, so there is no secret to leak.

var (
	sbox [256]byte
	// te0[x] is the MixColumns column of S(x) in row 0: (2·S, S, S, 3·S)
	// as a big-endian word; te1..te3 are its rotations.
	te0, te1, te2, te3 [256]uint32
)

func xtime(b byte) byte {
	if b&0x80 != 0 {
		return b<<1 ^ 0x1b
	}
	return b << 1
}

func rotl8(x byte, n uint) byte { return x<<n | x>>(8-n) }

func init() {
	// Walk the multiplicative group with generator 3: p runs over
	// 3^k, q over its inverse 3^-k, so S(p) is the affine map of q.
	p, q := byte(1), byte(1)
	for {
		p ^= xtime(p)
		q ^= q << 1
		q ^= q << 2
		q ^= q << 4
		if q&0x80 != 0 {
			q ^= 0x09
		}
		sbox[p] = q ^ rotl8(q, 1) ^ rotl8(q, 2) ^ rotl8(q, 3) ^ rotl8(q, 4) ^ 0x63
		if p == 1 {
			break
		}
	}
	sbox[0] = 0x63
	for x := range 256 {
		s := sbox[x]
		s2 := xtime(s)
		s3 := s2 ^ s
		w := uint32(s2)<<24 | uint32(s)<<16 | uint32(s)<<8 | uint32(s3)
		te0[x] = w
		te1[x] = w>>8 | w<<24
		te2[x] = w>>16 | w<<16
		te3[x] = w>>24 | w<<8
	}
}

// aes128 is an expanded AES-128 key: 11 round keys of 4 words.
type aes128 struct {
	rk [44]uint32
}

func subWord(w uint32) uint32 {
	return uint32(sbox[w>>24])<<24 | uint32(sbox[w>>16&0xff])<<16 | uint32(sbox[w>>8&0xff])<<8 | uint32(sbox[w&0xff])
}

// setKey expands a 16-byte key.
func (c *aes128) setKey(key []byte) {
	_ = key[15]
	for i := range 4 {
		c.rk[i] = be32(key[4*i:])
	}
	expandKey(&c.rk)
}

// expandKey fills the round keys after the first four words.
//
//go:noinline
func expandKey(rk *[44]uint32) {
	rcon := uint32(1)
	for i := 4; i < 44; i++ {
		t := rk[i-1]
		if i%4 == 0 {
			t = subWord(t<<8|t>>24) ^ rcon<<24
			rcon = uint32(xtime(byte(rcon)))
		}
		rk[i] = rk[i-4] ^ t
	}
}

func be32(b []byte) uint32 {
	_ = b[3]
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func put32(b []byte, v uint32) {
	_ = b[3]
	b[0], b[1], b[2], b[3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
}

func be64(b []byte) uint64 { return uint64(be32(b))<<32 | uint64(be32(b[4:])) }

func put64(b []byte, v uint64) { put32(b, uint32(v>>32)); put32(b[4:], uint32(v)) }
