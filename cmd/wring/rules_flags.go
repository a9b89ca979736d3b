package main

import (
	"encoding/binary"
	"fmt"
	"io"
	"time"

	"github.com/wringcap/wring/capture"
	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/capture/rulemaps"
	"github.com/wringcap/wring/filters/rules"
	"github.com/wringcap/wring/spec"
)

// rulesFlags apply a rule file in the read and capture pipelines (spec/RULES.md,
// "Rules and the expression"): exact flows, then wildcard rules, then the
// expression decides what capture keeps.
type rulesFlags struct {
	Rules     string `name:"rules" placeholder:"FILE" help:"Apply the rules of FILE (text or JSON, see wring rules check) before the filter expression: drop, pass, capture, sample, bypass after N, tag."`
	FlowSlots int    `name:"rules-flow-slots" default:"65536" placeholder:"N" help:"Flows the bypass-after-N table tracks; when full, the least recently seen flow of a bucket is evicted (counted)."`

	cl     *rules.Classifier
	dec    *rules.Decider
	kernel *rulemaps.Maps // the rules in the kernel (capture, passive path), else nil
	// kernelNote says why the rules could not go into the kernel, printed
	// once the capture has opened (kernelRules).
	kernelNote string
	// analyzerFlows: analyzers granted the rules capability add flows to
	// the classifier (and so to the kernel's tables when the rules run
	// there); analyzers is how many are granted it.
	analyzerFlows bool
	analyzers     int
}

// load reads the rule file, if any.
func (f *rulesFlags) load(s *streams) error {
	if f.Rules == "" {
		return nil
	}
	file, cl, err := loadRules(f.Rules, s.In)
	if err != nil {
		return err
	}
	for _, r := range file.Rules {
		if r.Action.Verb == rules.VerbForward {
			return exitf(2, "rules: %s: rule %d: forward %s: wring has no named sinks yet", f.Rules, r.ID, r.Action.Sink)
		}
	}
	for _, fl := range file.Flows {
		if fl.Action.Verb == rules.VerbForward {
			return exitf(2, "rules: %s: flow %d: forward %s: wring has no named sinks yet", f.Rules, fl.ID, fl.Action.Sink)
		}
	}
	dec, err := rules.NewDecider(cl, f.FlowSlots)
	if err != nil {
		return exitf(2, "--rules-flow-slots: %v", err)
	}
	f.cl, f.dec = cl, dec
	return nil
}

// active reports whether a rule file was loaded.
func (f *rulesFlags) active() bool { return f.dec != nil }

// wrap puts the rules in front of the filter: the pipeline then parses
// each packet before the filter (FilterMeta) so the rules see its record.
func (f *rulesFlags) wrap(inner capture.Filter, meta bool) (capture.Filter, bool) {
	if f.dec == nil || f.kernel != nil {
		return inner, meta
	}
	return &rulesFilter{dec: f.dec, inner: inner, innerMeta: meta}, true
}

// handler returns the stage that carries tags to the later stages, if a
// rule tags.
func (f *rulesFlags) handler() []capture.Handler {
	if f.cl == nil {
		return nil
	}
	l := f.cl.List()
	tags := false
	for _, r := range l.Rules {
		tags = tags || r.Action.Verb == rules.VerbTag
	}
	for _, fl := range l.Flows {
		tags = tags || fl.Action.Verb == rules.VerbTag
	}
	if !tags {
		return nil
	}
	return []capture.Handler{capture.HandlerFunc(f.tag)}
}

// tag sets a match verdict with the rule's tag on each tagged packet.
func (f *rulesFlags) tag(b *packet.Batch) error {
	for i := range b.Packets {
		rec := (*[spec.RecordSize]byte)(&b.Packets[i].Record)
		k := rules.KeyFromRecord(rec)
		h := f.cl.Lookup(&k, int64(binary.LittleEndian.Uint64(rec[spec.RecTimestamp:])))
		if h.Matched && h.Action.Verb == rules.VerbTag {
			b.Verdicts[i] = packet.Verdict{Action: packet.ActionMatch, Tag: h.Action.Tag}
		}
	}
	return nil
}

// rulesFilter runs the rules, then the expression on what they capture.
// The pipeline gives each worker its own (ForWorker): a decider's bypass
// table and batch scratch have one owner.
type rulesFilter struct {
	dec       *rules.Decider
	inner     capture.Filter // nil: keep every captured packet
	innerMeta bool
	// RunMetaBatch's scratch.
	recs [256]*[spec.RecordSize]byte
	decs [256]rules.Decision
}

// ForWorker returns a filter over a fork of the decider: the same rules and
// counters, the worker's own bypass table.
func (r *rulesFilter) ForWorker() (capture.Filter, error) {
	d, err := r.dec.Fork()
	if err != nil {
		return nil, err
	}
	return &rulesFilter{dec: d, inner: r.inner, innerMeta: r.innerMeta}, nil
}

