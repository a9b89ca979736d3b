package rules

import (
	"cmp"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
)

// ruleState is one rule as the classifier holds it: its definition, its
// rank and its counters. The same ruleState is shared by every generation
// the rule is part of, so its counters survive changes to other rules.
type ruleState struct {
	rank uint64 // priority<<32 | id: lower wins
	id   uint32
	act  Action
	flow bool
	rule Rule
	fl   Flow
	h    *hot
	keys []Key // flow rules: the keys they occupy
}

// hot is the part of a rule that a lookup reads and a hit writes: the
// counters and what a Hit reports, in one 64-byte object (Go's allocator
// puts objects of 64 bytes on 64-byte boundaries: one cache line, which
// also keeps two rules' counters apart). The tables point at it.
type hot struct {
	packets atomic.Uint64
	bytes   atomic.Uint64
	last    atomic.Int64 // time of a recent hit (ns); for flows, of the add until the first hit
	rank    uint64       // as ruleState.rank; its low 32 bits are the id
	idle    int64        // flow idle timeout in ns, 0 none
	verb    Verb
	perFlow bool
	flow    bool
	n       uint32
	tag     uint32
	rs      *ruleState // the rest, for a forward action's sink name and for writers
}

func newRuleState(rank uint64, id uint32, act Action, flow bool, idle int64) *ruleState {
	r := &ruleState{rank: rank, id: id, act: act, flow: flow}
	r.h = &hot{rank: rank, idle: idle, verb: act.Verb, perFlow: act.PerFlow, flow: flow, n: act.N, tag: act.Tag, rs: r}
	return r
}

// action is the rule's Action; only a forward action reads beyond the
// hot line, for its sink name.
func (h *hot) action() Action {
	a := Action{Verb: h.verb, N: h.n, PerFlow: h.perFlow, Tag: h.tag}
	if h.verb == VerbForward {
		a.Sink = h.rs.act.Sink
	}
	return a
}

// Counters is a snapshot of one rule's counters.
type Counters struct {
	ID      uint32
	Packets uint64
	Bytes   uint64
	LastHit int64 // ns since the epoch of a recent hit (within lastTick of the latest when one worker classifies), 0 never
}

func (h *hot) expired(now int64) bool {
	if h.idle == 0 {
		return false
	}
	last := h.last.Load()
	return last != 0 && now-last > h.idle
}

// tupleGen is one tuple (mask combination) of one generation.
type tupleGen struct {
	mask    Key
	minRank uint64 // the best rank in the tuple: the search stops before a tuple that cannot win
	m       *table
}

// generation is an immutable rule set as lookups see it.
type generation struct {
	tuples []*tupleGen // by minRank
	flows  *table
}

// tupleW is the writer's view of a tuple: every rule at every masked key,
// of which the generation holds the best.
type tupleW struct {
	mask  Key
	keys  map[Key][]*ruleState
	pairs int // (key, rule) pairs
	gen   *tupleGen
	// stale says gen.minRank may be too low: its rule was removed.
	stale bool
}

// Classifier holds a rule set and classifies packets against it. Lookups
// (Classify, Lookup) may run on any number of goroutines while one change
// at a time (Update, Remove, Expire) builds and publishes a new generation.
type Classifier struct {
	gen atomic.Pointer[generation]

	mu      sync.Mutex // serializes changes; guards the fields below
	byID    map[uint32]*ruleState
	tuples  map[Key]*tupleW
	entries int // (key, rule) pairs over all tuples
	nrules  int
	nflows  int
	expired atomic.Uint64
}

// New returns an empty classifier: every packet misses.
func New() *Classifier {
	c := &Classifier{byID: map[uint32]*ruleState{}, tuples: map[Key]*tupleW{}}
	c.gen.Store(&generation{flows: newTable(0, initSeed)})
	return c
}

