package rulemaps

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/wringcap/wring/filters/rules"
)

// ErrTooBig is returned when a rule set does not fit the kernel tables as
// sized by Options; the caller keeps the rules in userspace.
var ErrTooBig = errors.New("rule set does not fit the kernel tables")

// Options size the kernel tables. Zero fields take the defaults.
type Options struct {
	// RuleSlots is the most rules and flows together (each has a slot
	// with its action and per-CPU counters). Default DefaultSlots. The
	// kernel allocates the per-CPU counters of every slot when the maps
	// are created (about 4 ms per thousand slots on a loaded 2-CPU
	// machine): size it to the rule set.
	RuleSlots int
	// FlowKeys is the most exact flow keys (a both-directions flow takes
	// two). Default DefaultSlots.
	FlowKeys int
	// BypassFlows is the size of the LRU table of per-flow counts that
	// bypass after N keeps. Default rules.DefaultFlowSlots.
	BypassFlows int
}

// Limits on Options.
const (
	DefaultSlots = 4096
	MaxRuleSlots = rules.MaxRules + rules.MaxFlows
	MaxFlowKeys  = 2 * rules.MaxFlows
)

// Maps are the kernel tables of one rule set and the userspace mirror of
// what they hold. Sync and Update may be called from any goroutine while
// programs use the maps.
type Maps struct {
	opt     Options
	ncpu    int
	flows   *ebpf.Map // HASH: flow key -> hit
	tuples  *ebpf.Map // ARRAY_OF_MAPS: generation*MaxTuples+i -> HASH masked key -> hit; slot 2*MaxTuples is the barrier
	desc    *ebpf.Map // ARRAY: generation*MaxTuples+i -> mask, min rank
	active  *ebpf.Map // ARRAY[1]: generation, tuple count
	rules   *ebpf.Map // ARRAY: index -> rule
	counts  *ebpf.Map // PERCPU_ARRAY: index -> packets, bytes, last
	seq     *ebpf.Map // ARRAY: index -> sample per packet count
	bypass  *ebpf.Map // LRU_HASH: canonical flow, rule id -> count
	stats   *ebpf.Map // PERCPU_ARRAY[1]: outcome counters
	barrier *ebpf.Map
	scratch *ebpf.Map // PERCPU_ARRAY[1]: the parse results, laundered

	mu     sync.Mutex
	gen    uint32            // the active generation
	genLen [2]int            // tuple slots each generation holds
	ids    map[uint32]uint32 // rule id -> index
	defs   map[uint32]rules.TableRule
	byIdx  []uint32 // index -> rule id
	free   []uint32
	// pending are slots freed by a sync that switched no generation
	// (exact flows only): a program run may still hold them until an RCU
	// grace period has passed, so they join free at the next sync that
	// waits for one.
	pending []uint32
	next    uint32
	flowIdx map[rules.Key]uint32 // flow key -> index in the kernel
	// flowKeys is flowIdx by index, for RemoveFlows; nil when a Sync has
	// changed flowIdx since it was built.
	flowKeys map[uint32][]rules.Key
	tupls    []*tupleState // the active generation's tuples, in order
}

type hit struct {
	rank uint64
	idx  uint32
}

type tupleState struct {
	mask    rules.Key
	m       *ebpf.Map
	entries map[rules.Key]hit
}

func tupleSpec(n int) *ebpf.MapSpec {
	return &ebpf.MapSpec{Name: "wring_rtuple", Type: ebpf.Hash, KeySize: keySize, ValueSize: hitSize,
		MaxEntries: uint32(max(n, 1))}
}

