package rules

import "math/bits"

// shardMap is a hash table from masked Keys to rules, split into shards so
// that a new generation copies only the shards a change touches. A
// published shardMap is never written again: writers clone it first.
type shardMap struct {
	shards []map[Key]*ruleState // a power of two of them
	owned  []bool               // shards private to this (unpublished) version
	n      int                  // entries
}

// shardTarget is the number of entries per shard the tables aim for; a
// change copies about this many entries per shard it touches.
const shardTarget = 256

func shardCount(n int) int {
	s := 1
	for s*shardTarget < n && s < 1<<14 {
		s *= 2
	}
	return s
}

func newShardMap(n int) *shardMap {
	s := shardCount(n)
	m := &shardMap{shards: make([]map[Key]*ruleState, s), owned: make([]bool, s)}
	for i := range m.shards {
		m.shards[i] = map[Key]*ruleState{}
		m.owned[i] = true
	}
	return m
}

// hashKey spreads a Key over the shards (wyhash-style multiply-fold).
func hashKey(k *Key) uint64 {
	h := k[0] ^ 0x9e3779b97f4a7c15
	for _, w := range k[1:] {
		hi, lo := bits.Mul64(h^w, 0xa0761d6478bd642f)
		h = hi ^ lo
	}
	hi, lo := bits.Mul64(h, 0xe7037ed1a0b428db)
	return hi ^ lo
}

// shardOf picks one of n (a power of two) shards: the key's words
// folded (rotated, so that swapped fields do not cancel), multiplied
// (Fibonacci hashing), and the product's top bits, which depend on every
// input bit. It only spreads keys over shards; the maps hash with their
// own per-process seed, so a skewed shard costs copying time, not lookup
// time.
func shardOf(k *Key, n int) int {
	h := k[0] ^ bits.RotateLeft64(k[1], 7) ^ bits.RotateLeft64(k[2], 21) ^ bits.RotateLeft64(k[3], 29) ^
		bits.RotateLeft64(k[4], 43) ^ bits.RotateLeft64(k[5], 53)
	h *= 0x9e3779b97f4a7c15
	return int(h >> (64 - bits.TrailingZeros(uint(n))))
}

func (m *shardMap) shard(k *Key) int {
	if len(m.shards) == 1 {
		return 0
	}
	return shardOf(k, len(m.shards))
}

// get is the hot-path lookup.
func (m *shardMap) get(k *Key) *ruleState {
	if len(m.shards) == 1 {
		return m.shards[0][*k]
	}
	return m.shards[shardOf(k, len(m.shards))][*k]
}

// clone returns a copy that shares every shard with m until written.
func (m *shardMap) clone() *shardMap {
	c := &shardMap{shards: append([]map[Key]*ruleState(nil), m.shards...), owned: make([]bool, len(m.shards)), n: m.n}
	return c
}

// writable returns the shard for k, copying it first if it is shared.
func (m *shardMap) writable(k *Key) map[Key]*ruleState {
	i := m.shard(k)
	if !m.owned[i] {
		c := make(map[Key]*ruleState, len(m.shards[i])+1)
		for kk, v := range m.shards[i] {
			c[kk] = v
		}
		m.shards[i], m.owned[i] = c, true
	}
	return m.shards[i]
}

func (m *shardMap) set(k Key, v *ruleState) {
	s := m.writable(&k)
	if _, ok := s[k]; !ok {
		m.n++
	}
	s[k] = v
}

func (m *shardMap) del(k Key) {
	s := m.writable(&k)
	if _, ok := s[k]; ok {
		m.n--
		delete(s, k)
	}
}

// resized returns m re-split for n entries when its shard count is off by
// more than a factor of four, or m itself.
func (m *shardMap) resized(n int) *shardMap {
	if w := shardCount(n); w <= len(m.shards)*2 && w*4 >= len(m.shards) {
		return m
	}
	want := newShardMap(n)
	for _, s := range m.shards {
		for k, v := range s {
			want.set(k, v)
		}
	}
	return want
}