// Hit is the result of a lookup.
type Hit struct {
	Matched bool   // a rule matched; the others fields are zero otherwise
	Flow    bool   // the rule is an exact flow rule
	ID      uint32 // the rule's id
	Action  Action // the rule's action
	Seq     uint64 // Classify: the rule's packet count including this packet
}

// Classify looks the packet up and counts it (packets, bytes, last hit) on
// the rule that decides it. now is the packet's time in ns, which also
// decides idle flow timeouts. It allocates nothing.
func (c *Classifier) Classify(k *Key, now int64, bytes uint32) Hit {
	h := c.gen.Load().lookup(k, now)
	if h == nil {
		return Hit{}
	}
	seq := h.count(now, bytes)
	return Hit{Matched: true, Flow: h.flow, ID: uint32(h.rank), Action: h.action(), Seq: seq}
}

// lastTick is how far a rule's last hit may lag behind its
// latest hit: a hit stores its time only when that is this much later
// than the stored one (or earlier, or nothing is stored yet), which spares
// most hits a locked store. A flow with an idle timeout stores every hit's
// time, so that its expiry is exact.
const lastTick = int64(1e6) // 1 ms

// count counts one packet of bytes at time now on the rule and returns
// the rule's packet count including it.
func (h *hot) count(now int64, bytes uint32) uint64 {
	seq := h.packets.Add(1)
	h.bytes.Add(uint64(bytes))
	if last := h.last.Load(); h.idle != 0 || last == 0 || now-last >= lastTick || now < last {
		h.last.Store(now)
	}
	return seq
}

// Lookup is Classify without counting.
func (c *Classifier) Lookup(k *Key, now int64) Hit {
	h := c.gen.Load().lookup(k, now)
	if h == nil {
		return Hit{}
	}
	return Hit{Matched: true, Flow: h.flow, ID: uint32(h.rank), Action: h.action()}
}

func (g *generation) lookup(k *Key, now int64) *hot {
	if g.flows.n > 0 {
		fk := k.and(&flowMask)
		if r := g.flows.get(&fk); r != nil && !r.expired(now) {
			return r
		}
	}
	var best *hot
	for _, t := range g.tuples {
		if best != nil && t.minRank > best.rank {
			break
		}
		mk := k.and(&t.mask)
		if r := t.m.get(&mk); r != nil && (best == nil || r.rank < best.rank) {
			best = r
		}
	}
	return best
}

// Change is one atomic change of a rule set: rules and flows to add and
// ids to remove (removals apply first, so a change can replace a rule by
// removing and adding its id).
type Change struct {
	Rules  []Rule
	Flows  []Flow
	Remove []uint32
	// Now is the time (ns) the added flows' idle timeouts count from; 0
	// makes them count from their first hit.
	Now int64
}