// New creates empty tables.
func New(o Options) (*Maps, error) {
	if o.RuleSlots == 0 {
		o.RuleSlots = DefaultSlots
	}
	if o.FlowKeys == 0 {
		o.FlowKeys = DefaultSlots
	}
	if o.BypassFlows == 0 {
		o.BypassFlows = rules.DefaultFlowSlots
	}
	switch {
	case o.RuleSlots < 1 || o.RuleSlots > MaxRuleSlots:
		return nil, fmt.Errorf("rulemaps: %d rule slots: want 1 to %d", o.RuleSlots, MaxRuleSlots)
	case o.FlowKeys < 1 || o.FlowKeys > MaxFlowKeys:
		return nil, fmt.Errorf("rulemaps: %d flow keys: want 1 to %d", o.FlowKeys, MaxFlowKeys)
	case o.BypassFlows < 1 || o.BypassFlows > rules.MaxFlowSlots:
		return nil, fmt.Errorf("rulemaps: %d bypass flows: want 1 to %d", o.BypassFlows, rules.MaxFlowSlots)
	}
	ncpu, err := ebpf.PossibleCPU()
	if err != nil {
		return nil, fmt.Errorf("rulemaps: possible cpus: %w", err)
	}
	m := &Maps{opt: o, ncpu: ncpu, ids: map[uint32]uint32{}, defs: map[uint32]rules.TableRule{},
		byIdx: make([]uint32, o.RuleSlots), flowIdx: map[rules.Key]uint32{}}
	specs := []struct {
		dst  **ebpf.Map
		spec *ebpf.MapSpec
	}{
		{&m.flows, &ebpf.MapSpec{Name: "wring_rflows", Type: ebpf.Hash, KeySize: keySize, ValueSize: hitSize,
			MaxEntries: uint32(o.FlowKeys), Flags: 1 /* BPF_F_NO_PREALLOC */}},
		{&m.tuples, &ebpf.MapSpec{Name: "wring_rtuples", Type: ebpf.ArrayOfMaps, KeySize: 4, ValueSize: 4,
			MaxEntries: 2*MaxTuples + 1, InnerMap: tupleSpec(1)}},
		{&m.desc, &ebpf.MapSpec{Name: "wring_rdesc", Type: ebpf.Array, KeySize: 4, ValueSize: descSize, MaxEntries: 2 * MaxTuples}},
		{&m.active, &ebpf.MapSpec{Name: "wring_ractive", Type: ebpf.Array, KeySize: 4, ValueSize: activeSize, MaxEntries: 1}},
		{&m.rules, &ebpf.MapSpec{Name: "wring_rrules", Type: ebpf.Array, KeySize: 4, ValueSize: ruleSize, MaxEntries: uint32(o.RuleSlots)}},
		{&m.counts, &ebpf.MapSpec{Name: "wring_rcounts", Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: countSize, MaxEntries: uint32(o.RuleSlots)}},
		{&m.seq, &ebpf.MapSpec{Name: "wring_rseq", Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: uint32(o.RuleSlots)}},
		{&m.bypass, &ebpf.MapSpec{Name: "wring_rbypass", Type: ebpf.LRUHash, KeySize: bypassKey, ValueSize: 8, MaxEntries: uint32(o.BypassFlows)}},
		{&m.stats, &ebpf.MapSpec{Name: "wring_rstats", Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: statsSize, MaxEntries: statEntries}},
		{&m.barrier, tupleSpec(1)},
		{&m.scratch, &ebpf.MapSpec{Name: "wring_rscratch", Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: 8 * 14, MaxEntries: 1}},
	}
	for _, s := range specs {
		mp, err := ebpf.NewMap(s.spec)
		if err != nil {
			m.Close()
			return nil, fmt.Errorf("rulemaps: map %s: %w", s.spec.Name, err)
		}
		*s.dst = mp
	}
	return m, nil
}

// Close frees the maps (programs that use them keep them alive).
func (m *Maps) Close() error {
	var errs []error
	for _, mp := range []*ebpf.Map{m.flows, m.tuples, m.desc, m.active, m.rules, m.counts, m.seq, m.bypass, m.stats, m.barrier, m.scratch} {
		if mp != nil {
			errs = append(errs, mp.Close())
		}
	}
	for _, t := range m.tupls {
		errs = append(errs, t.m.Close())
	}
	m.tupls = nil
	return errors.Join(errs...)
}

// Instructions returns the classification block over these maps (see
// BlockOptions). It reads the maps' current contents at run time: Sync
// and Update change what it decides without a reload.
func (m *Maps) Instructions(o BlockOptions) (asm.Instructions, error) { return m.block(o) }