// Run is never called: the pipeline calls RunMeta (FilterMeta is set).
func (r *rulesFilter) Run(pkt []byte, wirelen uint32) uint32 { return 0 }

// RunMeta decides the packet by the rules, then by the expression.
func (r *rulesFilter) RunMeta(pkt []byte, wirelen uint32, meta *spec.Meta) uint32 {
	if meta.Record == nil {
		return 0
	}
	return r.then(r.dec.DecideRecord(meta.Record), pkt, wirelen, meta)
}

// RunMetaBatch decides a parsed batch by the rules in one batch lookup
// (rules.Decider.DecideRecords), then each captured packet by the
// expression.
func (r *rulesFilter) RunMetaBatch(pk []packet.Packet, meta func(i int) *spec.Meta, ret []uint32) {
	for base := 0; len(pk) > 0; base += len(r.recs) {
		n := min(len(pk), len(r.recs))
		for i := range n {
			r.recs[i] = (*[spec.RecordSize]byte)(&pk[i].Record)
		}
		r.dec.DecideRecords(r.recs[:n], r.decs[:n])
		for i := range n {
			ret[i] = 0
			d := r.decs[i]
			if d.Outcome != rules.OutcomeCapture {
				continue
			}
			if r.innerMeta {
				ret[i] = r.then(d, pk[i].Data, pk[i].Info.WireLen, meta(base+i))
			} else {
				ret[i] = r.then(d, pk[i].Data, pk[i].Info.WireLen, nil)
			}
		}
		pk, ret = pk[n:], ret[n:]
	}
}

// then is the filter's result for a packet the rules decided d.
func (r *rulesFilter) then(d rules.Decision, pkt []byte, wirelen uint32, meta *spec.Meta) uint32 {
	switch {
	case d.Outcome != rules.OutcomeCapture:
		return 0
	case d.Hit.Matched && d.Hit.Action.Verb == rules.VerbKeep:
		return ^uint32(0) // kept without the expression (spec/RULES.md, "keep")
	case r.inner == nil:
		return ^uint32(0)
	case r.innerMeta:
		return r.inner.(capture.MetaFilter).RunMeta(pkt, wirelen, meta)
	}
	return r.inner.Run(pkt, wirelen)
}

// rulesJSON is the "rules" member of --json's stats object.
type rulesJSON struct {
	Captured    uint64          `json:"captured"`
	Dropped     uint64          `json:"dropped"`
	Passed      uint64          `json:"passed"`
	SampledOut  uint64          `json:"sampled_out"`
	Bypassed    uint64          `json:"bypassed"`
	NoMatch     uint64          `json:"no_match"`
	FlowEvicted uint64          `json:"flow_evicted"`
	Rules       []ruleCountJSON `json:"rules"`
}

type ruleCountJSON struct {
	ID      uint32 `json:"id"`
	Packets uint64 `json:"packets"`
	Bytes   uint64 `json:"bytes"`
	LastHit int64  `json:"last_hit"` // ns since the epoch, 0 never
}

// json returns the rule counters for --json, nil without --rules.
func (f *rulesFlags) json() *rulesJSON {
	if f.dec == nil {
		return nil
	}
	if f.kernel != nil {
		return f.kernelJSON()
	}
	st := f.dec.Stats()
	out := &rulesJSON{Captured: st.Outcomes[rules.OutcomeCapture], Dropped: st.Outcomes[rules.OutcomeDrop], Passed: st.Outcomes[rules.OutcomePass],
		SampledOut: st.Outcomes[rules.OutcomeSampledOut], Bypassed: st.Outcomes[rules.OutcomeBypassed], NoMatch: st.NoMatch, FlowEvicted: st.FlowEvicted,
		Rules: []ruleCountJSON{}}
	for _, c := range f.cl.AllCounters() {
		out.Rules = append(out.Rules, ruleCountJSON{ID: c.ID, Packets: c.Packets, Bytes: c.Bytes, LastHit: c.LastHit})
	}
	return out
}

// summary prints the rule counters after the capture summary.
func (f *rulesFlags) summary(w io.Writer) {
	j := f.json()
	if j == nil {
		return
	}
	fmt.Fprintf(w, "wring: rules: %d captured (%d matched no rule), %d dropped, %d passed, %d sampled out, %d bypassed; %d bypass flows evicted\n",
		j.Captured, j.NoMatch, j.Dropped, j.Passed, j.SampledOut, j.Bypassed, j.FlowEvicted)
	for _, r := range j.Rules {
		last := "never"
		if r.LastHit != 0 {
			last = time.Unix(0, r.LastHit).UTC().Format(time.RFC3339Nano)
		}
		fmt.Fprintf(w, "wring: rule %d: %d packet%s, %d byte%s, last hit %s\n", r.ID, r.Packets, plural(r.Packets), r.Bytes, plural(r.Bytes), last)
	}
}