// Update applies a change: all of it or, when it returns an error, none of
// it. Lookups see the old set until the new one is complete.
func (c *Classifier) Update(ch Change) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.check(&ch); err != nil {
		return err
	}
	g := c.gen.Load()
	ng := &generation{flows: g.flows}
	touched := map[*tupleW]bool{}
	flowsCloned := false
	cloneFlows := func() {
		if !flowsCloned {
			ng.flows, flowsCloned = ng.flows.clone(), true
		}
	}
	for _, id := range ch.Remove {
		r := c.byID[id]
		if r == nil {
			continue
		}
		delete(c.byID, id)
		if r.flow {
			cloneFlows()
			for _, k := range r.fl.keys() {
				ng.flows.del(k)
			}
			c.nflows--
			continue
		}
		c.nrules--
		r.rule.entries(func(mask, val Key) { c.delEntry(mask, val, r, touched) })
	}
	for i := range ch.Rules {
		rl := &ch.Rules[i]
		r := newRuleState(uint64(rl.Priority)<<32|uint64(rl.ID), rl.ID, rl.Action, false, 0)
		r.rule = *rl
		c.byID[rl.ID] = r
		c.nrules++
		rl.entries(func(mask, val Key) { c.addEntry(mask, val, r, touched) })
	}
	for i := range ch.Flows {
		fl := &ch.Flows[i]
		r := newRuleState(uint64(fl.ID), fl.ID, fl.Action, true, int64(fl.Idle))
		r.fl = *fl
		r.h.last.Store(ch.Now)
		cloneFlows()
		for _, k := range fl.keys() {
			ng.flows.set(k, r.h)
		}
		c.byID[fl.ID] = r
		c.nflows++
	}
	if flowsCloned {
		ng.flows = ng.flows.settle()
	}
	// Publish the touched tuples' new tables and re-sort.
	for t := range touched {
		if t.pairs == 0 {
			delete(c.tuples, t.mask)
			t.gen = nil
			continue
		}
		t.gen.m = t.gen.m.settle()
		if t.stale {
			t.gen.minRank = ^uint64(0)
			for _, rs := range t.keys {
				t.gen.minRank = min(t.gen.minRank, rs[0].rank)
			}
			t.stale = false
		}
	}
	ng.tuples = make([]*tupleGen, 0, len(c.tuples))
	for _, t := range c.tuples {
		ng.tuples = append(ng.tuples, t.gen)
	}
	slices.SortFunc(ng.tuples, func(a, b *tupleGen) int {
		if c := cmp.Compare(a.minRank, b.minRank); c != 0 {
			return c
		}
		return slices.Compare(a.mask[:], b.mask[:])
	})
	c.gen.Store(ng)
	return nil
}

// tupleFor returns the writer's tuple for mask with a private (unpublished)
// generation copy, creating either as needed.
func (c *Classifier) tupleFor(mask Key, touched map[*tupleW]bool) *tupleW {
	t := c.tuples[mask]
	if t == nil {
		t = &tupleW{mask: mask, keys: map[Key][]*ruleState{}, gen: &tupleGen{mask: mask, minRank: ^uint64(0), m: newTable(0, initSeed)}}
		c.tuples[mask] = t
		touched[t] = true
		return t
	}
	if !touched[t] {
		t.gen = &tupleGen{mask: mask, minRank: t.gen.minRank, m: t.gen.m.clone()}
		touched[t] = true
	}
	return t
}

func (c *Classifier) addEntry(mask, val Key, r *ruleState, touched map[*tupleW]bool) {
	t := c.tupleFor(mask, touched)
	rs := t.keys[val]
	i, _ := slices.BinarySearchFunc(rs, r.rank, func(x *ruleState, rank uint64) int { return cmp.Compare(x.rank, rank) })
	if i < len(rs) && rs[i] == r {
		return // an Either rule whose two directions are the same entry
	}
	rs = slices.Insert(rs, i, r)
	t.keys[val] = rs
	t.pairs++
	c.entries++
	t.gen.minRank = min(t.gen.minRank, r.rank)
	if i == 0 {
		t.gen.m.set(val, r.h)
	}
}

func (c *Classifier) delEntry(mask, val Key, r *ruleState, touched map[*tupleW]bool) {
	t := c.tupleFor(mask, touched)
	rs := t.keys[val]
	i := slices.Index(rs, r)
	if i < 0 {
		return
	}
	rs = slices.Delete(rs, i, i+1)
	t.pairs--
	c.entries--
	if r.rank == t.gen.minRank {
		t.stale = true
	}
	switch {
	case len(rs) == 0:
		delete(t.keys, val)
		t.gen.m.del(val)
	case i == 0:
		t.keys[val] = rs
		t.gen.m.set(val, rs[0].h)
	default:
		t.keys[val] = rs
	}
}

// keys returns the Keys a flow rule occupies: its direction and, with
// Both, the reverse one.
func (fl *Flow) keys() []Key {
	k := []Key{fl.key(false)}
	if fl.Both {
		if r := fl.key(true); r != k[0] {
			k = append(k, r)
		}
	}
	return k
}

