package rules

import (
	"fmt"
	"testing"

	"github.com/wringcap/wring/spec"
)

func TestDecideSampleAndBypass(t *testing.T) {
	c := New()
	if err := c.Load(mustParse(t, `
rule 1 proto udp dport 1000 -> sample 10 packet
rule 2 proto udp dport 2000 -> sample 4 flow
rule 3 proto tcp -> bypass after 5
rule 4 proto udp dport 3000 -> drop
rule 5 proto udp dport 4000 -> pass
`)); err != nil {
		t.Fatal(err)
	}
	d, err := NewDecider(c, 4096)
	if err != nil {
		t.Fatal(err)
	}
	udp := func(src string, sport, dport uint16) [spec.RecordSize]byte {
		p := pktFields{ver: 4, proto: ProtoUDP, src: mustAddr(src), dst: mustAddr("10.9.9.9"), sport: sport, dport: dport, l4: true, ether: 0x0800}
		return p.record(1, 100)
	}
	// sample 10 packet: packets 1, 11, 21, ... of the rule: 10 of 95.
	kept := 0
	for i := range 95 {
		rec := udp("10.0.0.1", uint16(i), 1000)
		if d.DecideRecord(&rec).Outcome == OutcomeCapture {
			kept++
		}
	}
	if kept != 10 {
		t.Errorf("sample 10 packet kept %d of 95, want 10", kept)
	}
	// sample 4 flow: whole flows, those with hash*4 < 2^32.
	flowsKept, pktsKept := 0, 0
	for f := range 400 {
		keptHere := 0
		for range 3 {
			rec := udp(fmt.Sprintf("10.1.%d.%d", f/256, f%256), 5, 2000)
			if d.DecideRecord(&rec).Outcome == OutcomeCapture {
				keptHere++
			}
		}
		if keptHere != 0 && keptHere != 3 {
			t.Fatalf("flow %d: %d of its 3 packets sampled", f, keptHere)
		}
		if keptHere == 3 {
			flowsKept++
		}
		pktsKept += keptHere
	}
	if flowsKept < 70 || flowsKept > 130 {
		t.Errorf("sample 4 flow kept %d of 400 flows, want about 100", flowsKept)
	}
	// bypass after 5: exactly 5 packets per flow, either direction.
	byp := 0
	for f := range 50 {
		for i := range 12 {
			p := pktFields{ver: 4, proto: ProtoTCP, src: mustAddr(fmt.Sprintf("10.2.0.%d", f)), dst: mustAddr("10.3.0.1"), sport: 40000, dport: 443, l4: true, ether: 0x0800}
			if i%2 == 1 {
				p.src, p.dst, p.sport, p.dport = p.dst, p.src, p.dport, p.sport
			}
			rec := p.record(int64(i), 100)
			switch d.DecideRecord((*[spec.RecordSize]byte)(&rec)).Outcome {
			case OutcomeCapture:
			case OutcomeBypassed:
				byp++
			default:
				t.Fatal("bypass rule gave another outcome")
			}
		}
	}
	if byp != 50*7 {
		t.Errorf("bypassed %d, want %d", byp, 50*7)
	}
	for _, dport := range []uint16{3000, 4000, 9} {
		rec := udp("10.0.0.1", 1, dport)
		d.DecideRecord(&rec)
	}
	st := d.Stats()
	want := Stats{NoMatch: 1, FlowSlots: 4096}
	want.Outcomes[OutcomeCapture] = uint64(kept + pktsKept + 50*5 + 1)
	want.Outcomes[OutcomeSampledOut] = uint64(95 - kept + 1200 - pktsKept)
	want.Outcomes[OutcomeBypassed] = 50 * 7
	want.Outcomes[OutcomeDrop] = 1
	want.Outcomes[OutcomePass] = 1
	if st != want {
		t.Errorf("stats\n got %+v\nwant %+v", st, want)
	}
}

func TestFlowCountsEviction(t *testing.T) {
	ft, err := NewFlowCounts(8) // two buckets of four
	if err != nil {
		t.Fatal(err)
	}
	for f := range 100 {
		k := tcpKey(fmt.Sprintf("10.0.0.%d", f), "10.0.1.1", 1, 2)
		if n := ft.Count(&k, 1, int64(f)); n != 1 {
			t.Fatalf("new flow %d counted %d", f, n)
		}
	}
	if got := ft.Evicted(); got != 92 {
		t.Fatalf("evicted %d, want 92 (100 flows, 8 slots)", got)
	}
	// The most recent flow is still there.
	k := tcpKey("10.0.0.99", "10.0.1.1", 1, 2)
	if n := ft.Count(&k, 1, 200); n != 2 {
		t.Fatalf("recent flow counted %d", n)
	}
	if _, err := NewFlowCounts(MaxFlowSlots + 1); err == nil {
		t.Fatal("oversized table accepted")
	}
}

// TestDeciderFork: a fork shares the classifier and the outcome counters
// but has its own bypass table: a flow counted on one decider starts from
// zero on the other, and Stats of either sums both, evictions included.
func TestDeciderFork(t *testing.T) {
	c := New()
	if err := c.Load(mustParse(t, "rule 3 proto tcp -> bypass after 2\n")); err != nil {
		t.Fatal(err)
	}
	a, err := NewDecider(c, 4)
	if err != nil {
		t.Fatal(err)
	}
	b, err := a.Fork()
	if err != nil {
		t.Fatal(err)
	}
	rec := func(f int) [spec.RecordSize]byte {
		p := pktFields{ver: 4, proto: ProtoTCP, src: mustAddr(fmt.Sprintf("10.2.%d.%d", f/256, f%256)), dst: mustAddr("10.3.0.1"), sport: 40000, dport: 443, l4: true, ether: 0x0800}
		return p.record(1, 100)
	}
	r := rec(0)
	outcomes := func(d *Decider, n int) (capt, byp int) {
		for range n {
			switch d.DecideRecord(&r).Outcome {
			case OutcomeCapture:
				capt++
			case OutcomeBypassed:
				byp++
			}
		}
		return
	}
	if c1, b1 := outcomes(a, 5); c1 != 2 || b1 != 3 {
		t.Fatalf("first decider: %d captured, %d bypassed", c1, b1)
	}
	if c2, b2 := outcomes(b, 5); c2 != 2 || b2 != 3 {
		t.Fatalf("the fork shares the first decider's flow table: %d captured, %d bypassed", c2, b2)
	}
	// Fill the fork's 4 slots and more: its evictions count in both.
	for f := 1; f < 40; f++ {
		r = rec(f)
		b.DecideRecord(&r)
	}
	sa, sb := a.Stats(), b.Stats()
	if sa != sb || sa.Outcomes[OutcomeCapture] != 4+39 || sa.Outcomes[OutcomeBypassed] != 6 || sa.FlowEvicted == 0 || sa.FlowSlots != 4 {
		t.Fatalf("stats of the decider %+v and of its fork %+v", sa, sb)
	}
}