// Program loads a tc (SchedCLS) program that only classifies: it returns
// the result word (Decode reads it). It serves tests and benchmarks
// through BPF_PROG_TEST_RUN.
func (m *Maps) Program() (*ebpf.Program, error) { return m.program(false) }

// ProgramXDP is Program for the XDP block (BlockOptions.XDP).
func (m *Maps) ProgramXDP() (*ebpf.Program, error) { return m.program(true) }

func (m *Maps) program(xdp bool) (*ebpf.Program, error) {
	typ := ebpf.SchedCLS
	if xdp {
		typ = ebpf.XDP
	}
	body, err := m.block(BlockOptions{Ctx: asm.R6, Done: "wring_rules_exit", XDP: xdp})
	if err != nil {
		return nil, err
	}
	insns := append(asm.Instructions{asm.Mov.Reg(asm.R6, asm.R1)}, body...)
	insns = append(insns, asm.Return().WithSymbol("wring_rules_exit"))
	p, err := ebpf.NewProgramWithOptions(&ebpf.ProgramSpec{Name: "wring_rules", Type: typ,
		License: "Dual BSD/GPL", Instructions: insns}, ebpf.ProgramOptions{LogSizeStart: 1 << 20})
	if err != nil {
		return nil, fmt.Errorf("rulemaps: load: %w", err)
	}
	return p, nil
}

// Result is the block's decision on one packet, read from its result word.
type Result struct {
	Outcome      rules.Outcome
	Matched      bool   // a rule or flow decided
	ID           uint32 // its id
	Unclassified bool   // the kernel could not parse the frame (more than MaxVLANTags tags): captured without rules
	Keep         bool   // a keep rule or flow captured it, past the filter (BlockOptions.Keep)
}

// Decode reads a result word.
func (m *Maps) Decode(w uint32) Result {
	r := Result{Outcome: rules.Outcome(w >> resultOutcomeShift & resultOutcomeMask), Unclassified: w&resultUnclassified != 0,
		Keep: w&resultKeep != 0}
	if i := w & resultIndexMask; i != 0 {
		m.mu.Lock()
		if int(i-1) < len(m.byIdx) {
			r.Matched, r.ID = true, m.byIdx[i-1]
		}
		m.mu.Unlock()
	}
	return r
}

// Fits reports whether the tables hold t, and if not, why.
func (m *Maps) Fits(t *rules.Tables) error {
	switch {
	case len(t.Rules) > m.opt.RuleSlots:
		return fmt.Errorf("%d rules and flows, %d slots: %w", len(t.Rules), m.opt.RuleSlots, ErrTooBig)
	case len(t.Flows) > m.opt.FlowKeys:
		return fmt.Errorf("%d flow keys, %d slots: %w", len(t.Flows), m.opt.FlowKeys, ErrTooBig)
	case len(t.Tuples) > MaxTuples:
		return fmt.Errorf("%d tuples, at most %d: %w", len(t.Tuples), MaxTuples, ErrTooBig)
	}
	return nil
}

// Update applies a change to the classifier and then to the kernel
// tables, without reloading any program.
func (m *Maps) Update(c *rules.Classifier, ch rules.Change) error {
	if err := c.Update(ch); err != nil {
		return err
	}
	t := c.Snapshot()
	return m.Sync(&t)
}

