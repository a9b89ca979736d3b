package rules

import (
	"math/bits"
	"math/rand/v2"
)

// table is the hash table from masked Keys to rules that every tuple and
// the exact flow table use: open addressing with linear probing over flat
// arrays of 64-byte slots, split into shards so that a new generation
// copies only the shards a change touches. One hash of the key, computed
// once per lookup, picks the shard (its top bits) and the home slot in it
// (its low bits). The lookup is the same code for one entry and for
// millions: no small-table special case, so the 1-rule anchor of the
// benchmarks pays what every table pays.
//
// A published table is never written again: writers clone it first
// (clone shares every shard until writable copies it).
//
// Worst case of a probe sequence: a lookup stops at the first empty slot
// (the load is kept at most 1/2, and deletion shifts entries back instead
// of leaving tombstones) or after probe+1 slots, where probe is the
// longest distance of any entry of the table from its home slot. An insert
// that makes that distance exceed probeLimit grows its shard (doubling its
// slots, up to maxSlotsPer per entry); if the shard is still over the
// limit, the whole table is rebuilt with a new random seed (settle), up to
// maxReseeds times per change. Rules come from the operator and from
// analyzers (which may copy addresses and ports from packets: SIP's RTP
// flows), so keys can be chosen to collide under the fixed initial seed;
// they cannot be chosen to collide under a seed drawn after they were
// added. So a lookup probes at most probeLimit+1 slots unless maxReseeds+1
// random seeds in a row all failed, which has a vanishing probability for
// keys that are not identical; even then it probes at most one shard's
// slots, and the table stays correct.
type table struct {
	shards [][]slot // each a power of two of slots
	shift  uint     // 64 - log2(len(shards)): shard = hash >> shift (0 for one shard)
	seed   uint64   // mixed into every word of the key
	probe  int      // the longest distance of an entry from its home slot, in any shard
	// Writers only:
	counts []int32 // entries per shard
	owned  []bool  // shards whose slots this unpublished version may write
	n      int     // entries
	reseed bool    // a shard is over probeLimit after growing: settle rebuilds
}

// slot is one entry, a cache line: the masked key, the rule at it (nil:
// the slot is empty) and the key's hash.
type slot struct {
	key  Key
	r    *hot
	hash uint64
}

const (
	// shardTarget is the number of entries per shard the tables aim for;
	// a change copies that shard's slots (about 2 to 4 times this many).
	shardTarget = 256
	maxShards   = 1 << 14
	minSlots    = 8
	// probeLimit is the longest probe distance an insert accepts before
	// growing the shard or reseeding the table.
	probeLimit = 16
	// maxSlotsPer bounds a grown shard: slots per entry.
	maxSlotsPer = 16
	maxReseeds  = 4
	initSeed    = 0x243f6a8885a308d3
)

func shardCount(n int) int {
	s := 1
	for s*shardTarget < n && s < maxShards {
		s *= 2
	}
	return s
}

// newTable returns an empty table shaped for n entries.
func newTable(n int, seed uint64) *table {
	s := shardCount(n)
	t := &table{shards: make([][]slot, s), counts: make([]int32, s), owned: make([]bool, s),
		shift: uint(64 - bits.TrailingZeros(uint(s))), seed: seed}
	per := 2 * n / s
	size := minSlots
	for size < per {
		size *= 2
	}
	for i := range t.shards {
		t.shards[i] = make([]slot, size)
		t.owned[i] = true
	}
	return t
}

// Multipliers of the hash, one per key word: odd 64-bit constants (wyhash's
// four, the golden ratio's and e's fractional bits; the initial seed is
// pi's).
const (
	hm0 = 0xa0761d6478bd642f
	hm1 = 0xe7037ed1a0b428db
	hm2 = 0x8ebc6af09c88c6e3
	hm3 = 0x589965cc75374cc3
	hm4 = 0x9e3779b97f4a7c15
	hm5 = 0xb7e151628aed2a6b
)

// mix is a folded multiply: the 128-bit product's halves xored, so that
// every output bit depends on every input bit.
func mix(x, m uint64) uint64 {
	hi, lo := bits.Mul64(x, m)
	return hi ^ lo
}

// tabHash hashes a key: each word, xored with the seed, is folded-
// multiplied by its own constant, and the six results are xored. The six
// multiplies are independent (they overlap in the pipeline); swapping two
// words changes the hash because each word has its own multiplier.
func tabHash(k *Key, seed uint64) uint64 {
	return mix(k[0]^seed, hm0) ^ mix(k[1]^seed, hm1) ^ mix(k[2]^seed, hm2) ^
		mix(k[3]^seed, hm3) ^ mix(k[4]^seed, hm4) ^ mix(k[5]^seed, hm5)
}

func keyEq(a, b *Key) bool {
	return (a[0]^b[0])|(a[1]^b[1])|(a[2]^b[2])|(a[3]^b[3])|(a[4]^b[4])|(a[5]^b[5]) == 0
}

// get is the hot-path lookup.
func (t *table) get(k *Key) *hot {
	h := tabHash(k, t.seed)
	s := t.shards[h>>t.shift]
	mask := uint64(len(s) - 1)
	i := h
	for d := t.probe; d >= 0; d-- {
		e := &s[i&mask]
		if e.r == nil {
			return nil
		}
		if e.hash == h && keyEq(&e.key, k) {
			return e.r
		}
		i++
	}
	return nil
}

