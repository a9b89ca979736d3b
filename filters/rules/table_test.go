package rules

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// tableModel drives a table and a Go map through the same operations,
// publishing (settle, then clone) as the classifier does, and checks after
// each step that the table answers as the map does and that an earlier
// published version still answers as it did.
type tableModel struct {
	t        *testing.T
	cur      *table         // the writer's private version
	model    map[Key]*hot   // what cur must hold
	old      *table         // a published version
	oldModel map[Key]*hot   // what old held when published
	vals     map[uint8]*hot // values by small number
}

func newTableModel(t *testing.T) *tableModel {
	m := &tableModel{t: t, cur: newTable(0, initSeed), model: map[Key]*hot{}, vals: map[uint8]*hot{}}
	m.publish()
	return m
}

func (m *tableModel) val(v uint8) *hot {
	if m.vals[v] == nil {
		m.vals[v] = &hot{rank: uint64(v)}
	}
	return m.vals[v]
}

func (m *tableModel) set(k Key, v uint8) {
	m.cur.set(k, m.val(v))
	m.model[k] = m.val(v)
}

func (m *tableModel) del(k Key) {
	m.cur.del(k)
	delete(m.model, k)
}

// publish settles the writer's version (which may rebuild it), keeps it as
// the published one and starts a new private clone, as Update does.
func (m *tableModel) publish() {
	m.old = m.cur.settle()
	m.oldModel = make(map[Key]*hot, len(m.model))
	for k, v := range m.model {
		m.oldModel[k] = v
	}
	m.cur = m.old.clone()
}

// check compares a version with its model: every key present, the
// absent probes absent, the entry count and the probe bound.
func (m *tableModel) check(tb *table, model map[Key]*hot, absent []Key, what string) {
	m.t.Helper()
	if tb.n != len(model) {
		m.t.Fatalf("%s: %d entries, model has %d", what, tb.n, len(model))
	}
	for k, v := range model {
		if got := tb.get(&k); got != v {
			m.t.Fatalf("%s: get(%x) = %p, want %p", what, k, got, v)
		}
	}
	for _, k := range absent {
		if _, ok := model[k]; ok {
			continue
		}
		if got := tb.get(&k); got != nil {
			m.t.Fatalf("%s: get(%x) = %p for an absent key", what, k, got)
		}
	}
	n := 0
	tb.each(func(k *Key, r *hot) {
		n++
		if model[*k] != r {
			m.t.Fatalf("%s: entry %x -> %p not in the model", what, *k, r)
		}
	})
	if n != len(model) {
		m.t.Fatalf("%s: each saw %d entries, model has %d", what, n, len(model))
	}
	sum := 0
	for j := range tb.shards {
		s, tags := tb.shards[j].slotSlice(), tb.shards[j].tagSlice()
		if len(s)&(len(s)-1) != 0 || len(s) < minSlots {
			m.t.Fatalf("%s: shard %d has %d slots", what, j, len(s))
		}
		used := 0
		for i := range s {
			if (tags[i] == 0) != (s[i].r == nil) {
				m.t.Fatalf("%s: slot %d of shard %d has tag %#x and rule %p", what, i, j, tags[i], s[i].r)
			}
			if s[i].r != nil {
				used++
				if tags[i] != tagOf(s[i].hash) {
					m.t.Fatalf("%s: slot %d of shard %d has tag %#x, its hash %x gives %#x", what, i, j, tags[i], s[i].hash, tagOf(s[i].hash))
				}
				if h := tabHash(&s[i].key, tb.seed); h != s[i].hash || int(h>>tb.shift) != j {
					m.t.Fatalf("%s: slot %d of shard %d holds hash %x, key hashes to %x", what, i, j, s[i].hash, h)
				}
				d := (i - int(s[i].hash)) & (len(s) - 1)
				if d > tb.probe {
					m.t.Fatalf("%s: an entry %d slots from home, probe bound %d", what, d, tb.probe)
				}
			}
		}
		if 2*used > len(s) {
			m.t.Fatalf("%s: shard %d is %d/%d full", what, j, used, len(s))
		}
		if int(tb.counts[j]) != used {
			m.t.Fatalf("%s: shard %d counts %d, holds %d", what, j, tb.counts[j], used)
		}
		sum += used
	}
	if sum != tb.n {
		m.t.Fatalf("%s: shards hold %d, n is %d", what, sum, tb.n)
	}
}