// Sync brings the kernel tables to t (a rules.Classifier Snapshot). The
// wildcard tables switch generation in one write, after the new one is
// complete; exact flows are added before the switch and removed after it.
// Rules keep their slot, and so their counters, across syncs; a rule that
// is removed, or whose action or priority changes, starts again from zero.
func (m *Maps) Sync(t *rules.Tables) error {
	if err := m.Fits(t); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.flowKeys = nil // rebuilt from flowIdx when RemoveFlows needs it
	// Rules: new and changed ones get a fresh slot.
	want := make(map[uint32]rules.TableRule, len(t.Rules))
	var stale []uint32 // slots to free after the switch
	for _, r := range t.Rules {
		want[r.ID] = r
	}
	for id, def := range m.defs {
		if w, ok := want[id]; !ok || w != def {
			stale = append(stale, m.ids[id])
			delete(m.ids, id)
			delete(m.defs, id)
		}
	}
	need := 0
	for _, r := range t.Rules {
		if _, ok := m.defs[r.ID]; !ok {
			need++
		}
	}
	if avail := len(m.free) + m.opt.RuleSlots - int(m.next); need > avail {
		return fmt.Errorf("%d new rules and flows, %d slots free until the next sync: %w", need, avail, ErrTooBig)
	}
	// New slots: a slot never used before is zero in the kernel's maps; a
	// reused one has its counters and sample count cleared first.
	var fresh []rules.TableRule
	for _, r := range t.Rules {
		if _, ok := m.defs[r.ID]; !ok {
			fresh = append(fresh, r)
		}
	}
	if err := m.addRules(fresh); err != nil {
		return err
	}
	// Exact flows: add and change now, remove after the switch.
	wantFlows := make(map[rules.Key]uint32, len(t.Flows))
	var fkeys []rules.Key
	var fvals [][hitSize]byte
	for _, e := range t.Flows {
		idx := m.ids[e.ID]
		wantFlows[e.Key] = idx
		if old, ok := m.flowIdx[e.Key]; ok && old == idx {
			continue
		}
		fkeys = append(fkeys, e.Key)
		fvals = append(fvals, hitValue(hit{rank: e.Rank, idx: idx}))
	}
	if err := putBatch(m.flows, fkeys, fvals); err != nil {
		return fmt.Errorf("rulemaps: flows: %w", err)
	}
	for _, k := range fkeys {
		m.flowIdx[k] = wantFlows[k]
	}
	// Only exact flows changed (what analyzers do at run time): the flow
	// map changes in place, one key at a time, and no generation switch,
	// with its RCU grace period (milliseconds), is needed.
	if len(m.pending) < m.opt.RuleSlots/8 && m.tuplesUnchanged(t) {
		if err := m.removeFlows(wantFlows); err != nil {
			return err
		}
		m.pending = append(m.pending, stale...)
		return nil
	}
	// Wildcard tuples: build the inactive generation.
	byMask := make(map[rules.Key]*tupleState, len(m.tupls))
	for _, ts := range m.tupls {
		byMask[ts.mask] = ts
	}
	next := 1 - m.gen
	var nt []*tupleState
	var created []*tupleState
	fail := func(err error) error {
		for _, ts := range created {
			ts.m.Close()
		}
		return err
	}
	for i := range t.Tuples {
		tu := &t.Tuples[i]
		ents := make(map[rules.Key]hit, len(tu.Entries))
		for _, e := range tu.Entries {
			ents[e.Key] = hit{rank: e.Rank, idx: m.ids[e.ID]}
		}
		ts := byMask[tu.Mask]
		if ts == nil || !sameEntries(ts.entries, ents) {
			mp, err := ebpf.NewMap(tupleSpec(len(ents)))
			if err != nil {
				return fail(fmt.Errorf("rulemaps: tuple of %d entries: %w", len(ents), err))
			}
			ts = &tupleState{mask: tu.Mask, m: mp, entries: ents}
			created = append(created, ts)
			keys := make([]rules.Key, 0, len(ents))
			vals := make([][hitSize]byte, 0, len(ents))
			for k, h := range ents {
				keys = append(keys, k)
				vals = append(vals, hitValue(h))
			}
			if err := putBatch(mp, keys, vals); err != nil {
				return fail(fmt.Errorf("rulemaps: tuple: %w", err))
			}
		}
		slot := next*MaxTuples + uint32(i)
		if err := m.desc.Put(slot, descValue(tu.Mask, tu.MinRank)); err != nil {
			return fail(fmt.Errorf("rulemaps: tuple descriptor: %w", err))
		}
		if err := m.tuples.Put(slot, ts.m); err != nil {
			return fail(fmt.Errorf("rulemaps: tuple table: %w", err))
		}
		nt = append(nt, ts)
	}
	for i := len(nt); i < m.genLen[next]; i++ {
		if err := m.tuples.Delete(next*MaxTuples + uint32(i)); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
			return fail(fmt.Errorf("rulemaps: clear tuple slot: %w", err))
		}
	}
	m.genLen[next] = len(nt)
	// The switch: one write that the program reads once per packet.
	var act [activeSize]byte
	binary.LittleEndian.PutUint32(act[0:], next)
	binary.LittleEndian.PutUint32(act[4:], uint32(len(nt)))
	if err := m.active.Put(uint32(0), act); err != nil {
		return fail(fmt.Errorf("rulemaps: switch generation: %w", err))
	}
	m.gen = next
	// Wait until no program run can still see the old generation: a
	// write to a map of maps returns after an RCU grace period.
	if err := m.tuples.Put(uint32(2*MaxTuples), m.barrier); err != nil {
		return fmt.Errorf("rulemaps: grace period: %w", err)
	}
	for _, ts := range m.tupls {
		if !slices.Contains(nt, ts) {
			ts.m.Close()
		}
	}
	m.tupls = nt
	if err := m.removeFlows(wantFlows); err != nil {
		return err
	}
	// The grace period above covers the slots freed before it too.
	m.free = append(append(m.free, m.pending...), stale...)
	m.pending = m.pending[:0]
	return nil
}

