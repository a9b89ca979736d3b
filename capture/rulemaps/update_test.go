//go:build linux

package rulemaps

import (
	"testing"

	"github.com/wringcap/wring/filters/rules"
)

// TestUpdate changes a loaded rule set at run time, without reloading the
// program: each step adds rules and flows and removes some, and the kernel
// must then agree with the classifier again, counters included (a rule
// untouched by a change keeps its counts).
func TestUpdate(t *testing.T) {
	needKernel(t)
	g := newGen(42, 10)
	f := g.file(200, 100)
	rg := newRig(t, f, Options{})
	live := append([]rules.Rule(nil), f.Rules...)
	flows := append([]rules.Flow(nil), f.Flows...)
	for step := range 8 {
		var ch rules.Change
		// Remove a quarter of the rules and flows, add new ones.
		for i := 0; i < len(live); i += 4 {
			ch.Remove = append(ch.Remove, live[i].ID)
		}
		for i := 1; i < len(flows); i += 4 {
			ch.Remove = append(ch.Remove, flows[i].ID)
		}
		nf := g.file(60, 0)
		ch.Rules = nf.Rules
		seen := map[rules.Key]bool{}
		for _, fl := range flows {
			for _, k := range fl.Keys() {
				seen[k] = true
			}
		}
		for len(ch.Flows) < 40 {
			fl := g.flow()
			ok := true
			for _, k := range fl.Keys() {
				ok = ok && !seen[k]
			}
			if ok {
				for _, k := range fl.Keys() {
					seen[k] = true
				}
				ch.Flows = append(ch.Flows, fl)
			}
		}
		if err := rg.m.Update(rg.c, ch); err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		cur := rg.c.List()
		live, flows = cur.Rules, cur.Flows
		var tl tally
		for range 1500 {
			rg.compare(t, &tl, g.frame(g.packet(&cur)))
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
		t.Logf("step %d: %d rules, %d flows, %d tuples: %v", step, len(live), len(flows), len(rg.m.tupls), &tl)
	}
}