// smallKey spreads a small number over the key's words, so that keys
// differ in every word in turn.
func smallKey(x uint16) Key {
	var k Key
	k[x%6] = uint64(x)<<40 | uint64(x)
	k[(x/6)%6] ^= uint64(x) * 0x9e3779b97f4a7c15
	return k
}

// TestTable runs random inserts, replacements and deletions (growing the
// table through several shard counts and shrinking it back) against a Go
// map, publishing every few operations.
func TestTable(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	m := newTableModel(t)
	var absent []Key
	for i := range 64 {
		absent = append(absent, smallKey(uint16(60000+i)))
	}
	universe := 3000
	ops := 40000
	if testing.Short() {
		ops = 15000
	}
	for i := range ops {
		phase := i * 3 / ops // grow, churn, shrink
		k := smallKey(uint16(r.IntN(universe)))
		switch p := r.IntN(10); {
		case phase == 0 && p < 8, phase == 1 && p < 5, phase == 2 && p < 1:
			m.set(k, uint8(r.IntN(200)))
		default:
			m.del(k)
		}
		if r.IntN(50) == 0 {
			m.check(m.cur, m.model, absent, "writer")
			m.publish()
			m.check(m.cur, m.model, absent, "clone")
		}
		if r.IntN(200) == 0 {
			// The published version is unchanged by the writes since.
			m.check(m.old, m.oldModel, absent, "published")
		}
	}
	m.publish()
	m.check(m.old, m.oldModel, absent, "final")
	if len(m.model) > 600 {
		t.Fatalf("the shrink phase left %d keys", len(m.model))
	}
}

// TestTableShards grows a table past several shards and back, checking
// that settle re-splits it.
func TestTableShards(t *testing.T) {
	m := newTableModel(t)
	for i := range 5000 {
		m.set(smallKey(uint16(i)), uint8(i))
	}
	m.publish()
	m.check(m.old, m.oldModel, nil, "grown")
	if got, want := len(m.old.shards), shardCount(5000); got != want {
		t.Fatalf("%d shards for 5000 entries, want %d", got, want)
	}
	for i := range 4990 {
		m.del(smallKey(uint16(i)))
	}
	m.publish()
	m.check(m.old, m.oldModel, nil, "shrunk")
	if len(m.old.shards) != 1 {
		t.Fatalf("%d shards for 10 entries", len(m.old.shards))
	}
}

// TestTableFlood adds keys chosen to share one home slot under the fixed
// initial seed: a flood of collisions. The table must stay correct, grow
// or reseed so that no entry ends up more than probeLimit slots from home,
// and answer every lookup.
func TestTableFlood(t *testing.T) {
	const want = 3 * probeLimit
	var keys []Key
	var home uint64
	// One shard (fewer than shardTarget keys); find keys whose hash agrees
	// in the low 12 bits, which puts them in one home slot in any shard of
	// up to 4096 slots.
	for x := uint64(1); len(keys) < want; x++ {
		k := Key{0x0a000000_00000000 | x<<32, 0, 0xac100000_00000000, 0, 5060 << 32, 17 << 32}
		h := tabHash(&k, initSeed) & 0xfff
		if len(keys) == 0 {
			home = h
		}
		if h == home {
			keys = append(keys, k)
		}
	}
	m := newTableModel(t)
	for i, k := range keys {
		m.set(k, uint8(i))
	}
	// Before settle, the flood shows: the writer's version is over the
	// limit and asks for a new seed.
	if !m.cur.reseed {
		t.Fatalf("%d colliding keys did not ask for a new seed (probe %d)", want, m.cur.probe)
	}
	m.publish()
	m.check(m.old, m.oldModel, nil, "after the flood")
	if m.old.probe > probeLimit {
		t.Fatalf("probe %d after reseeding, limit %d", m.old.probe, probeLimit)
	}
	if m.old.seed == initSeed {
		t.Fatal("the seed did not change")
	}
	t.Logf("%d colliding keys: probe %d after reseeding, %d slots", want, m.old.probe, m.old.shards[0].size())
}

