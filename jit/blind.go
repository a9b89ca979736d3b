package jit

import (
	"crypto/rand"
	"encoding/binary"
	mrand "math/rand/v2"
)

// keySource draws the blinding keys of one compile attempt: a ChaCha8
// stream seeded from crypto/rand, which rewind restarts so that every
// layout pass of the attempt emits the same keys. The stream's first value
// is the packet pointer bias, the rest are the per-constant keys.
type keySource struct {
	seed  [32]byte
	rng   *mrand.ChaCha8
	first uint32
}

// newKeySource returns a key source with a fresh random seed.
func newKeySource() *keySource {
	k := &keySource{}
	rand.Read(k.seed[:]) // never fails (crypto/rand panics if the OS cannot supply randomness)
	k.rewind()
	return k
}

// rewind restarts the stream after its first value.
func (k *keySource) rewind() {
	k.rng = mrand.NewChaCha8(k.seed)
	k.first = uint32(k.rng.Uint64())
}

// bias returns the packet pointer bias: between 2^24 and 2^30, so that
// k - bias fits a 32-bit displacement for every packet offset k < 2^30 and
// is never a short displacement for small k.
func (k *keySource) bias() int32 { return int32(1<<24 + k.first%(1<<30-1<<24)) }

// next returns the next 32-bit key.
func (k *keySource) next() uint32 { return uint32(k.rng.Uint64()) }

// le32 returns the little-endian encoding of v, as an imm32 field holds it.
func le32(v uint32) [4]byte {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], v)
	return b
}

// blindTargets returns the 32-bit values that must not appear verbatim in
// the code of a blinded program: every instruction constant k >= 0x100 (a
// value that needs two bytes or more), and the lengths derived from them
// that the code checks.
func blindTargets(insns []uint32, pl *plan) map[[4]byte]bool {
	t := make(map[[4]byte]bool)
	add := func(v uint64) {
		if v >= 0x100 && v <= 1<<32-1 {
			t[le32(uint32(v))] = true
		}
	}
	for _, k := range insns {
		add(uint64(k))
	}
	for _, g := range pl.absGuard {
		add(uint64(g))
	}
	for _, c := range pl.indCheck {
		add(c)
	}
	return t
}

// verbatimAt returns the offset of the first 4-byte window of code that
// overlaps a keyed field and equals one of targets, or -1.
func verbatimAt(code []byte, keyed []span, targets map[[4]byte]bool) int {
	for _, f := range keyed {
		for at := max(f.at-3, 0); at < f.at+f.n && at+4 <= len(code); at++ {
			if targets[[4]byte(code[at:at+4])] {
				return at
			}
		}
	}
	return -1
}
