//go:build linux

package rulemaps

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/wringcap/wring/filters/rules"
)

// TestManyTuples loads the largest wildcard set the kernel tables take,
// MaxTuples mask combinations (the program does not depend on the rule set:
// the verifier has accepted its bounded loop over MaxTuples tuples once it
// loads), and checks it against the userspace classifier; one tuple more
// does not fit.
func TestManyTuples(t *testing.T) {
	needKernel(t)
	f := &rules.File{}
	id := uint32(1)
	for a := 17; a <= 32; a++ {
		for b := 17; b <= 32; b++ {
			f.Rules = append(f.Rules, rules.Rule{ID: id, Priority: uint32(64 - a - b),
				Match:  rules.Match{Fields: rules.FieldSrc | rules.FieldDst, Src: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 1}), a).Masked(), Dst: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 0}), b).Masked()},
				Action: rules.Action{Verb: []rules.Verb{rules.VerbCapture, rules.VerbDrop, rules.VerbPass}[id%3]}})
			id++
		}
	}
	rg := newRig(t, f, Options{})
	if n := rg.c.Size().Tuples; n != MaxTuples {
		t.Fatalf("%d tuples, want %d", n, MaxTuples)
	}
	info, err := rg.prog.Info()
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := info.VerifiedInstructions(); ok {
		t.Logf("the verifier processed %d instructions (limit 1,000,000)", n)
	}
	g := newGen(3, 1)
	var tl tally
	for range 3000 {
		p := pkt{ver: 4, ether: 0x0800, proto: rules.ProtoUDP, sport: 1, dport: 2,
			src: netip.AddrFrom4([4]byte{10, byte(g.r.IntN(2)), byte(g.r.IntN(2)), byte(g.r.IntN(256))}),
			dst: netip.AddrFrom4([4]byte{10, 0, byte(g.r.IntN(2)), byte(g.r.IntN(256))})}
		rg.compare(t, &tl, g.frame(p))
	}
	t.Logf("%v", &tl)
	for _, b := range tl.firstBad {
		t.Error(b)
	}
	if tl.agree+tl.unclassified != tl.packets || tl.matched == 0 {
		t.Errorf("%v", &tl)
	}
	// One more mask combination does not fit.
	big := rules.Tables{Tuples: make([]rules.Tuple, MaxTuples+1)}
	if err := rg.m.Fits(&big); err == nil {
		t.Errorf("%d tuples fit", MaxTuples+1)
	}
}

// TestOptions checks the bounds on table sizes.
func TestOptions(t *testing.T) {
	for _, o := range []Options{{RuleSlots: -1}, {RuleSlots: MaxRuleSlots + 1}, {FlowKeys: MaxFlowKeys + 1}, {BypassFlows: rules.MaxFlowSlots + 1}} {
		if m, err := New(o); err == nil {
			m.Close()
			t.Errorf("%+v accepted", o)
		} else {
			t.Log(err)
		}
	}
	_ = fmt.Sprint
}