// check validates a change against the current set without changing it.
func (c *Classifier) check(ch *Change) error {
	removed := make(map[uint32]bool, len(ch.Remove))
	for _, id := range ch.Remove {
		removed[id] = true
	}
	nrules, nflows := c.nrules, c.nflows
	entries := c.entries
	// Tuples that the change empties, and masks that it adds.
	pairsLeft := map[Key]int{}
	for id := range removed {
		r := c.byID[id]
		switch {
		case r == nil:
		case r.flow:
			nflows--
		default:
			nrules--
			n := 0
			r.rule.entries(func(mask, _ Key) {
				if _, ok := pairsLeft[mask]; !ok {
					pairsLeft[mask] = c.tuples[mask].pairs
				}
				pairsLeft[mask]--
				n++
			})
			entries -= n
		}
	}
	ids := map[uint32]bool{}
	used := func(id uint32) bool { return ids[id] || (c.byID[id] != nil && !removed[id]) }
	newMasks := map[Key]bool{}
	for i := range ch.Rules {
		rl := &ch.Rules[i]
		if err := rl.Check(); err != nil {
			return err
		}
		if used(rl.ID) {
			return fmt.Errorf("rule %d: the id is in use", rl.ID)
		}
		ids[rl.ID] = true
		if nrules++; nrules > MaxRules {
			return fmt.Errorf("rule %d: more than %d rules: %w", rl.ID, MaxRules, ErrLimit)
		}
		entries += rl.entryCount()
		if entries > MaxEntries {
			return fmt.Errorf("rule %d: more than %d table entries: %w", rl.ID, MaxEntries, ErrLimit)
		}
		var err error
		rl.entries(func(mask, _ Key) {
			if err != nil {
				return
			}
			if left, ok := pairsLeft[mask]; ok && left > 0 {
				return
			}
			if _, ok := c.tuples[mask]; ok {
				if _, emptied := pairsLeft[mask]; !emptied {
					return
				}
			}
			if !newMasks[mask] {
				newMasks[mask] = true
				pairsLeft[mask] = 1 // in use again
				if c.tupleCount(pairsLeft, newMasks) > MaxTuples {
					err = fmt.Errorf("rule %d: adds a mask combination past %d (spec/RULES.md, \"Worst case\"): %w", rl.ID, MaxTuples, ErrLimit)
				}
			}
		})
		if err != nil {
			return err
		}
	}
	keys := map[Key]uint32{}
	for i := range ch.Flows {
		fl := &ch.Flows[i]
		if err := fl.Check(); err != nil {
			return err
		}
		if used(fl.ID) {
			return fmt.Errorf("flow %d: the id is in use", fl.ID)
		}
		ids[fl.ID] = true
		if nflows++; nflows > MaxFlows {
			return fmt.Errorf("flow %d: more than %d flows: %w", fl.ID, MaxFlows, ErrLimit)
		}
		for _, k := range fl.keys() {
			if other, ok := keys[k]; ok {
				return fmt.Errorf("flow %d: the same flow as flow %d", fl.ID, other)
			}
			if h := c.gen.Load().flows.get(&k); h != nil && !removed[h.rs.id] {
				return fmt.Errorf("flow %d: the same flow as flow %d", fl.ID, h.rs.id)
			}
			keys[k] = fl.ID
		}
	}
	return nil
}

// tupleCount is the number of tuples after a change: the current ones
// less those it empties, plus the new masks.
func (c *Classifier) tupleCount(pairsLeft map[Key]int, newMasks map[Key]bool) int {
	n := len(c.tuples)
	for mask, left := range pairsLeft {
		if _, exists := c.tuples[mask]; exists && left <= 0 && !newMasks[mask] {
			n--
		}
	}
	for mask := range newMasks {
		if _, exists := c.tuples[mask]; !exists {
			n++
		}
	}
	return n
}

// Add adds one wildcard rule.
func (c *Classifier) Add(r Rule) error { return c.Update(Change{Rules: []Rule{r}}) }