// clone returns a copy that shares every shard with t until written.
func (t *table) clone() *table {
	return &table{
		shards: append([][]slot(nil), t.shards...),
		counts: append([]int32(nil), t.counts...),
		owned:  make([]bool, len(t.shards)),
		shift:  t.shift, seed: t.seed, probe: t.probe, n: t.n, reseed: t.reseed,
	}
}

// writable returns shard j, copying its slots first if they are shared.
func (t *table) writable(j int) []slot {
	if !t.owned[j] {
		t.shards[j] = append([]slot(nil), t.shards[j]...)
		t.owned[j] = true
	}
	return t.shards[j]
}

// find returns the index of k's slot in shard s, or -1.
func (t *table) find(s []slot, k *Key, h uint64) int {
	mask := uint64(len(s) - 1)
	i := h
	for d := t.probe; d >= 0; d-- {
		e := &s[i&mask]
		if e.r == nil {
			return -1
		}
		if e.hash == h && keyEq(&e.key, k) {
			return int(i & mask)
		}
		i++
	}
	return -1
}

// place puts a key known to be absent into shard s, which has a free
// slot, and returns its distance from home.
func place(s []slot, k *Key, h uint64, v *hot) int {
	mask := uint64(len(s) - 1)
	for d := 0; ; d++ {
		e := &s[(h+uint64(d))&mask]
		if e.r == nil {
			*e = slot{key: *k, r: v, hash: h}
			return d
		}
	}
}

// resize rehashes shard j into size slots (a new array) and returns its
// longest probe distance.
func (t *table) resize(j, size int) int {
	old := t.shards[j]
	s := make([]slot, size)
	probe := 0
	for i := range old {
		if e := &old[i]; e.r != nil {
			probe = max(probe, place(s, &e.key, e.hash, e.r))
		}
	}
	t.shards[j], t.owned[j] = s, true
	return probe
}

func (t *table) set(k Key, v *hot) {
	h := tabHash(&k, t.seed)
	j := int(h >> t.shift)
	s := t.writable(j)
	if i := t.find(s, &k, h); i >= 0 {
		s[i].r = v
		return
	}
	t.n++
	t.counts[j]++
	n := int(t.counts[j])
	if 2*n > len(s) {
		// Keep the load at most 1/2.
		t.probe = max(t.probe, t.resize(j, 2*len(s)))
		s = t.shards[j]
	}
	d := place(s, &k, h, v)
	for d > probeLimit && len(s) < maxSlotsPer*max(n, minSlots) {
		d = t.resize(j, 2*len(s))
		s = t.shards[j]
	}
	t.probe = max(t.probe, d)
	if d > probeLimit {
		t.reseed = true
	}
}

func (t *table) del(k Key) {
	h := tabHash(&k, t.seed)
	j := int(h >> t.shift)
	if t.find(t.shards[j], &k, h) < 0 {
		return
	}
	s := t.writable(j)
	i := t.find(s, &k, h)
	t.n--
	t.counts[j]--
	// Backward-shift deletion: move later entries of the cluster into the
	// hole when that brings them no further from home, so that no
	// tombstones are needed and a lookup may stop at the first empty slot.
	mask := len(s) - 1
	for {
		s[i] = slot{}
		x := i
		for {
			x = (x + 1) & mask
			e := &s[x]
			if e.r == nil {
				return
			}
			home := int(e.hash) & mask
			// e may move to i when i lies cyclically in home..x.
			if (x-home)&mask >= (x-i)&mask {
				s[i] = *e
				i = x
				break
			}
		}
	}
}

// settle returns the table to publish after a change: t itself, or a
// rebuild when its shard count is off from its size by more than a factor
// of four or a shard is over probeLimit (then with a new random seed).
func (t *table) settle() *table {
	w := shardCount(t.n)
	if !t.reseed && w <= len(t.shards)*2 && w*4 >= len(t.shards) {
		return t
	}
	seed := t.seed
	for try := 0; ; try++ {
		if t.reseed {
			seed = rand.Uint64()
		}
		t = t.rebuild(seed)
		if !t.reseed || try == maxReseeds {
			break
		}
	}
	// Past maxReseeds the table stays as it is: correct, with longer probes.
	t.reseed = false
	return t
}

func (t *table) rebuild(seed uint64) *table {
	nt := newTable(t.n, seed)
	for i := range t.shards {
		for _, e := range t.shards[i] {
			if e.r != nil {
				nt.set(e.key, e.r)
			}
		}
	}
	return nt
}

// each calls fn for every entry.
func (t *table) each(fn func(k *Key, r *hot)) {
	for i := range t.shards {
		for j := range t.shards[i] {
			if e := &t.shards[i][j]; e.r != nil {
				fn(&e.key, e.r)
			}
		}
	}
}

// hashKey spreads a Key over buckets (wyhash-style multiply-fold): the
// per-worker flow counts' hash.
func hashKey(k *Key) uint64 {
	h := k[0] ^ 0x9e3779b97f4a7c15
	for _, w := range k[1:] {
		hi, lo := bits.Mul64(h^w, 0xa0761d6478bd642f)
		h = hi ^ lo
	}
	hi, lo := bits.Mul64(h, 0xe7037ed1a0b428db)
	return hi ^ lo
}
