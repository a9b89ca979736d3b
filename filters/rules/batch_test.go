package rules

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/spec"
)

// refState is the linear reference with the state a sequence of Classify
// calls keeps: each rule's packet count (Seq) and each flow's last hit
// (idle timeouts).
type refState struct {
	f     *File
	count map[uint32]uint64
	last  map[uint32]int64
}

// classify is refClassify with idle flows skipped and the hit counted.
func (s *refState) classify(rec *packet.Record, now int64) Hit {
	v := viewOf(rec)
	for i := range s.f.Flows {
		fl := &s.f.Flows[i]
		if !refFlow(fl, v) {
			continue
		}
		if last := s.last[fl.ID]; fl.Idle != 0 && last != 0 && now-last > int64(fl.Idle) {
			break // idle too long: the rules decide
		}
		s.count[fl.ID]++
		s.last[fl.ID] = now
		return Hit{Matched: true, Flow: true, ID: fl.ID, Action: fl.Action, Seq: s.count[fl.ID]}
	}
	var best *Rule
	for i := range s.f.Rules {
		r := &s.f.Rules[i]
		if refMatch(&r.Match, v) && (best == nil || r.Priority < best.Priority || r.Priority == best.Priority && r.ID < best.ID) {
			best = r
		}
	}
	if best == nil {
		return Hit{}
	}
	s.count[best.ID]++
	return Hit{Matched: true, ID: best.ID, Action: best.Action, Seq: s.count[best.ID]}
}

// TestClassifyBatch is a differential test of the batch lookup against
// Classify (packet by packet, on a second classifier with the same rules)
// and against the linear reference with Seq and idle timeouts: random rule
// sets of 1 to 100,000 rules with exact flows (a third of them with an
// idle timeout), packets aimed at the rules and flows, at times that
// sometimes jump past the timeouts and sometimes go back, classified in
// chunks of 1 to 40 packets. Hits (rule, action, Seq) and the counters
// must agree exactly.
func TestClassifyBatch(t *testing.T) {
	cases := []struct {
		rules, flows, shapes, packets int
		idle                          time.Duration // overrides the flows' timeouts when set
	}{
		{1, 0, 1, 5000, 0},
		{10, 5, 4, 20000, 1000}, // few flows, short timeouts: repeats inside a batch
		{100, 50, 8, 20000, 0},
		{1000, 500, 16, 10000, 0},
		{10000, 2000, 24, 2000, 0},
		{100000, 10000, 24, 300, 0},
	}
	for ci, c := range cases {
		t.Run(fmt.Sprintf("rules=%d/flows=%d", c.rules, c.flows), func(t *testing.T) {
			g := newGen(uint64(ci+1)*104729, c.shapes)
			f := randomFile(g, c.rules, c.flows)
			idle := 0
			for i := range f.Flows {
				if c.idle != 0 && (f.Flows[i].Idle != 0 || i%2 == 0) {
					f.Flows[i].Idle = c.idle
				}
				if f.Flows[i].Idle != 0 {
					idle++
				}
			}
			one, batch := New(), New()
			if err := one.Load(f); err != nil {
				t.Fatal(err)
			}
			if err := batch.Load(f); err != nil {
				t.Fatal(err)
			}
			ref := &refState{f: f, count: map[uint32]uint64{}, last: map[uint32]int64{}}
			r := rand.New(rand.NewPCG(uint64(ci), 99))
			recs := make([]packet.Record, c.packets)
			ps := make([]Packet, c.packets)
			now := int64(1)
			step := int64(30e9) / 16
			if c.idle != 0 {
				step = int64(c.idle) * 3 / 4
			}
			for i := range recs {
				switch r.IntN(50) {
				case 0:
					now += 3 * step * 16 // past every timeout
				case 1:
					now -= step * 8 // back in time
				default:
					now += r.Int64N(step)
				}
				p := g.packet(f)
				if c.idle != 0 && r.IntN(4) != 0 {
					p = g.packet(&File{Flows: f.Flows}) // half of these at a flow
				}
				recs[i] = p.record(now, uint32(60+r.IntN(1400)))
				ps[i] = packetOf((*[spec.RecordSize]byte)(&recs[i]))
			}
			out := make([]Hit, len(ps))
			for i := 0; i < len(ps); {
				n := min(1+r.IntN(40), len(ps)-i)
				batch.ClassifyBatch(ps[i:i+n], out[i:i+n])
				i += n
			}
			disagree, matched, flowHits, expiredFlows := 0, 0, 0, 0
			for i := range ps {
				want := one.Classify(&ps[i].Key, ps[i].Now, ps[i].Bytes)
				refHit := ref.classify(&recs[i], ps[i].Now)
				if out[i] != want || out[i] != refHit {
					disagree++
					if disagree <= 5 {
						t.Errorf("packet %d at %d: batch %+v, Classify %+v, reference %+v", i, ps[i].Now, out[i], want, refHit)
					}
				}
				if out[i].Matched {
					matched++
				}
				if out[i].Flow {
					flowHits++
				}
				// A packet that the reference saw match an idle flow and
				// that went to the rules instead.
				v := viewOf(&recs[i])
				for j := range f.Flows {
					if refFlow(&f.Flows[j], v) && !out[i].Flow {
						expiredFlows++
					}
				}
			}
			oc, bc := one.AllCounters(), batch.AllCounters()
			for i := range oc {
				if oc[i] != bc[i] {
					disagree++
					if disagree <= 10 {
						t.Errorf("counters of %d: Classify %+v, batch %+v", oc[i].ID, oc[i], bc[i])
					}
				}
			}
			t.Logf("%d rules, %d flows (%d with a timeout): %d packets, %d matched, %d by flows, %d past a flow's timeout; %d disagreements",
				c.rules, c.flows, idle, len(ps), matched, flowHits, expiredFlows, disagree)
			if matched == 0 || (c.flows > 0 && flowHits == 0) {
				t.Errorf("the packets do not exercise the rules: %d matched, %d by flows", matched, flowHits)
			}
			if c.idle != 0 && expiredFlows == 0 {
				t.Error("no packet came after a flow's timeout")
			}
		})
	}
}

