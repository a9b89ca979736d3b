//go:build linux

package rulemaps

import (
	"testing"

	"github.com/wringcap/wring/filters/rules"
)

// TestSamplePerPacket checks sample N packet's definition in the kernel:
// the 1st, (N+1)th, (2N+1)th packet the rule decides.
func TestSamplePerPacket(t *testing.T) {
	needKernel(t)
	f := &rules.File{Rules: []rules.Rule{{ID: 5, Priority: 1, Action: rules.Action{Verb: rules.VerbSample, N: 3}}}}
	rg := newRig(t, f, Options{})
	fr := make([]byte, 60)
	fr[12] = 0x08
	fr[13] = 0x06
	var got []rules.Outcome
	for range 7 {
		got = append(got, rg.m.Decode(run(t, rg.prog, fr)).Outcome)
	}
	c, s := rules.OutcomeCapture, rules.OutcomeSampledOut
	want := []rules.Outcome{c, s, s, c, s, s, c}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("outcomes %v, want %v", got, want)
		}
	}
}

// TestSamplePerFlow runs a rule that samples half the flows against random
// frames: a kernel flow hash that differs from the record's would pick
// other flows about half the time.
func TestSamplePerFlow(t *testing.T) {
	needKernel(t)
	for _, n := range []uint32{2, 3, 7} {
		f := &rules.File{Rules: []rules.Rule{{ID: 9, Priority: 1, Action: rules.Action{Verb: rules.VerbSample, N: n, PerFlow: true}}}}
		rg := newRig(t, f, Options{})
		g := newGen(uint64(n), 1)
		var tl tally
		for range 3000 {
			rg.compare(t, &tl, g.frame(g.packet(&rules.File{})))
		}
		t.Logf("sample %d flow: %v", n, &tl)
		for _, b := range tl.firstBad {
			t.Error(b)
		}
		if tl.agree != tl.packets || tl.outcomes[rules.OutcomeSampledOut] == 0 || tl.outcomes[rules.OutcomeCapture] == 0 {
			t.Errorf("sample %d flow: %v", n, &tl)
		}
	}
}

// TestVLANTags checks the bound on walked VLAN tags: MaxVLANTags tags are
// classified as userspace does, one more leaves the frame unclassified.
func TestVLANTags(t *testing.T) {
	needKernel(t)
	f := &rules.File{Rules: []rules.Rule{{ID: 3, Priority: 1, Match: rules.Match{Fields: rules.FieldVLAN, VLAN: 7}, Action: rules.Action{Verb: rules.VerbDrop}}}}
	rg := newRig(t, f, Options{})
	for _, n := range []int{1, 2, MaxVLANTags, MaxVLANTags + 1, 40} {
		fr := []byte{2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2}
		for range n {
			fr = append(fr, 0x81, 0x00, 0x00, 0x07)
		}
		fr = append(fr, 0x08, 0x06)
		fr = append(fr, make([]byte, 28)...)
		var tl tally
		rg.compare(t, &tl, fr)
		switch {
		case n <= MaxVLANTags && (tl.agree != 1 || tl.outcomes[rules.OutcomeDrop] != 1):
			t.Errorf("%d tags: %v %v", n, &tl, tl.firstBad)
		case n > MaxVLANTags && tl.unclassified != 1:
			t.Errorf("%d tags: %v, want unclassified", n, &tl)
		}
	}
	s, err := rg.m.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if s.Unclassified != 2 {
		t.Errorf("unclassified count %d, want 2", s.Unclassified)
	}
}
