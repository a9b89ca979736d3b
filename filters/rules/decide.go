package rules

import (
	"encoding/binary"
	"sync"
	"sync/atomic"

	"github.com/wringcap/wring/spec"
)

// Outcome is what the rules do with one packet.
type Outcome uint8

// Outcomes. Only OutcomeCapture hands the packet on (to the expression and
// the userspace stages).
const (
	OutcomeCapture    Outcome = iota // no rule matched, or capture, tag, forward, a sampled packet, one of a flow's first N
	OutcomeDrop                      // a drop rule
	OutcomePass                      // a pass rule: left to the host, not captured
	OutcomeSampledOut                // a sample rule did not pick it
	OutcomeBypassed                  // a bypass rule's flow is past its first N packets
	numOutcomes
)

var outcomeNames = [numOutcomes]string{"captured", "dropped", "passed", "sampled_out", "bypassed"}

// String names the outcome as the counters do.
func (o Outcome) String() string {
	if o < numOutcomes {
		return outcomeNames[o]
	}
	return "outcome?"
}

// Decision is the rules' verdict on one packet.
type Decision struct {
	Outcome Outcome
	Hit     Hit
}

// Decider applies a classifier's actions to packets, with the state that
// sampling and bypass need. One worker owns a Decider; its counters may be
// read from any goroutine.
type Decider struct {
	c     *Classifier
	flows *FlowCounts
	*tally
	// The batch forms' scratch (a Decider has one owner).
	pkts [BatchSize]Packet
	hits [BatchSize]Hit
}

// NewDecider returns a decider over c with a flow table of flowSlots
// entries for bypass after N.
func NewDecider(c *Classifier, flowSlots int) (*Decider, error) {
	ft, err := NewFlowCounts(flowSlots)
	if err != nil {
		return nil, err
	}
	return &Decider{c: c, flows: ft, tally: &tally{tables: []*FlowCounts{ft}}}, nil
}

// tally is what the deciders of one rule set count together.
type tally struct {
	outcomes [numOutcomes]atomic.Uint64
	noMatch  atomic.Uint64
	mu       sync.Mutex
	tables   []*FlowCounts // every decider's bypass table, for Stats
}

// Fork returns a decider for another worker: the same classifier and
// counters (Stats of either counts both), its own bypass flow table of the
// same size and its own scratch, so that each worker owns its decider.
// Bypass counts are exact when each flow reaches one worker, as AF_PACKET
// fanout by flow hash and per-queue RSS deliver them.
func (d *Decider) Fork() (*Decider, error) {
	ft, err := NewFlowCounts(d.flows.Slots())
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	d.tables = append(d.tables, ft)
	d.mu.Unlock()
	return &Decider{c: d.c, flows: ft, tally: d.tally}, nil
}

// Sampled reports whether sample N picks the packet (spec/RULES.md,
// "Sampling"): per packet, the 1st, (N+1)th, (2N+1)th, ... packet the rule
// counts (seq is its count including this packet); per flow, the flows
// whose symmetric flow hash h has h*N < 2^32.
func Sampled(a Action, seq uint64, flowHash uint32) bool {
	if a.N <= 1 {
		return true
	}
	if a.PerFlow {
		return uint64(flowHash)*uint64(a.N) < 1<<32
	}
	return (seq-1)%uint64(a.N) == 0
}

// Decide classifies the packet, counts it on its rule and applies the
// action. now is the packet's time (ns), bytes its wire length, flowHash
// its symmetric flow hash (spec/RECORD.md). It allocates nothing.
func (d *Decider) Decide(k *Key, now int64, bytes uint32, flowHash uint32) Decision {
	return d.apply(k, now, flowHash, d.c.Classify(k, now, bytes))
}

// apply applies the action of h, the packet's hit, and counts the outcome.
func (d *Decider) apply(k *Key, now int64, flowHash uint32, h Hit) Decision {
	o := OutcomeCapture
	if !h.Matched {
		d.noMatch.Add(1)
	} else {
		switch h.Action.Verb {
		case VerbDrop:
			o = OutcomeDrop
		case VerbPass:
			o = OutcomePass
		case VerbSample:
			if !Sampled(h.Action, h.Seq, flowHash) {
				o = OutcomeSampledOut
			}
		case VerbBypass:
			if d.flows.Count(k, h.ID, now) > h.Action.N {
				o = OutcomeBypassed
			}
		}
	}
	d.outcomes[o].Add(1)
	return Decision{Outcome: o, Hit: h}
}

// DecideBatch decides ps[i] into out[i] for every i, with the results of
// len(ps) calls of Decide in order (ClassifyBatch's lookup, then each
// packet's action in packet order). out must be at least as long as ps.
// It allocates nothing.
func (d *Decider) DecideBatch(ps []Packet, out []Decision) {
	out = out[:len(ps)]
	for len(ps) > 0 {
		n := min(len(ps), BatchSize)
		d.c.ClassifyBatch(ps[:n], d.hits[:n])
		for i := range n {
			p := &ps[i]
			out[i] = d.apply(&p.Key, p.Now, p.FlowHash, d.hits[i])
		}
		ps, out = ps[n:], out[n:]
	}
}

// DecideRecords is DecideBatch for packets' parse records: out[i] is
// DecideRecord(recs[i]). out must be at least as long as recs.
func (d *Decider) DecideRecords(recs []*[spec.RecordSize]byte, out []Decision) {
	out = out[:len(recs)]
	for len(recs) > 0 {
		n := min(len(recs), BatchSize)
		for i, rec := range recs[:n] {
			d.pkts[i] = packetOf(rec)
		}
		d.DecideBatch(d.pkts[:n], out[:n])
		recs, out = recs[n:], out[n:]
	}
}

// packetOf reads a batch lookup's Packet from a parse record.
func packetOf(rec *[spec.RecordSize]byte) Packet {
	le := binary.LittleEndian
	return Packet{Key: KeyFromRecord(rec), Now: int64(le.Uint64(rec[spec.RecTimestamp:])),
		Bytes: le.Uint32(rec[spec.RecWireLen:]), FlowHash: le.Uint32(rec[spec.RecFlowHash:])}
}

// DecideRecord is Decide for a packet's parse record.
func (d *Decider) DecideRecord(rec *[spec.RecordSize]byte) Decision {
	k := KeyFromRecord(rec)
	le := binary.LittleEndian
	return d.Decide(&k, int64(le.Uint64(rec[spec.RecTimestamp:])), le.Uint32(rec[spec.RecWireLen:]), le.Uint32(rec[spec.RecFlowHash:]))
}

// Stats are a decider's counters.
type Stats struct {
	Outcomes    [numOutcomes]uint64 // by Outcome
	NoMatch     uint64              // packets no rule matched (counted as captured too)
	FlowEvicted uint64              // bypass flow table evictions
	FlowSlots   int
}

// Stats returns the counters of the decider and of every decider forked
// from it or from which it was forked (Fork).
func (d *Decider) Stats() Stats {
	var s Stats
	for i := range s.Outcomes {
		s.Outcomes[i] = d.outcomes[i].Load()
	}
	s.NoMatch = d.noMatch.Load()
	s.FlowSlots = d.flows.Slots()
	d.mu.Lock()
	for _, t := range d.tables {
		s.FlowEvicted += t.Evicted()
	}
	d.mu.Unlock()
	return s
}
