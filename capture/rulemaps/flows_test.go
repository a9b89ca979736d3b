//go:build linux

package rulemaps

import (
	"errors"
	"testing"

	"github.com/wringcap/wring/filters/rules"
)

// TestFlowDeltas changes exact flows one change at a time through AddFlows
// and RemoveFlows, as the analyzers' flow table does: a quarter of the
// flows removed, 40 added and the idle ones expired at every step, with
// slots few enough that freed slots come back through grace periods (both
// when RemoveFlows parks enough of them and when AddFlows runs short).
// After each step the kernel decides frames as the userspace decider does,
// its counters agree, and its flow tables hold exactly the classifier's
// flow keys, each at its rule's slot.
func TestFlowDeltas(t *testing.T) {
	needKernel(t)
	g := newGen(7, 10)
	f := g.file(200, 100)
	rg := newRig(t, f, Options{RuleSlots: 420, FlowKeys: 400})
	var now int64 = 1
	graces := 0
	for step := range 12 {
		cur := rg.c.List()
		var ch rules.Change
		for i := step % 4; i < len(cur.Flows); i += 4 {
			ch.Remove = append(ch.Remove, cur.Flows[i].ID)
		}
		seen := map[rules.Key]bool{}
		for _, fl := range cur.Flows {
			for _, k := range fl.Keys() {
				seen[k] = true
			}
		}
		var added []uint32
		for len(ch.Flows) < 40 {
			fl := g.flow()
			if step%3 == 1 && len(ch.Flows)%4 == 0 {
				fl.Idle = 5 // expired at the next step
			}
			ok := true
			for _, k := range fl.Keys() {
				ok = ok && !seen[k]
			}
			if ok {
				for _, k := range fl.Keys() {
					seen[k] = true
				}
				ch.Flows = append(ch.Flows, fl)
				added = append(added, fl.ID)
			}
		}
		ch.Now = now
		if err := rg.c.Update(ch); err != nil {
			t.Fatalf("step %d: classifier: %v", step, err)
		}
		now += 10
		removed := rg.c.ExpireIDs(now, append([]uint32(nil), ch.Remove...))
		before := len(rg.m.free)
		if err := rg.m.RemoveFlows(removed); err != nil {
			t.Fatalf("step %d: RemoveFlows: %v", step, err)
		}
		rs, es := rg.c.FlowRows(added, nil, nil)
		if err := rg.m.AddFlows(rs, es); err != nil {
			t.Fatalf("step %d: AddFlows: %v", step, err)
		}
		if len(rg.m.free) > before {
			graces++
		}
		snap := rg.c.Snapshot()
		if len(rg.m.flowIdx) != len(snap.Flows) {
			t.Fatalf("step %d: kernel holds %d flow keys, the classifier %d", step, len(rg.m.flowIdx), len(snap.Flows))
		}
		for _, e := range snap.Flows {
			if idx, ok := rg.m.flowIdx[e.Key]; !ok || idx != rg.m.ids[e.ID] {
				t.Fatalf("step %d: flow %d's key at slot %d (present %v), its rule at %d", step, e.ID, idx, ok, rg.m.ids[e.ID])
			}
		}
		if len(rg.m.ids) != len(snap.Rules) {
			t.Fatalf("step %d: kernel holds %d rules and flows, the classifier %d", step, len(rg.m.ids), len(snap.Rules))
		}
		list := rg.c.List()
		var tl tally
		for range 1500 {
			rg.compare(t, &tl, g.frame(g.packet(&list)))
		}
		for _, b := range tl.firstBad {
			t.Errorf("step %d: %s", step, b)
		}
		if tl.agree+tl.unclassified != tl.packets {
			t.Errorf("step %d: %v", step, &tl)
		}
		rg.counters(t)
		if t.Failed() {
			break
		}
		t.Logf("step %d: %d flows (%d removed, %d expired, %d added), %d free slots, %d pending: %v", step, len(list.Flows),
			len(ch.Remove), len(removed)-len(ch.Remove), len(added), len(rg.m.free), len(rg.m.pending), &tl)
	}
	if graces == 0 {
		t.Error("no step freed slots through a grace period: the test does not reach the reuse of slots")
	}
}

// TestAddFlowsTooBig: flows beyond the kernel's flow keys are refused whole
// with ErrTooBig, and a wildcard rule is refused.
func TestAddFlowsTooBig(t *testing.T) {
	needKernel(t)
	g := newGen(8, 4)
	rg := newRig(t, g.file(10, 0), Options{FlowKeys: 8})
	var ch rules.Change
	var ids []uint32
	for range 10 {
		fl := g.flow()
		fl.Both = true
		ch.Flows = append(ch.Flows, fl)
		ids = append(ids, fl.ID)
	}
	if err := rg.c.Update(ch); err != nil {
		t.Fatal(err)
	}
	rs, es := rg.c.FlowRows(ids, nil, nil)
	if err := rg.m.AddFlows(rs, es); !errors.Is(err, ErrTooBig) {
		t.Fatalf("20 keys into 8: %v, want ErrTooBig", err)
	}
	if len(rg.m.flowIdx) != 0 || len(rg.m.ids) != 10 {
		t.Fatalf("a refused AddFlows left %d flow keys, %d rules", len(rg.m.flowIdx), len(rg.m.ids))
	}
	if err := rg.m.AddFlows(rs[:4], es[:8]); err != nil {
		t.Fatalf("8 keys into 8: %v", err)
	}
	snap := rg.c.Snapshot()
	if err := rg.m.AddFlows(snap.Rules[:1], nil); err == nil || snap.Rules[0].Flow {
		t.Fatalf("a wildcard rule through AddFlows: %v", err)
	}
}