// TestTableHashWords checks that every bit of every word of a key moves
// the hash's shard and slot bits: flipping one input bit flips about half
// of the output bits (between 16 and 48 of 64 on average per input bit).
func TestTableHashWords(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for w := range 6 {
		for b := range 64 {
			total := 0
			const trials = 64
			for range trials {
				var k Key
				for i := range k {
					k[i] = r.Uint64()
				}
				h := tabHash(&k, initSeed)
				k[w] ^= 1 << b
				x := h ^ tabHash(&k, initSeed)
				for ; x != 0; x &= x - 1 {
					total++
				}
			}
			if avg := float64(total) / trials; avg < 16 || avg > 48 {
				t.Errorf("word %d bit %d flips %.1f output bits on average", w, b, avg)
			}
		}
	}
}

// TestHotLine checks that a rule's hot part is one cache line: 64 bytes,
// allocated on a 64-byte boundary.
func TestHotLine(t *testing.T) {
	if s := unsafe.Sizeof(hot{}); s != 64 {
		t.Fatalf("hot is %d bytes, want 64", s)
	}
	for i := range 1000 {
		r := newRuleState(uint64(i), uint32(i), Action{Verb: VerbDrop}, false, 0)
		if p := uintptr(unsafe.Pointer(r.h)); p%64 != 0 {
			t.Fatalf("hot at %#x, not on a cache line boundary", p)
		}
	}
}

// FuzzTable interprets the input as operations on a table and a Go map
// model: 3 bytes each, an opcode and a 16-bit key number (from a small
// universe, so that keys repeat and shards fill and empty).
func FuzzTable(f *testing.F) {
	f.Add([]byte{0, 0, 1, 0, 0, 2, 1, 0, 1, 2, 0, 0})
	seed := make([]byte, 0, 3*300)
	for i := range 300 {
		seed = append(seed, byte(i%7), byte(i), byte(i>>8))
	}
	f.Add(seed)
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 3*1024 {
			data = data[:3*1024]
		}
		m := newTableModel(t)
		var probes []Key
		for len(data) >= 3 {
			op := data[0]
			x := binary.LittleEndian.Uint16(data[1:]) % 2048
			data = data[3:]
			k := smallKey(x)
			probes = append(probes, smallKey(x^1))
			switch op % 8 {
			case 0, 1, 2, 3:
				m.set(k, op)
			case 4, 5:
				m.del(k)
			case 6:
				m.publish()
			case 7:
				m.check(m.old, m.oldModel, probes, "published")
			}
		}
		m.check(m.cur, m.model, probes, "writer")
		m.publish()
		m.check(m.old, m.oldModel, probes, "final")
	})
}

// TestTableTagFilter checks what the tags are for: a lookup of a key that
// is not in the table reads a slot's line only when a tag on its probe
// path matches, which should be about one lookup in 100 (table.go) and
// must stay rare. It walks the probe paths of absent keys in a
// 100,000-entry table and counts the tag matches.
func TestTableTagFilter(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const n = 100000
	tb := newTable(n, initSeed)
	v := &hot{}
	randKey := func() Key {
		var k Key
		for i := range k {
			k[i] = r.Uint64()
		}
		return k
	}
	for range n {
		tb.set(randKey(), v)
	}
	tb = tb.settle()
	const probes = 100000
	read, tagsSeen := 0, 0
	for range probes {
		k := randKey()
		h := tabHash(&k, tb.seed)
		sh := &tb.shards[h>>tb.shift]
		tags := sh.tagSlice()
		matched := false
		for d := 0; d <= tb.probe; d++ {
			g := tags[(h+uint64(d))&sh.mask]
			if g == 0 {
				break
			}
			tagsSeen++
			if g == tagOf(h) {
				matched = true
			}
		}
		if matched {
			read++
		}
		if tb.get(&k) != nil {
			t.Fatalf("random key %x found", k)
		}
	}
	rate := float64(read) / probes
	t.Logf("%d entries, %d shards: %.2f occupied slots passed per miss, %.2f%% of misses read a slot line", tb.n, len(tb.shards), float64(tagsSeen)/probes, 100*rate)
	if rate > 0.03 {
		t.Fatalf("%.2f%% of misses match a tag, want about 1%%", 100*rate)
	}
}
