package rules

import (
	"cmp"
	"slices"
)

// Tables is a snapshot of a classifier's tables in the layout the kernel
// path loads into BPF maps (spec/RULES.md, "Turning the tables into BPF
// maps" and "Kernel path"): every rule with its rank and action, the exact
// flow keys, and the tuples of the tuple-space search with, at each masked
// key, the best rule.
type Tables struct {
	Rules  []TableRule  // every wildcard rule and flow rule, by id
	Flows  []TableEntry // exact flow keys (masked with FlowMask), by key
	Tuples []Tuple      // by MinRank, then mask: the search order
}

// TableRule is one rule or flow as the kernel needs it.
type TableRule struct {
	ID     uint32
	Rank   uint64 // priority<<32 | id for a rule, id for a flow: lower wins
	Flow   bool
	Action Action
}

// TableEntry is one hash map entry: a masked key and the rule that wins at
// it.
type TableEntry struct {
	Key  Key
	ID   uint32
	Rank uint64
}

// Tuple is one mask combination: the best rule at each masked key.
type Tuple struct {
	Mask    Key
	MinRank uint64 // the best rank among the entries
	Entries []TableEntry
}

// FlowMask returns the mask that selects the fields an exact flow rule
// compares (addresses, ports, VLAN, IP version, protocol).
func FlowMask() Key { return flowMask }

// And returns k masked with m.
func (k *Key) And(m *Key) Key { return k.and(m) }

// Keys returns the keys a flow rule occupies in the exact flow table: its
// direction and, with Both, the reverse one.
func (fl *Flow) Keys() []Key { return fl.keys() }

// Canonical returns the flow part of k (FlowMask) with the endpoints in
// the fixed order bypass after N counts flows by, so that both directions
// of a flow give the same key.
func Canonical(k *Key) Key { return canonical(k) }

// Snapshot returns the classifier's tables as of the latest change. It
// copies every entry: its cost is linear in the size of the rule set.
func (c *Classifier) Snapshot() Tables {
	c.mu.Lock()
	defer c.mu.Unlock()
	var t Tables
	t.Rules = make([]TableRule, 0, len(c.byID))
	for _, r := range c.byID {
		t.Rules = append(t.Rules, TableRule{ID: r.id, Rank: r.rank, Flow: r.flow, Action: r.act})
	}
	slices.SortFunc(t.Rules, func(a, b TableRule) int { return cmp.Compare(a.ID, b.ID) })
	g := c.gen.Load()
	t.Flows = make([]TableEntry, 0, g.flows.n)
	for _, r := range c.byID {
		if !r.flow {
			continue
		}
		for _, k := range r.fl.keys() {
			t.Flows = append(t.Flows, TableEntry{Key: k, ID: r.id, Rank: r.rank})
		}
	}
	slices.SortFunc(t.Flows, func(a, b TableEntry) int { return slices.Compare(a.Key[:], b.Key[:]) })
	for _, tw := range c.tuples {
		tu := Tuple{Mask: tw.mask, MinRank: ^uint64(0), Entries: make([]TableEntry, 0, len(tw.keys))}
		for k, rs := range tw.keys {
			tu.Entries = append(tu.Entries, TableEntry{Key: k, ID: rs[0].id, Rank: rs[0].rank})
			tu.MinRank = min(tu.MinRank, rs[0].rank)
		}
		slices.SortFunc(tu.Entries, func(a, b TableEntry) int { return slices.Compare(a.Key[:], b.Key[:]) })
		t.Tuples = append(t.Tuples, tu)
	}
	slices.SortFunc(t.Tuples, func(a, b Tuple) int {
		return cmp.Or(cmp.Compare(a.MinRank, b.MinRank), slices.Compare(a.Mask[:], b.Mask[:]))
	})
	return t
}
