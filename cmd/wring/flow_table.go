package main

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/wringcap/wring/capture/rulemaps"
	"github.com/wringcap/wring/filters/rules"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/wasm"
)

// flowTable lets analyzers granted the rules capability add exact flows to
// the capture's classifier (wasm.FlowTable). Their ids are taken from
// analyzerFlowIDs upwards, skipping ids the rule file uses. When the rules
// run in the kernel, every change is brought to the kernel's tables too
// before the analyzer is told it was taken, so the first packet of a flow
// that arrives after the add is handled by it in the kernel.
type flowTable struct {
	cl     *rules.Classifier
	kernel *rulemaps.Maps // the kernel's tables, nil when the rules run in userspace
	mu     sync.Mutex
	next   uint32
	ch     rules.Change // scratch
	gone   []uint32     // scratch: ids removed by a change or by expiry
	ids    []uint32     // scratch: ids added
	rs     []rules.TableRule
	es     []rules.TableEntry
}

// analyzerFlowIDs is the first id given to an analyzer's flow.
const analyzerFlowIDs = 1 << 31

func newFlowTable(cl *rules.Classifier) *flowTable { return &flowTable{cl: cl, next: analyzerFlowIDs} }

func (t *flowTable) id() uint32 {
	for {
		id := t.next
		t.next++
		if t.next == 0 {
			t.next = analyzerFlowIDs
		}
		if _, used := t.cl.Counters(id); !used {
			return id
		}
	}
}

// flowAction maps a spec.FlowAction* to the rule action.
func flowAction(r *wasm.FlowRule) rules.Action {
	switch r.Action {
	case spec.FlowActionCapture:
		return rules.Action{Verb: rules.VerbCapture}
	case spec.FlowActionDrop:
		return rules.Action{Verb: rules.VerbDrop}
	case spec.FlowActionBypass:
		return rules.Action{Verb: rules.VerbBypass, N: r.Arg}
	}
	return rules.Action{Verb: rules.VerbKeep}
}

// UpdateFlows applies the analyzer's removals and adds in one classifier
// update. When the classifier refuses it, it names the first add that
// cannot be taken; an add refused for a key that only a flow past its idle
// timeout holds is retried once after the expired flows are removed.
func (t *flowTable) UpdateFlows(add []wasm.FlowRule, del []uint64, ids []uint64) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	ch := &t.ch
	ch.Flows, ch.Remove, ch.Now = ch.Flows[:0], ch.Remove[:0], 0
	for _, id := range del {
		ch.Remove = append(ch.Remove, uint32(id))
	}
	for i := range add {
		r := &add[i]
		id := t.id()
		ids[i] = uint64(id)
		ch.Flows = append(ch.Flows, rules.Flow{ID: id, Proto: r.Proto, Src: r.Src, Dst: r.Dst, Both: r.Both, Tagged: r.Tagged,
			VLAN: r.VLAN, Idle: r.Idle, Action: flowAction(r)})
		ch.Now = max(ch.Now, r.Now)
	}
	t.gone = append(t.gone[:0], ch.Remove...)
	err := t.cl.Update(*ch)
	if err != nil && len(add) > 0 && ch.Now != 0 {
		n := len(t.gone)
		if t.gone = t.cl.ExpireIDs(ch.Now, t.gone); len(t.gone) > n {
			err = t.cl.Update(*ch)
		}
	}
	if err == nil {
		return t.syncKernel(ch.Flows, t.gone)
	}
	if len(t.gone) > len(ch.Remove) {
		_ = t.syncKernel(nil, t.gone[len(ch.Remove):]) // the expired flows are gone even so
	}
	idx := len(add) - 1
	all := ch.Flows
	for j := 1; j <= len(all); j++ {
		if t.cl.Check(rules.Change{Remove: ch.Remove, Flows: all[:j], Now: ch.Now}) != nil {
			idx = j - 1
			break
		}
	}
	cause := wasm.ErrFlowConflict
	if errors.Is(err, rules.ErrLimit) {
		cause = wasm.ErrFlowFull
	}
	return &wasm.FlowTableError{Index: idx, Err: fmt.Errorf("%w: %s", cause, strings.TrimSpace(err.Error()))}
}