// TestClassifyBatchSeq: sixteen packets of one rule in one batch get Seq
// 1 to 16 in packet order, so sample N per packet picks exactly the 1st,
// (N+1)th, ... packet, the bytes add up and the last hit is recent.
func TestClassifyBatchSeq(t *testing.T) {
	c := New()
	if err := c.Load(mustParse(t, "rule 1 proto tcp -> sample 5 packet\n")); err != nil {
		t.Fatal(err)
	}
	d, err := NewDecider(c, 64)
	if err != nil {
		t.Fatal(err)
	}
	ps := make([]Packet, 3*BatchSize+5)
	for i := range ps {
		ps[i] = Packet{Key: tcpKey("10.0.0.1", "10.0.0.2", uint16(i), 80), Now: 100 + int64(i)*lastTick/4, Bytes: 10}
	}
	out := make([]Decision, len(ps))
	d.DecideBatch(ps, out)
	kept := 0
	for i, o := range out {
		if !o.Hit.Matched || o.Hit.ID != 1 || o.Hit.Seq != uint64(i+1) {
			t.Fatalf("packet %d: %+v, want rule 1 with Seq %d", i, o.Hit, i+1)
		}
		if want := i%5 == 0; (o.Outcome == OutcomeCapture) != want {
			t.Fatalf("packet %d: outcome %v, picked should be %v", i, o.Outcome, want)
		}
		if o.Outcome == OutcomeCapture {
			kept++
		}
	}
	if kept != (len(ps)+4)/5 {
		t.Errorf("kept %d of %d", kept, len(ps))
	}
	// A wildcard rule's last hit lags its latest hit by less than lastTick.
	got, _ := c.Counters(1)
	latest := ps[len(ps)-1].Now
	if got.Packets != uint64(len(ps)) || got.Bytes != 10*uint64(len(ps)) || got.LastHit > latest || got.LastHit <= latest-lastTick {
		t.Errorf("counters %+v, want %d packets, %d bytes, last hit in (%d, %d]", got, len(ps), 10*len(ps), latest-lastTick, latest)
	}
}

