package rulemaps

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/wringcap/wring/filters/rules"
)

// Exact flows one change at a time. Sync brings the kernel's tables to a
// whole Snapshot, which costs O(rules + flows) for every change; the flows
// analyzers add and remove at run time (a SIP call's media) come a few at
// a time into tables that may hold a million, so they are applied here as
// they are: a flow's rule gets a slot and its keys go into the flow map
// (AddFlows), or its keys leave the map and its slot waits for an RCU
// grace period before reuse (RemoveFlows). Wildcard rules are Sync's.

// AddFlows adds the flows of rs (rules.Classifier.FlowRows) with their
// keys es to the kernel's tables, without a generation switch. A flow
// already in the tables with the same definition keeps its slot and
// counters; one whose definition changed starts again in a new slot. When
// the tables cannot take them all, nothing is added and the error wraps
// ErrTooBig.
func (m *Maps) AddFlows(rs []rules.TableRule, es []rules.TableEntry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	need, newKeys := 0, 0
	for _, r := range rs {
		if !r.Flow {
			return fmt.Errorf("rulemaps: rule %d is not a flow: wildcard rules change through Sync", r.ID)
		}
		if d, ok := m.defs[r.ID]; !ok || d != r {
			need++
		}
	}
	for _, e := range es {
		if _, ok := m.flowIdx[e.Key]; !ok {
			newKeys++
		}
	}
	if need > m.slotsFree() && len(m.pending) > 0 {
		if err := m.gracePeriod(); err != nil {
			return err
		}
	}
	switch {
	case need > m.slotsFree():
		return fmt.Errorf("%d new flows, %d slots free: %w", need, m.slotsFree(), ErrTooBig)
	case len(m.flowIdx)+newKeys > m.opt.FlowKeys:
		return fmt.Errorf("%d flow keys, %d slots: %w", len(m.flowIdx)+newKeys, m.opt.FlowKeys, ErrTooBig)
	}
	fresh := make([]rules.TableRule, 0, need)
	for _, r := range rs {
		if d, ok := m.defs[r.ID]; ok {
			if d == r {
				continue
			}
			if err := m.dropFlow(r.ID); err != nil {
				return err
			}
		}
		fresh = append(fresh, r)
	}
	if err := m.addRules(fresh); err != nil {
		return err
	}
	keys := m.keysByIndex()
	fkeys := make([]rules.Key, 0, len(es))
	fvals := make([][hitSize]byte, 0, len(es))
	for _, e := range es {
		idx, ok := m.ids[e.ID]
		if !ok {
			return fmt.Errorf("rulemaps: flow key of rule %d, which is not among the flows added", e.ID)
		}
		fkeys = append(fkeys, e.Key)
		fvals = append(fvals, hitValue(hit{rank: e.Rank, idx: idx}))
	}
	if err := putBatch(m.flows, fkeys, fvals); err != nil {
		return fmt.Errorf("rulemaps: flows: %w", err)
	}
	for i, k := range fkeys {
		idx := m.ids[es[i].ID]
		old, ok := m.flowIdx[k]
		if ok && old == idx {
			continue
		}
		if ok {
			keys[old] = removeKey(keys[old], k)
		}
		keys[idx] = append(keys[idx], k)
		m.flowIdx[k] = idx
	}
	return nil
}

// RemoveFlows removes the flows with these ids from the kernel's tables;
// ids it does not hold as flows are skipped. Their slots are reused after
// the next RCU grace period.
func (m *Maps) RemoveFlows(ids []uint32) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, id := range ids {
		if d, ok := m.defs[id]; !ok || !d.Flow {
			continue
		}
		if err := m.dropFlow(id); err != nil {
			return err
		}
	}
	if len(m.pending) >= max(m.opt.RuleSlots/8, 1) {
		return m.gracePeriod()
	}
	return nil
}

// dropFlow deletes flow id's keys from the flow map and parks its slot in
// pending (m.mu held).
func (m *Maps) dropFlow(id uint32) error {
	idx := m.ids[id]
	keys := m.keysByIndex()
	for _, k := range keys[idx] {
		if err := m.flows.Delete(k); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
			return fmt.Errorf("rulemaps: remove flow %d: %w", id, err)
		}
		delete(m.flowIdx, k)
	}
	delete(keys, idx)
	delete(m.ids, id)
	delete(m.defs, id)
	m.pending = append(m.pending, idx)
	return nil
}

// addRules gives each rule of rs a slot and writes it there (m.mu held).
func (m *Maps) addRules(rs []rules.TableRule) error {
	if len(rs) == 0 {
		return nil
	}
	zeros := make([][countSize]byte, m.ncpu)
	rkeys := make([]uint32, 0, len(rs))
	rvals := make([][ruleSize]byte, 0, len(rs))
	for _, r := range rs {
		idx, err := m.takeSlot(r, zeros)
		if err != nil {
			return err
		}
		rkeys = append(rkeys, idx)
		rvals = append(rvals, ruleValue(r))
	}
	if err := putBatch(m.rules, rkeys, rvals); err != nil {
		return fmt.Errorf("rulemaps: rules: %w", err)
	}
	return nil
}

// takeSlot gives rule r a slot: a free one, its counters and sample count
// cleared, or one never used (zero in the kernel's maps) (m.mu held).
func (m *Maps) takeSlot(r rules.TableRule, zeros [][countSize]byte) (uint32, error) {
	var idx uint32
	if n := len(m.free); n > 0 {
		idx, m.free = m.free[n-1], m.free[:n-1]
		if err := m.counts.Put(idx, zeros); err != nil {
			return 0, fmt.Errorf("rulemaps: counters of rule %d: %w", r.ID, err)
		}
		if err := m.seq.Put(idx, uint64(0)); err != nil {
			return 0, fmt.Errorf("rulemaps: sample count of rule %d: %w", r.ID, err)
		}
	} else {
		idx = m.next
		m.next++
	}
	m.ids[r.ID], m.defs[r.ID], m.byIdx[idx] = idx, r, r.ID
	return idx, nil
}

// slotsFree is the number of slots a rule can take now (m.mu held).
func (m *Maps) slotsFree() int { return len(m.free) + m.opt.RuleSlots - int(m.next) }

// gracePeriod waits until no program run can still hold a pending slot (a
// write to a map of maps returns after an RCU grace period) and frees them
// (m.mu held).
func (m *Maps) gracePeriod() error {
	if err := m.tuples.Put(uint32(2*MaxTuples), m.barrier); err != nil {
		return fmt.Errorf("rulemaps: grace period: %w", err)
	}
	m.free = append(m.free, m.pending...)
	m.pending = m.pending[:0]
	return nil
}

// keysByIndex returns flowIdx by index, building it after a Sync (m.mu
// held).
func (m *Maps) keysByIndex() map[uint32][]rules.Key {
	if m.flowKeys == nil {
		m.flowKeys = make(map[uint32][]rules.Key, len(m.flowIdx))
		for k, idx := range m.flowIdx {
			m.flowKeys[idx] = append(m.flowKeys[idx], k)
		}
	}
	return m.flowKeys
}

func removeKey(ks []rules.Key, k rules.Key) []rules.Key {
	for i := range ks {
		if ks[i] == k {
			ks[i] = ks[len(ks)-1]
			return ks[:len(ks)-1]
		}
	}
	return ks
}