// syncKernel brings a change to the kernel's tables: the flows removed
// (or expired) leave them, then the flows added enter, each by its own
// keys (rulemaps AddFlows and RemoveFlows), so a change costs what it
// changes, not the size of the tables. When the kernel refuses the adds
// (its tables are full), they are taken back out of the classifier, and
// the analyzer is refused the first of them. A failure to remove (which
// only a broken map gives) is repaired by bringing the kernel's tables to
// the whole classifier.
func (t *flowTable) syncKernel(added []rules.Flow, removed []uint32) error {
	if t.kernel == nil {
		return nil
	}
	if len(removed) > 0 {
		if err := t.kernel.RemoveFlows(removed); err != nil {
			snap := t.cl.Snapshot()
			if err := t.kernel.Sync(&snap); err != nil {
				return &wasm.FlowTableError{Index: 0, Err: fmt.Errorf("%w: the kernel's tables: %v", wasm.ErrFlowFull, err)}
			}
			return nil
		}
	}
	if len(added) == 0 {
		return nil
	}
	t.ids = t.ids[:0]
	for _, f := range added {
		t.ids = append(t.ids, f.ID)
	}
	t.rs, t.es = t.cl.FlowRows(t.ids, t.rs[:0], t.es[:0])
	err := t.kernel.AddFlows(t.rs, t.es)
	if err == nil {
		return nil
	}
	// A refusal adds nothing; a map error part way may have added some.
	if t.cl.Update(rules.Change{Remove: t.ids}) != nil || t.kernel.RemoveFlows(t.ids) != nil {
		snap := t.cl.Snapshot()
		_ = t.kernel.Sync(&snap)
	}
	return &wasm.FlowTableError{Index: 0, Err: fmt.Errorf("%w: the kernel's tables: %v", wasm.ErrFlowFull, err)}
}

// FlowsAlive removes the flows idle past their timeout at now, then keeps
// the ids still in the classifier.
func (t *flowTable) FlowsAlive(ids []uint64, now int64) []uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if now != 0 {
		if t.gone = t.cl.ExpireIDs(now, t.gone[:0]); len(t.gone) > 0 {
			_ = t.syncKernel(nil, t.gone) // removals only: the tables shrink
		}
	}
	out := ids[:0]
	for _, id := range ids {
		if _, ok := t.cl.Counters(uint32(id)); ok {
			out = append(out, id)
		}
	}
	return out
}

// applyGrants gives the analyzers the capabilities --grant NAME:CAP names.
// The only capability is rules (read the rule blob, add and remove exact
// flows). A grant for an analyzer not loaded, or of an unknown capability,
// is an error.
func applyGrants(specs []wasm.Analyzer, grants []string) error {
	for _, g := range grants {
		name, capab, ok := strings.Cut(g, ":")
		if !ok || name == "" {
			return fmt.Errorf("--grant %q: want NAME:rules", g)
		}
		if capab != "rules" {
			return fmt.Errorf("--grant %s: unknown capability %q (the only one is rules)", g, capab)
		}
		found := false
		for i := range specs {
			if specs[i].Name == name {
				specs[i].GrantRules, found = true, true
			}
		}
		if !found {
			var names []string
			for _, s := range specs {
				names = append(names, s.Name)
			}
			return fmt.Errorf("--grant %s: no analyzer named %q (loaded: %s)", g, name, strings.Join(names, ", "))
		}
	}
	return nil
}

// grantsRules reports whether --grant gives some analyzer the rules
// capability.
func (f *analyzerFlags) grantsRules() bool {
	for _, g := range f.Grant {
		if strings.HasSuffix(g, ":rules") {
			return true
		}
	}
	return false
}

// forAnalyzers makes sure a classifier exists when an analyzer may add flows
// to it (an empty one without --rules), and hands the analyzers the table.
func (f *rulesFlags) forAnalyzers(a *analyzerFlags) error {
	if len(a.Grant) > 0 && len(a.Analyzer) == 0 {
		return exitf(2, "--grant %s: no --analyzer to grant it to", a.Grant[0])
	}
	if !a.grantsRules() {
		return nil
	}
	if f.cl == nil {
		cl := rules.New()
		dec, err := rules.NewDecider(cl, f.FlowSlots)
		if err != nil {
			return exitf(2, "--rules-flow-slots: %v", err)
		}
		f.cl, f.dec = cl, dec
	}
	a.flowTable = newFlowTable(f.cl)
	f.analyzerFlows = true
	for _, g := range a.Grant {
		if strings.HasSuffix(g, ":rules") {
			f.analyzers++
		}
	}
	return nil
}

// printFlowReport prints what the analyzers did to the flow table.
func printFlowReport(w interface{ Write([]byte) (int, error) }, h *wasm.Host) {
	for _, s := range h.FlowStats() {
		fmt.Fprintf(w, "wring: analyzer %s: flow rules: %d added, %d refreshed, %d removed, %d expired, %d alive; %d refused (quota %d, rate %d, invalid %d, conflict %d, table %d, no table %d, unknown %d)\n",
			s.Analyzer, s.Added, s.Refreshed, s.Removed, s.Expired, s.Alive, s.Refused, s.RefusedQuota, s.RefusedRate,
			s.RefusedInvalid, s.RefusedConflict, s.RefusedTable, s.RefusedNoTable, s.RefusedUnknown)
	}
}
