package main

import (
	"fmt"
	"io"

	"github.com/wringcap/wring/capture/live"
	"github.com/wringcap/wring/capture/rulemaps"
	"github.com/wringcap/wring/filters/rules"
	"github.com/wringcap/wring/wasm"
)

// kernelRules loads the rules into BPF maps for the passive and AF_XDP
// paths (spec/RULES.md, "Kernel path") when the capture mode may use them and the
// rules fit; otherwise it says on w why the rules run in userspace. It
// reports whether the kernel maps are ready.
func (f *rulesFlags) kernelRules(mode live.Mode, w io.Writer) bool {
	if f.cl == nil || (mode != live.ModeAuto && mode != live.ModePassive && mode != live.ModeXDP) {
		if f.cl != nil {
			fmt.Fprintf(w, "wring: rules run in userspace: only the passive and AF_XDP paths classify in the kernel\n")
		}
		return false
	}
	t := f.cl.Snapshot()
	// Room for the rule set as loaded; run-time additions (a later control
	// socket) get as much again.
	bypass := 1024 // without a bypass rule, room for rules added later
	for _, r := range t.Rules {
		if r.Action.Verb == rules.VerbBypass {
			bypass = f.FlowSlots
		}
	}
	// Analyzers granted the rules capability add exact flows at run time,
	// each up to its quota of flows alive.
	flowKeys := max(2*len(t.Flows), rulemaps.DefaultSlots)
	if f.analyzerFlows {
		flowKeys += f.analyzers * wasm.DefaultFlowsAlive
	}
	m, err := rulemaps.New(rulemaps.Options{RuleSlots: max(2*len(t.Rules), rulemaps.DefaultSlots),
		FlowKeys: flowKeys, BypassFlows: bypass})
	if err == nil {
		if err = m.Sync(&t); err != nil {
			m.Close()
		}
	}
	if err != nil {
		// Without the capabilities the capture itself fails with its own
		// one-line error (live.Open); say why the rules left the kernel
		// only once the capture has opened.
		f.kernelNote = fmt.Sprintf("wring: rules run in userspace: %v\n", err)
		return false
	}
	f.kernel = m
	return true
}

// userspaceRules gives up the kernel maps (the capture could not use
// them; live.Open said why).
func (f *rulesFlags) userspaceRules(w io.Writer) {
	if f.kernel != nil {
		f.kernel.Close()
		f.kernel = nil
		fmt.Fprintf(w, "wring: rules run in userspace\n")
	}
}

// userspace reports whether the rules run in the pipeline.
func (f *rulesFlags) userspace() bool { return f.dec != nil && f.kernel == nil }

// kernelJSON returns the kernel's rule counters for --json and the
// summary.
func (f *rulesFlags) kernelJSON() *rulesJSON {
	st, err := f.kernel.Stats()
	cs, err2 := f.kernel.Counters()
	if err != nil || err2 != nil {
		return &rulesJSON{Rules: []ruleCountJSON{}}
	}
	out := &rulesJSON{Captured: st.Outcomes[rules.OutcomeCapture] + st.Unclassified, Dropped: st.Outcomes[rules.OutcomeDrop],
		Passed: st.Outcomes[rules.OutcomePass], SampledOut: st.Outcomes[rules.OutcomeSampledOut], Bypassed: st.Outcomes[rules.OutcomeBypassed],
		NoMatch: st.NoMatch + st.Unclassified, FlowEvicted: st.BypassFull, Rules: []ruleCountJSON{}}
	off := taiOffset()
	for _, c := range cs {
		if c.LastHit != 0 {
			c.LastHit -= off // TAI to wall time
		}
		out.Rules = append(out.Rules, ruleCountJSON{ID: c.ID, Packets: c.Packets, Bytes: c.Bytes, LastHit: c.LastHit})
	}
	return out
}
