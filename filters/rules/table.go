package rules

import (
	"math/bits"
	"math/rand/v2"
	"slices"
	"unsafe"
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
// Beside each shard's slots sits a tag array, one byte per slot (0: empty,
// else 0x80 and seven bits of the key's hash, see tagOf), which a probe
// reads first: a slot's 64-byte line is read only when its tag matches the
// key's. A key that is not there passes two or three tags at load 1/2, one
// or two of them of occupied slots, each matching with probability 1/128:
// about one such lookup in 100 reads a slot line (0.6% at the 0.38 load of
// 100,000 entries, TestTableTagFilter). So a lookup that misses
// reads one tag line (the tags are 1/64 of the slots' size: 256 KB, 64
// pages of 4 KB, for 100,000 rules against 16 MB of slots) instead of a
// slot line, and a hit reads its slot's line, whose address does not
// depend on the tag, beside it.
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
// slots, and the table stays correct. A probe of a slot reads its tag, and
// its 64-byte line only when the tag matches.
type table struct {
	shards []shard // the directory
	shift  uint    // 64 - log2(len(shards)): shard = hash >> shift (0 for one shard)
	seed   uint64  // mixed into every word of the key
	probe  int     // the longest distance of an entry from its home slot, in any shard
	// Writers only:
	counts []int32 // entries per shard
	owned  []bool  // shards whose slots this unpublished version may write
	n      int     // entries
	reseed bool    // a shard is over probeLimit after growing: settle rebuilds
}

// shard is one directory entry: a shard's tags and slots, mask+1 of each
// (a power of two). It holds pointers to the arrays' first elements and
// one length where two slices would hold two lengths and two capacities:
// 24 bytes, the size of the one slice header a shard had before it had
// tags, so the directory that every change copies did not grow (at 4,096
// shards, 96 KB against 192 KB for two slices). tagSlice and slotSlice
// give the arrays back as slices, whose indexing is bounds-checked.
type shard struct {
	tags  *uint8
	slots *slot
	mask  uint64
}

func newShard(size int) shard {
	return shardOf(make([]uint8, size), make([]slot, size))
}

// shardOf makes a directory entry of two arrays of the same power-of-two
// length.
func shardOf(tags []uint8, slots []slot) shard {
	if len(tags) != len(slots) || len(tags)&(len(tags)-1) != 0 || len(tags) == 0 {
		panic("rules: shard arrays of different or non-power-of-two lengths")
	}
	return shard{tags: &tags[0], slots: &slots[0], mask: uint64(len(tags) - 1)}
}

func (sh *shard) tagSlice() []uint8 { return unsafe.Slice(sh.tags, sh.mask+1) }
func (sh *shard) slotSlice() []slot { return unsafe.Slice(sh.slots, sh.mask+1) }
func (sh *shard) size() int         { return int(sh.mask + 1) }

// tagOf is a hash's tag: bits 40 to 46, which neither the shard (the top
// 14 bits at most, maxShards) nor the home slot (the low bits: a shard has
// far fewer than 2^40 slots) use, with the top bit set so that no tag is 0
// (empty).
func tagOf(h uint64) uint8 { return uint8(h>>40) | 0x80 }

// slot is one entry, a cache line: the masked key, the rule at it (nil
// exactly when the slot's tag is 0: empty) and the key's hash.
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
	t := &table{shards: make([]shard, s), counts: make([]int32, s), owned: make([]bool, s),
		shift: uint(64 - bits.TrailingZeros(uint(s))), seed: seed}
	per := 2 * n / s
	size := minSlots
	for size < per {
		size *= 2
	}
	for i := range t.shards {
		t.shards[i] = newShard(size)
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
	sh := &t.shards[h>>t.shift]
	tags, s := sh.tagSlice(), sh.slotSlice()
	mask := sh.mask
	tag := tagOf(h)
	i := h
	for d := t.probe; d >= 0; d-- {
		g := tags[i&mask]
		if g == 0 {
			return nil
		}
		if g == tag {
			if e := &s[i&mask]; e.hash == h && keyEq(&e.key, k) {
				return e.r
			}
		}
		i++
	}
	return nil
}

// clone returns a copy that shares every shard with t until written.
func (t *table) clone() *table {
	return &table{
		shards: append([]shard(nil), t.shards...),
		counts: append([]int32(nil), t.counts...),
		owned:  make([]bool, len(t.shards)),
		shift:  t.shift, seed: t.seed, probe: t.probe, n: t.n, reseed: t.reseed,
	}
}

// writable returns shard j, copying its tags and slots first if they are
// shared.
func (t *table) writable(j int) *shard {
	sh := &t.shards[j]
	if !t.owned[j] {
		*sh = shardOf(slices.Clone(sh.tagSlice()), slices.Clone(sh.slotSlice()))
		t.owned[j] = true
	}
	return sh
}

// find returns the index of k's slot in sh, or -1.
func (t *table) find(sh *shard, k *Key, h uint64) int {
	tags, s := sh.tagSlice(), sh.slotSlice()
	mask := sh.mask
	tag := tagOf(h)
	i := h
	for d := t.probe; d >= 0; d-- {
		g := tags[i&mask]
		if g == 0 {
			return -1
		}
		if e := &s[i&mask]; g == tag && e.hash == h && keyEq(&e.key, k) {
			return int(i & mask)
		}
		i++
	}
	return -1
}

// place puts a key known to be absent into sh, which has a free slot, and
// returns its distance from home.
func place(sh *shard, k *Key, h uint64, v *hot) int {
	tags, s := sh.tagSlice(), sh.slotSlice()
	for d := 0; ; d++ {
		i := (h + uint64(d)) & sh.mask
		if tags[i] == 0 {
			tags[i] = tagOf(h)
			s[i] = slot{key: *k, r: v, hash: h}
			return d
		}
	}
}

// resize rehashes shard j into size slots (a new array) and returns its
// longest probe distance.
func (t *table) resize(j, size int) int {
	old := t.shards[j]
	sh := newShard(size)
	probe := 0
	olds := old.slotSlice()
	for i, g := range old.tagSlice() {
		if e := &olds[i]; g != 0 {
			probe = max(probe, place(&sh, &e.key, e.hash, e.r))
		}
	}
	t.shards[j], t.owned[j] = sh, true
	return probe
}

func (t *table) set(k Key, v *hot) {
	h := tabHash(&k, t.seed)
	j := int(h >> t.shift)
	sh := t.writable(j)
	if i := t.find(sh, &k, h); i >= 0 {
		sh.slotSlice()[i].r = v
		return
	}
	t.n++
	t.counts[j]++
	n := int(t.counts[j])
	if 2*n > sh.size() {
		// Keep the load at most 1/2.
		t.probe = max(t.probe, t.resize(j, 2*sh.size()))
	}
	d := place(sh, &k, h, v)
	for d > probeLimit && sh.size() < maxSlotsPer*max(n, minSlots) {
		d = t.resize(j, 2*sh.size())
	}
	t.probe = max(t.probe, d)
	if d > probeLimit {
		t.reseed = true
	}
}

func (t *table) del(k Key) {
	h := tabHash(&k, t.seed)
	j := int(h >> t.shift)
	if t.find(&t.shards[j], &k, h) < 0 {
		return
	}
	sh := t.writable(j)
	i := t.find(sh, &k, h)
	t.n--
	t.counts[j]--
	// Backward-shift deletion: move later entries of the cluster into the
	// hole when that brings them no further from home, so that no
	// tombstones are needed and a lookup may stop at the first empty slot.
	tags, s := sh.tagSlice(), sh.slotSlice()
	mask := int(sh.mask)
	for {
		tags[i], s[i] = 0, slot{}
		x := i
		for {
			x = (x + 1) & mask
			if tags[x] == 0 {
				return
			}
			e := &s[x]
			home := int(e.hash) & mask
			// e may move to i when i lies cyclically in home..x.
			if (x-home)&mask >= (x-i)&mask {
				tags[i], s[i] = tags[x], *e
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
		s := t.shards[i].slotSlice()
		for j, g := range t.shards[i].tagSlice() {
			if g != 0 {
				nt.set(s[j].key, s[j].r)
			}
		}
	}
	return nt
}

// each calls fn for every entry.
func (t *table) each(fn func(k *Key, r *hot)) {
	for i := range t.shards {
		s := t.shards[i].slotSlice()
		for j, g := range t.shards[i].tagSlice() {
			if g != 0 {
				fn(&s[j].key, s[j].r)
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
