package main

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	stdsha256 "crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"testing"

	"github.com/wringcap/wring/internal/quicgen"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAESAgainstStdlib compares the block cipher with crypto/aes on the
// FIPS 197 example and on random keys and blocks.
func TestAESAgainstStdlib(t *testing.T) {
	var c aes128
	c.setKey(unhex(t, "000102030405060708090a0b0c0d0e0f"))
	out := make([]byte, 16)
	c.encrypt(out, unhex(t, "00112233445566778899aabbccddeeff"))
	if got, want := hex.EncodeToString(out), "69c4e0d86a7b0430d8cdb78070b4c55a"; got != want {
		t.Fatalf("FIPS 197 C.1: %s, want %s", got, want)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	key, in, want := make([]byte, 16), make([]byte, 16), make([]byte, 16)
	for i := 0; i < 2000; i++ {
		fill(rng, key)
		fill(rng, in)
		ref, _ := aes.NewCipher(key)
		ref.Encrypt(want, in)
		c.setKey(key)
		c.encrypt(out, in)
		if !bytes.Equal(out, want) {
			t.Fatalf("key %x block %x: %x, crypto/aes %x", key, in, out, want)
		}
	}
}

func fill(rng *rand.Rand, b []byte) {
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
}

// TestGCMAgainstStdlib opens what crypto/cipher's GCM sealed, for random
// keys, nonces and lengths, and refuses it after any one bit flips.
func TestGCMAgainstStdlib(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var g gcm
	for i := 0; i < 500; i++ {
		key := make([]byte, 16)
		fill(rng, key)
		var nonce [12]byte
		fill(rng, nonce[:])
		aad := make([]byte, rng.IntN(70))
		fill(rng, aad)
		msg := make([]byte, rng.IntN(1300))
		fill(rng, msg)
		b, _ := aes.NewCipher(key)
		ref, _ := cipher.NewGCM(b)
		sealed := ref.Seal(nil, nonce[:], msg, aad)
		g.setKey(key)
		dst := make([]byte, len(msg))
		if !g.open(dst, &nonce, aad, sealed) {
			t.Fatalf("case %d: tag refused", i)
		}
		if !bytes.Equal(dst, msg) {
			t.Fatalf("case %d: plaintext differs", i)
		}
		bit := rng.IntN(8 * (len(sealed) + len(aad)))
		if bit < 8*len(sealed) {
			sealed[bit/8] ^= 1 << (bit % 8)
		} else {
			bit -= 8 * len(sealed)
			aad[bit/8] ^= 1 << (bit % 8)
		}
		if g.open(dst, &nonce, aad, sealed) {
			t.Fatalf("case %d: a flipped bit was accepted", i)
		}
	}
}

// TestInitialKeys checks key derivation against the published examples:
// RFC 9001 Appendix A.1 and RFC 9369 Appendix A.1 (connection id
// 0x8394c8f03e515708), and against crypto/hkdf on random connection ids.
func TestInitialKeys(t *testing.T) {
	k := newKDF()
	dcid := unhex(t, "8394c8f03e515708")
	for _, c := range []struct {
		v           uint32
		key, iv, hp string
	}{
		{version1, "1f369613dd76d5467730efcbe3b1a22d", "fa044b2f42a3fd3b46fb255c", "9f50449e04a0e810283a1e9933adedd2"},
		{version2, "8b1a0bc121284290a29e0971b5cd045d", "91f73e2351d8fa91660e909f", "45b95e15235d6f45a6b19cbcb0294ba9"},
	} {
		var ks keys
		k.derive(&ks, c.v, dcid)
		if got := hex.EncodeToString(ks.iv[:]); got != c.iv {
			t.Errorf("version %#x: iv %s, want %s", c.v, got, c.iv)
		}
		// The keys are expanded: compare what they do.
		var want, got [16]byte
		ref, _ := aes.NewCipher(unhex(t, c.hp))
		ref.Encrypt(want[:], make([]byte, 16))
		ks.hp.encrypt(got[:], make([]byte, 16))
		if want != got {
			t.Errorf("version %#x: hp key is not %s", c.v, c.hp)
		}
		ref, _ = aes.NewCipher(unhex(t, c.key))
		ref.Encrypt(want[:], make([]byte, 16))
		ks.aead.block.encrypt(got[:], make([]byte, 16))
		if want != got {
			t.Errorf("version %#x: packet key is not %s", c.v, c.key)
		}
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 200; i++ {
		d := make([]byte, rng.IntN(21))
		fill(rng, d)
		v := uint32(version1)
		if i%2 == 1 {
			v = version2
		}
		ref, err := quicgen.ClientKeys(v, d)
		if err != nil {
			t.Fatal(err)
		}
		var ks keys
		k.derive(&ks, v, d)
		if !bytes.Equal(ks.iv[:], ref.IV) {
			t.Fatalf("dcid %x: iv %x, crypto/hkdf %x", d, ks.iv, ref.IV)
		}
		var want, got [16]byte
		ref.HP.Encrypt(want[:], make([]byte, 16))
		ks.hp.encrypt(got[:], make([]byte, 16))
		if want != got {
			t.Fatalf("dcid %x: hp key differs from crypto/hkdf's", d)
		}
	}
}

// TestSHA256AgainstStdlib compares the hash with crypto/sha256 on every
// length up to 300 bytes, written in one part and in several.
func TestSHA256AgainstStdlib(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var s sha256
	var got [32]byte
	for n := 0; n <= 300; n++ {
		msg := make([]byte, n)
		fill(rng, msg)
		want := stdsha256.Sum256(msg)
		s.reset()
		s.write(msg)
		s.sum(&got)
		if got != want {
			t.Fatalf("length %d: %x, crypto/sha256 %x", n, got, want)
		}
		s.reset()
		for p := msg; len(p) > 0; {
			k := min(len(p), 1+rng.IntN(70))
			s.write(p[:k])
			p = p[k:]
		}
		s.sum(&got)
		if got != want {
			t.Fatalf("length %d in parts: %x, crypto/sha256 %x", n, got, want)
		}
	}
}
