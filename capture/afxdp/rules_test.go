//go:build linux

package afxdp

import (
	"os"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/capture/rulemaps"
	"github.com/wringcap/wring/filters/rules"
	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/spec"
)

// TestProgramRules runs the XDP program with capture/rulemaps's block in
// front of it through BPF_PROG_TEST_RUN: a frame a rule drops returns
// XDP_DROP, one the rules leave uncaptured XDP_PASS without reaching the
// redirect, and one they capture is redirected (counted as matched), each
// as filters/rules' decider decides the same frames.
func TestProgramRules(t *testing.T) {
	if os.Geteuid() != 0 {
		corpus.Unavailable(t, "loading BPF programs needs root (CAP_BPF)")
	}
	f, err := rules.ParseText([]byte(`
rule 1 priority 1 proto udp sport 1 -> drop
rule 2 priority 1 proto udp sport 2 -> pass
rule 3 priority 1 proto udp sport 3 -> sample 3 packet
rule 4 priority 1 proto udp sport 4 -> bypass after 2
`))
	if err != nil {
		t.Fatal(err)
	}
	c := rules.New()
	if err := c.Load(f); err != nil {
		t.Fatal(err)
	}
	d, err := rules.NewDecider(c, rules.DefaultFlowSlots)
	if err != nil {
		t.Fatal(err)
	}
	m, err := rulemaps.New(rulemaps.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	tab := c.Snapshot()
	if err := m.Sync(&tab); err != nil {
		t.Fatal(err)
	}
	block, err := m.Instructions(rulemaps.BlockOptions{Ctx: CtxReg, StackTop: RulesStackTop, XDP: true,
		Done: RulesDoneLabel, Skip: RulesSkipLabel, Drop: RulesDropLabel})
	if err != nil {
		t.Fatal(err)
	}
	p, err := LoadProgram(ProgramSpec{Rules: block})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	counts := map[rules.Outcome]int{}
	for i := 0; i < 60; i++ {
		fr := udpFrame(uint16(i%5), uint32(i))
		before, err := p.Counters(0)
		if err != nil {
			t.Fatal(err)
		}
		ret, err := p.prog.Run(&ebpf.RunOptions{Data: fr})
		if err != nil {
			t.Fatal(err)
		}
		after, err := p.Counters(0)
		if err != nil {
			t.Fatal(err)
		}
		var rec packet.Record
		packet.Parse(packet.Info{CapLen: uint32(len(fr)), WireLen: uint32(len(fr)), LinkType: spec.LinkEthernet}, fr, &rec)
		o := d.DecideRecord((*[spec.RecordSize]byte)(&rec)).Outcome
		counts[o]++
		redirected := after.Matched == before.Matched+1
		switch {
		case o == rules.OutcomeDrop && (ret != 1 || redirected),
			o == rules.OutcomeCapture && (ret != 2 || !redirected),
			o != rules.OutcomeDrop && o != rules.OutcomeCapture && (ret != 2 || redirected):
			t.Errorf("frame %d (sport %d): userspace %v, XDP returned %d, redirected %v", i, i%5, o, ret, redirected)
		}
	}
	t.Logf("outcomes %v", counts)
	if len(counts) != 5 {
		t.Errorf("outcomes %v: want every one", counts)
	}
}