// TestDecideBatch: DecideBatch and DecideRecords give what Decide gives
// packet by packet (sampling per packet and per flow, bypass after N,
// drops, passes), and the same decider counters.
func TestDecideBatch(t *testing.T) {
	g := newGen(77, 8)
	f := randomFile(g, 300, 100)
	// Flows aimed at by many packets, so that bypass counts reach N.
	f.Rules = append(f.Rules, Rule{ID: 1 << 30, Priority: 1 << 20, Action: Action{Verb: VerbBypass, N: 3}})
	var cls [3]*Classifier
	var ds [3]*Decider
	for i := range cls {
		cls[i] = New()
		if err := cls[i].Load(f); err != nil {
			t.Fatal(err)
		}
		var err error
		if ds[i], err = NewDecider(cls[i], 1024); err != nil {
			t.Fatal(err)
		}
	}
	r := rand.New(rand.NewPCG(5, 6))
	recs := make([][spec.RecordSize]byte, 20000)
	ptrs := make([]*[spec.RecordSize]byte, len(recs))
	ps := make([]Packet, len(recs))
	for i := range recs {
		p := g.packet(f)
		if r.IntN(3) == 0 { // one of a few flows, over and over
			p = pktFields{ver: 4, proto: ProtoUDP, src: netip.AddrFrom4([4]byte{10, 77, 0, byte(r.IntN(8))}), dst: mustAddr("10.78.0.1"), sport: 7, dport: 9, l4: true, ether: 0x0800}
		}
		rec := p.record(int64(i)*1000, 100)
		recs[i] = rec
		ptrs[i] = &recs[i]
		ps[i] = packetOf(&recs[i])
	}
	batchOut := make([]Decision, len(ps))
	recOut := make([]Decision, len(ps))
	for i := 0; i < len(ps); {
		n := min(1+r.IntN(40), len(ps)-i)
		ds[1].DecideBatch(ps[i:i+n], batchOut[i:i+n])
		ds[2].DecideRecords(ptrs[i:i+n], recOut[i:i+n])
		i += n
	}
	disagree := 0
	for i := range ps {
		want := ds[0].DecideRecord(&recs[i])
		if batchOut[i] != want || recOut[i] != want {
			disagree++
			if disagree <= 5 {
				t.Errorf("packet %d: DecideBatch %+v, DecideRecords %+v, Decide %+v", i, batchOut[i], recOut[i], want)
			}
		}
	}
	s0, s1, s2 := ds[0].Stats(), ds[1].Stats(), ds[2].Stats()
	if s0 != s1 || s0 != s2 {
		t.Errorf("stats: Decide %+v, DecideBatch %+v, DecideRecords %+v", s0, s1, s2)
	}
	t.Logf("%d packets, outcomes %v, %d disagreements", len(ps), s0.Outcomes, disagree)
	for _, o := range []Outcome{OutcomeCapture, OutcomeDrop, OutcomePass, OutcomeSampledOut, OutcomeBypassed} {
		if s0.Outcomes[o] == 0 {
			t.Errorf("no packet %s: the test does not exercise every outcome", o)
		}
	}
}

// TestClassifyBatchAllocs: the batch forms allocate nothing.
func TestClassifyBatchAllocs(t *testing.T) {
	g := newGen(3, 16)
	f := randomFile(g, 5000, 2000)
	c := New()
	if err := c.Load(f); err != nil {
		t.Fatal(err)
	}
	d, err := NewDecider(c, 1024)
	if err != nil {
		t.Fatal(err)
	}
	recs := make([][spec.RecordSize]byte, 256)
	ptrs := make([]*[spec.RecordSize]byte, len(recs))
	ps := make([]Packet, len(recs))
	for i := range recs {
		p := g.packet(f)
		recs[i] = p.record(int64(i), 100)
		ptrs[i] = &recs[i]
		ps[i] = packetOf(&recs[i])
	}
	hits := make([]Hit, 24)
	dec := make([]Decision, 24)
	i := 0
	for _, tc := range []struct {
		name string
		fn   func()
	}{
		{"ClassifyBatch", func() { c.ClassifyBatch(ps[i%200:i%200+24], hits) }},
		{"DecideBatch", func() { d.DecideBatch(ps[i%200:i%200+24], dec) }},
		{"DecideRecords", func() { d.DecideRecords(ptrs[i%200:i%200+24], dec) }},
	} {
		allocs := testing.AllocsPerRun(500, func() { tc.fn(); i += 7 })
		if allocs != 0 {
			t.Errorf("%s: %v allocations per batch", tc.name, allocs)
		}
	}
	matched := 0
	for _, h := range hits {
		if h.Matched {
			matched++
		}
	}
	if matched == 0 {
		t.Fatal("no packet of the last batch matched")
	}
}

// fuzzBatchRules cover several tuples with overlapping priorities, a range,
// either-direction rules and flows with short idle timeouts.
const fuzzBatchRules = `
rule 1 priority 5 proto tcp dst 10.0.0.0/30 dport 80 -> sample 3 packet
rule 2 priority 5 proto tcp src 10.0.0.0/29 -> tag 2
rule 3 priority 1 proto udp dport 10-20 either -> bypass after 2
rule 4 priority 9 -> capture
rule 5 priority 2 proto tcp sport 7 -> drop
flow 6 proto tcp src 10.0.0.1 sport 7 dst 10.0.0.2 dport 80 both idle 3ns -> pass
flow 7 proto udp src 10.0.0.3 sport 10 dst 10.0.0.4 dport 20 idle 5ns -> capture
flow 8 proto udp src 10.0.0.5 sport 11 dst 10.0.0.6 dport 12 -> tag 8
`