// removeFlows deletes from the kernel the exact flows not in want.
func (m *Maps) removeFlows(want map[rules.Key]uint32) error {
	for k := range m.flowIdx {
		if _, ok := want[k]; !ok {
			if err := m.flows.Delete(k); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
				return fmt.Errorf("rulemaps: remove flow: %w", err)
			}
			delete(m.flowIdx, k)
		}
	}
	return nil
}

// tuplesUnchanged reports whether the active generation's wildcard tuples
// are t's: the same masks in the same order with the same entries.
func (m *Maps) tuplesUnchanged(t *rules.Tables) bool {
	if len(t.Tuples) != len(m.tupls) {
		return false
	}
	for i := range t.Tuples {
		tu, ts := &t.Tuples[i], m.tupls[i]
		if ts.mask != tu.Mask || len(ts.entries) != len(tu.Entries) {
			return false
		}
		for _, e := range tu.Entries {
			if h, ok := ts.entries[e.Key]; !ok || h != (hit{rank: e.Rank, idx: m.ids[e.ID]}) {
				return false
			}
		}
	}
	return true
}

func sameEntries(a, b map[rules.Key]hit) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// putBatch writes keys and values, in batches where the kernel has them.
func putBatch[K, V any](mp *ebpf.Map, keys []K, vals []V) error {
	const chunk = 4096
	for len(keys) > 0 {
		n := min(len(keys), chunk)
		if _, err := mp.BatchUpdate(keys[:n], vals[:n], nil); err != nil {
			if !errors.Is(err, ebpf.ErrNotSupported) {
				return err
			}
			for i := 0; i < n; i++ {
				if err := mp.Put(keys[i], vals[i]); err != nil {
					return err
				}
			}
		}
		keys, vals = keys[n:], vals[n:]
	}
	return nil
}

func hitValue(h hit) [hitSize]byte {
	var v [hitSize]byte
	binary.LittleEndian.PutUint64(v[0:], h.rank)
	binary.LittleEndian.PutUint32(v[8:], h.idx)
	return v
}

func descValue(mask rules.Key, minRank uint64) [descSize]byte {
	var v [descSize]byte
	for w := range 6 {
		binary.LittleEndian.PutUint64(v[8*w:], mask[w])
	}
	binary.LittleEndian.PutUint64(v[48:], minRank)
	return v
}

func ruleValue(r rules.TableRule) [ruleSize]byte {
	var v [ruleSize]byte
	binary.LittleEndian.PutUint32(v[ruleID:], r.ID)
	v[ruleVerb] = byte(r.Action.Verb)
	if r.Action.PerFlow {
		v[rulePerFlow] = 1
	}
	binary.LittleEndian.PutUint32(v[ruleN:], r.Action.N)
	return v
}