// AddFlow adds one exact flow rule; its idle timeout counts from now (ns).
func (c *Classifier) AddFlow(fl Flow, now int64) error {
	return c.Update(Change{Flows: []Flow{fl}, Now: now})
}

// Remove removes the rules and flows with these ids; unknown ids are
// ignored. It reports how many were removed.
func (c *Classifier) Remove(ids ...uint32) int {
	c.mu.Lock()
	n := 0
	for _, id := range ids {
		if c.byID[id] != nil {
			n++
		}
	}
	c.mu.Unlock()
	if err := c.Update(Change{Remove: ids}); err != nil {
		// Removing never adds a tuple, an entry or an id.
		panic("rules: a removal failed: " + err.Error())
	}
	return n
}

// Load replaces the whole rule set by f's.
func (c *Classifier) Load(f *File) error {
	c.mu.Lock()
	ids := make([]uint32, 0, len(c.byID))
	for id := range c.byID {
		ids = append(ids, id)
	}
	c.mu.Unlock()
	return c.Update(Change{Rules: f.Rules, Flows: f.Flows, Remove: ids})
}

// Expire removes the flow rules idle for longer than their timeout at time
// now (ns) and returns how many it removed (also counted in Size).
func (c *Classifier) Expire(now int64) int {
	_, n := c.expire(now, nil)
	return n
}

// List returns the rule set: rules by rank (priority, then id), flows by
// id.
func (c *Classifier) List() File {
	c.mu.Lock()
	defer c.mu.Unlock()
	var f File
	for _, r := range c.byID {
		if r.flow {
			f.Flows = append(f.Flows, r.fl)
		} else {
			f.Rules = append(f.Rules, r.rule)
		}
	}
	slices.SortFunc(f.Rules, func(a, b Rule) int {
		return cmp.Or(cmp.Compare(a.Priority, b.Priority), cmp.Compare(a.ID, b.ID))
	})
	slices.SortFunc(f.Flows, func(a, b Flow) int { return cmp.Compare(a.ID, b.ID) })
	return f
}

// Counters returns the counters of the rule or flow with this id.
func (c *Classifier) Counters(id uint32) (Counters, bool) {
	c.mu.Lock()
	r := c.byID[id]
	c.mu.Unlock()
	if r == nil {
		return Counters{}, false
	}
	return r.counters(), true
}

func (r *ruleState) counters() Counters {
	last := r.h.last.Load()
	if r.h.packets.Load() == 0 {
		last = 0
	}
	return Counters{ID: r.id, Packets: r.h.packets.Load(), Bytes: r.h.bytes.Load(), LastHit: last}
}

// AllCounters returns every rule's and flow's counters, by id.
func (c *Classifier) AllCounters() []Counters {
	c.mu.Lock()
	out := make([]Counters, 0, len(c.byID))
	for _, r := range c.byID {
		out = append(out, r.counters())
	}
	c.mu.Unlock()
	slices.SortFunc(out, func(a, b Counters) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// Size describes a classifier's tables.
type Size struct {
	Rules    int    // wildcard rules
	Flows    int    // exact flow rules
	Tuples   int    // distinct mask combinations: hash probes per packet, at most
	Entries  int    // hash entries of the wildcard rules (after range and direction expansion)
	FlowKeys int    // hash entries of the flow rules (two for a both-directions flow)
	Expired  uint64 // flows removed by Expire
}

// Size returns the classifier's size.
func (c *Classifier) Size() Size {
	c.mu.Lock()
	defer c.mu.Unlock()
	g := c.gen.Load()
	return Size{Rules: c.nrules, Flows: c.nflows, Tuples: len(g.tuples), Entries: c.entries, FlowKeys: g.flows.n, Expired: c.expired.Load()}
}

// Check reports whether Update(ch) would succeed now, without applying it:
// callers that batch changes use it to find the one at fault.
func (c *Classifier) Check(ch Change) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.check(&ch)
}