// FuzzClassifyBatch: packets and chunk boundaries from the input,
// classified by ClassifyBatch on one classifier and by Classify, packet by
// packet, on another with the same rules: the hits (rule, action, Seq) and
// the counters must be the same. Each packet takes four bytes: addresses,
// ports and protocol from the first two, the time step (which may go back)
// from the third, and from the fourth whether a chunk ends after it.
func FuzzClassifyBatch(f *testing.F) {
	f.Add([]byte{0x12, 0x07, 1, 0, 0x34, 0x05, 2, 0, 0x12, 0x87, 0xff, 1})
	seed := make([]byte, 0, 4*200)
	for i := range 200 {
		seed = append(seed, byte(i*37), byte(i*11), byte(i%9), byte(i%5))
	}
	f.Add(seed)
	fl := mustParse(f, fuzzBatchRules)
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 4*512 {
			data = data[:4*512]
		}
		one, batch := New(), New()
		if err := one.Load(fl); err != nil {
			t.Fatal(err)
		}
		if err := batch.Load(fl); err != nil {
			t.Fatal(err)
		}
		var ps []Packet
		var ends []int
		now := int64(1)
		for i := 0; i+4 <= len(data); i += 4 {
			a, b := data[i], data[i+1]
			p := pktFields{ver: 4, ether: 0x0800, l4: true, proto: []uint8{ProtoTCP, ProtoUDP}[b>>7],
				src: netip.AddrFrom4([4]byte{10, 0, 0, a & 7}), dst: netip.AddrFrom4([4]byte{10, 0, 0, a >> 3 & 7}),
				sport: []uint16{7, 10, 11, 20}[a>>6], dport: []uint16{80, 20, 12, 15}[b&3]}
			now += int64(int8(data[i+2]))
			rec := p.record(now, uint32(b))
			ps = append(ps, packetOf((*[spec.RecordSize]byte)(&rec)))
			if data[i+3]&1 == 1 {
				ends = append(ends, len(ps))
			}
		}
		ends = append(ends, len(ps))
		out := make([]Hit, len(ps))
		start := 0
		for _, e := range ends {
			batch.ClassifyBatch(ps[start:e], out[start:e])
			start = e
		}
		for i := range ps {
			if want := one.Classify(&ps[i].Key, ps[i].Now, ps[i].Bytes); out[i] != want {
				t.Fatalf("packet %d of %d at %d: batch %+v, Classify %+v", i, len(ps), ps[i].Now, out[i], want)
			}
		}
		oc, bc := one.AllCounters(), batch.AllCounters()
		for i := range oc {
			if oc[i] != bc[i] {
				t.Fatalf("counters: Classify %+v, batch %+v", oc[i], bc[i])
			}
		}
	})
}

// TestClassifyBatchGenerationSwitch is TestGenerationSwitch for the batch
// lookup: while the one rule of the set is replaced by a rule with a
// higher id in another tuple, over and over, every packet of a chunk of
// BatchSize is decided by the same rule (a chunk sees one generation), and
// the ids never go back.
func TestClassifyBatchGenerationSwitch(t *testing.T) {
	c := New()
	rule := func(id uint32) Rule {
		m := Match{Fields: FieldProto, Proto: ProtoTCP}
		if id%2 == 0 {
			m = Match{Fields: FieldProto | FieldDstPort, Proto: ProtoTCP, DstPort: PortRange{0, 1023}}
		}
		return Rule{ID: id, Match: m, Action: Action{Verb: VerbTag, Tag: id}}
	}
	if err := c.Add(rule(1)); err != nil {
		t.Fatal(err)
	}
	ps := make([]Packet, BatchSize)
	for i := range ps {
		ps[i] = Packet{Key: tcpKey("10.0.0.1", "10.0.0.2", uint16(i), 80), Now: 1, Bytes: 60}
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	var bad, batches atomic.Uint64
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out := make([]Hit, BatchSize)
			last := uint32(0)
			for !stop.Load() {
				c.ClassifyBatch(ps, out)
				batches.Add(1)
				for _, h := range out {
					if !h.Matched || h.ID != out[0].ID || h.ID < last || h.Action.Tag != h.ID {
						bad.Add(1)
					}
				}
				last = out[0].ID
			}
		}()
	}
	const changes = 2000
	for id := uint32(2); id <= changes; id++ {
		if err := c.Update(Change{Remove: []uint32{id - 1}, Rules: []Rule{rule(id)}}); err != nil {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	t.Logf("%d changes, %d batches while changing", changes, batches.Load())
	if batches.Load() == 0 {
		t.Fatal("no batch ran")
	}
	if bad.Load() != 0 {
		t.Fatalf("%d packets saw a mixed, half-applied or older set", bad.Load())
	}
}