// Counters returns every rule's and flow's counters summed over the CPUs,
// by id; LastHit is on the TAI clock (bpf_ktime_get_tai_ns).
func (m *Maps) Counters() ([]rules.Counters, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]rules.Counters, 0, len(m.ids))
	var per [][countSize]byte
	for id, idx := range m.ids {
		if err := m.counts.Lookup(idx, &per); err != nil {
			return nil, fmt.Errorf("rulemaps: counters of rule %d: %w", id, err)
		}
		c := rules.Counters{ID: id}
		for _, v := range per {
			c.Packets += binary.LittleEndian.Uint64(v[0:])
			c.Bytes += binary.LittleEndian.Uint64(v[8:])
			c.LastHit = max(c.LastHit, int64(binary.LittleEndian.Uint64(v[16:])))
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b rules.Counters) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// Stats are the kernel's outcome counters, summed over the CPUs.
type Stats struct {
	Outcomes     [5]uint64 // by rules.Outcome: captured (no match included), dropped, passed, sampled_out, bypassed
	NoMatch      uint64    // packets no rule matched (counted as captured too)
	Unclassified uint64    // frames the kernel could not parse (captured without rules, not in Outcomes)
	BypassFull   uint64    // bypass counts the LRU table refused (the packet was captured)
}

// Stats reads the kernel's outcome counters.
func (m *Maps) Stats() (Stats, error) {
	per, err := m.CPUStats()
	if err != nil {
		return Stats{}, err
	}
	var s Stats
	for _, c := range per {
		for i := range s.Outcomes {
			s.Outcomes[i] += c.Outcomes[i]
		}
		s.NoMatch += c.NoMatch
		s.Unclassified += c.Unclassified
		s.BypassFull += c.BypassFull
	}
	return s, nil
}

// CPUStats reads the kernel's outcome counters of each CPU, by CPU
// number (the passive path's ring number), over every queue.
func (m *Maps) CPUStats() ([]Stats, error) {
	raw, err := m.readStats()
	if err != nil {
		return nil, err
	}
	out := make([]Stats, m.ncpu)
	for i, v := range raw {
		out[i%m.ncpu].add(v)
	}
	return out, nil
}

// QueueStats reads the kernel's outcome counters of one receive queue,
// summed over the CPUs. Only the XDP block (BlockOptions.XDP) counts by
// queue; the tc block counts everything as queue 0. Queues from
// MaxQueues up share one entry: any of them reads it.
func (m *Maps) QueueStats(queue int) (Stats, error) {
	if queue < 0 {
		return Stats{}, fmt.Errorf("rulemaps: queue %d", queue)
	}
	var per [][statsSize]byte
	if err := m.stats.Lookup(uint32(min(queue, MaxQueues)), &per); err != nil {
		return Stats{}, fmt.Errorf("rulemaps: stats of queue %d: %w", queue, err)
	}
	var s Stats
	for _, v := range per {
		s.add(v)
	}
	return s, nil
}

// add adds one CPU's raw statistics entry to s.
func (s *Stats) add(v [statsSize]byte) {
	for i := range s.Outcomes {
		s.Outcomes[i] += binary.LittleEndian.Uint64(v[8*(statCaptured+i):])
	}
	s.NoMatch += binary.LittleEndian.Uint64(v[8*statNoMatch:])
	s.Unclassified += binary.LittleEndian.Uint64(v[8*statUnclassified:])
	s.BypassFull += binary.LittleEndian.Uint64(v[8*statBypassFull:])
}

// readStats reads the whole statistics array: entry e of CPU c at
// e*ncpu+c. It reads in one batch where the kernel can, else entry by
// entry.
func (m *Maps) readStats() ([][statsSize]byte, error) {
	keys := make([]uint32, statEntries)
	vals := make([][statsSize]byte, statEntries*m.ncpu)
	var cursor ebpf.MapBatchCursor
	n, err := m.stats.BatchLookup(&cursor, keys, vals, nil)
	if n == statEntries && (err == nil || errors.Is(err, ebpf.ErrKeyNotExist)) {
		ordered := true
		for i, k := range keys {
			ordered = ordered && k == uint32(i)
		}
		if ordered {
			return vals, nil
		}
	}
	var per [][statsSize]byte
	for e := range uint32(statEntries) {
		if err := m.stats.Lookup(e, &per); err != nil {
			return nil, fmt.Errorf("rulemaps: stats: %w", err)
		}
		copy(vals[int(e)*m.ncpu:], per)
	}
	return vals, nil
}
