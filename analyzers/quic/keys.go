package main

// QUIC versions whose Initial packets the analyzer decrypts.
const (
	version1 = 0x00000001 // RFC 9000
	version2 = 0x6b3343cf // RFC 9369
)

// Initial salts (RFC 9001 §5.2, RFC 9369 §3.3.1).
var (
	salt1 = [20]byte{0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a}
	salt2 = [20]byte{0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93, 0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9}
)

// keys are the client's Initial packet protection keys for one
// destination connection id.
type keys struct {
	aead gcm
	iv   [12]byte
	hp   aes128
}

// kdf holds the scratch space of key derivation: HMAC-SHA256 over a
// reused hash, so deriving keys allocates nothing.
type kdf struct {
	h   sha256
	buf [64 + 64]byte
	sum [32]byte
}

func newKDF() *kdf { return &kdf{} }

// hmac computes HMAC-SHA256(key, msg) into k.sum; key is at most 64 bytes.
func (k *kdf) hmac(key []byte, msg ...[]byte) {
	pad := k.buf[:64]
	clear(pad)
	copy(pad, key)
	xorByte(pad, 0x36)
	k.h.reset()
	k.h.write(pad)
	for _, m := range msg {
		k.h.write(m)
	}
	k.h.sum(&k.sum)
	xorByte(pad, 0x36^0x5c)
	k.h.reset()
	k.h.write(pad)
	k.h.write(k.sum[:])
	k.h.sum(&k.sum)
}

// expandLabel is HKDF-Expand-Label(secret, label, "", n) of TLS 1.3
// (RFC 8446 §7.1) for n ≤ 32: one HMAC block.
func (k *kdf) expandLabel(dst, secret []byte, label string) {
	n := len(dst)
	info := k.buf[64:64]
	info = append(info, byte(n>>8), byte(n), byte(6+len(label)))
	info = append(info, "tls13 "...)
	info = append(info, label...)
	info = append(info, 0, 1) // empty context, then HKDF's counter 1
	k.hmac(secret, info)
	copy(dst, k.sum[:n])
}

// derive fills ks with the client Initial keys of version v for the
// destination connection id dcid (RFC 9001 §5.2; RFC 9369 §3.3 for v2's
// salt and labels). v must be version1 or version2.
func (k *kdf) derive(ks *keys, v uint32, dcid []byte) {
	salt, lk, liv, lhp := salt1[:], "quic key", "quic iv", "quic hp"
	if v == version2 {
		salt, lk, liv, lhp = salt2[:], "quicv2 key", "quicv2 iv", "quicv2 hp"
	}
	var initial, client [32]byte
	k.hmac(salt, dcid) // HKDF-Extract
	initial = k.sum
	k.expandLabel(client[:], initial[:], "client in")
	var key, hp [16]byte
	k.expandLabel(key[:], client[:], lk)
	k.expandLabel(ks.iv[:], client[:], liv)
	k.expandLabel(hp[:], client[:], lhp)
	ks.aead.setKey(key[:])
	ks.hp.setKey(hp[:])
}

// xorByte XORs every byte of b with v. (Hot loops live in small functions
// of their own: in a Go-compiled Wasm guest every jump, a loop's included,
// is charged fuel for the whole function it is in.)
//
//go:noinline
func xorByte(b []byte, v byte) {
	for i := range b {
		b[i] ^= v
	}
}
