package rules

import (
	"errors"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wringcap/wring/spec"
)

func mustParse(t testing.TB, src string) *File {
	t.Helper()
	f, err := ParseText([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func tcpKey(src, dst string, sport, dport uint16) Key {
	p := pktFields{ver: 4, proto: ProtoTCP, src: netip.MustParseAddr(src), dst: netip.MustParseAddr(dst), sport: sport, dport: dport, l4: true, ether: 0x0800}
	if p.src.Is6() {
		p.ver, p.ether = 6, 0x86dd
	}
	rec := p.record(0, 60)
	return KeyFromRecord((*[spec.RecordSize]byte)(&rec))
}

func TestClassifyPriorityAndFlows(t *testing.T) {
	c := New()
	if err := c.Load(mustParse(t, `
rule 1 priority 5 proto tcp dport 80 -> drop
rule 2 priority 5 proto tcp dst 10.0.0.0/8 -> tag 2
rule 3 priority 1 proto tcp src 192.168.0.0/16 dport 1000-2000 either -> pass
flow 9 proto tcp src 10.0.0.1 sport 1234 dst 10.0.0.2 dport 80 both -> capture
`)); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		k  Key
		id uint32
	}{
		{tcpKey("1.1.1.1", "10.0.0.3", 5, 80), 1},       // 1 and 2 tie on priority: lower id
		{tcpKey("1.1.1.1", "10.0.0.3", 5, 81), 2},       // only 2
		{tcpKey("192.168.1.1", "10.0.0.3", 5, 1500), 3}, // priority 1 wins
		{tcpKey("10.0.0.3", "192.168.1.1", 1500, 5), 3}, // either direction
		{tcpKey("10.0.0.1", "10.0.0.2", 1234, 80), 9},   // the flow before the rules
		{tcpKey("10.0.0.2", "10.0.0.1", 80, 1234), 9},   // both directions
		{tcpKey("10.0.0.2", "10.0.0.1", 80, 1235), 2},
		{tcpKey("2001:db8::1", "2001:db8::2", 80, 80), 1},
	}
	for i, cs := range cases {
		h := c.Classify(&cs.k, 1, 100)
		if !h.Matched || h.ID != cs.id {
			t.Errorf("case %d: hit %+v, want rule %d", i, h, cs.id)
		}
	}
	miss := tcpKey("2001:db8::1", "2001:db8::2", 80, 81)
	if h := c.Classify(&miss, 1, 100); h.Matched {
		t.Errorf("miss: %+v", h)
	}
	got, _ := c.Counters(1)
	if got.Packets != 2 || got.Bytes != 200 || got.LastHit != 1 {
		t.Errorf("rule 1 counters %+v", got)
	}
	if sz := c.Size(); sz.Rules != 3 || sz.Flows != 1 || sz.FlowKeys != 2 || sz.Tuples != 16 { // rule 3: 7 port masks, twice
		t.Errorf("size %+v", sz)
	}
	// Removing rule 1 leaves rule 2 for port 80; counters of the others
	// survive the change.
	if n := c.Remove(1); n != 1 {
		t.Fatalf("removed %d", n)
	}
	k := tcpKey("1.1.1.1", "10.0.0.3", 5, 80)
	if h := c.Classify(&k, 2, 1); h.ID != 2 {
		t.Errorf("after removal: %+v", h)
	}
	if got, _ := c.Counters(2); got.Packets != 3 { // two before the change, one after
		t.Errorf("rule 2 counters %+v after the change", got)
	}
	if _, ok := c.Counters(1); ok {
		t.Error("counters of a removed rule")
	}
}

func TestUpdateAtomic(t *testing.T) {
	c := New()
	if err := c.Load(mustParse(t, "rule 1 proto tcp -> drop\nflow 2 proto udp src 1.1.1.1 sport 1 dst 2.2.2.2 dport 2 -> pass")); err != nil {
		t.Fatal(err)
	}
	before := c.List()
	// The second flow is the first's reverse: the whole change is refused.
	err := c.Update(Change{
		Rules: []Rule{{ID: 3, Action: Action{Verb: VerbDrop}}},
		Flows: []Flow{{ID: 4, Proto: 17, Src: netip.MustParseAddrPort("2.2.2.2:2"), Dst: netip.MustParseAddrPort("1.1.1.1:1"), Both: true, Action: Action{Verb: VerbDrop}}},
	})
	if err == nil {
		t.Fatal("a clashing flow was accepted")
	}
	if after := c.List(); len(after.Rules) != len(before.Rules) || len(after.Flows) != len(before.Flows) {
		t.Fatalf("a refused change left %d rules %d flows", len(after.Rules), len(after.Flows))
	}
	if err := c.Update(Change{Rules: []Rule{{ID: 1, Action: Action{Verb: VerbPass}}}}); err == nil {
		t.Fatal("an id in use was accepted")
	}
	// Remove and add the same id in one change: a replacement.
	if err := c.Update(Change{Remove: []uint32{1}, Rules: []Rule{{ID: 1, Action: Action{Verb: VerbPass}}}}); err != nil {
		t.Fatal(err)
	}
	if l := c.List(); l.Rules[0].Action.Verb != VerbPass {
		t.Fatalf("replacement: %v", l.Rules[0].String())
	}
}

func TestTupleLimit(t *testing.T) {
	c := New()
	var ch Change
	// Every (src, dst) prefix length pair is its own tuple: 33*33 > 1024.
	id := uint32(1)
	for s := 0; s <= 32; s++ {
		for d := 0; d <= 32; d++ {
			ch.Rules = append(ch.Rules, Rule{ID: id, Match: Match{Fields: FieldSrc | FieldDst,
				Src: netip.PrefixFrom(netip.AddrFrom4([4]byte{}), s), Dst: netip.PrefixFrom(netip.AddrFrom4([4]byte{}), d)}, Action: Action{Verb: VerbDrop}})
			id++
		}
	}
	err := c.Update(ch)
	if !errors.Is(err, ErrLimit) {
		t.Fatalf("err %v, want ErrLimit", err)
	}
	if sz := c.Size(); sz.Rules != 0 || sz.Tuples != 0 {
		t.Fatalf("a refused change left %+v", sz)
	}
	ch.Rules = ch.Rules[:MaxTuples]
	if err := c.Update(ch); err != nil {
		t.Fatalf("exactly %d tuples: %v", MaxTuples, err)
	}
	if sz := c.Size(); sz.Tuples != MaxTuples {
		t.Fatalf("tuples %d", sz.Tuples)
	}
	// Removing one tuple's rule makes room for another.
	extra := Rule{ID: 99999, Match: Match{Fields: FieldSrc | FieldDst | FieldVLAN, VLAN: 1,
		Src: netip.MustParsePrefix("0.0.0.0/0"), Dst: netip.MustParsePrefix("0.0.0.0/0")}, Action: Action{Verb: VerbDrop}}
	if err := c.Add(extra); !errors.Is(err, ErrLimit) {
		t.Fatalf("tuple %d accepted: %v", MaxTuples+1, err)
	}
	if err := c.Update(Change{Remove: []uint32{1}, Rules: []Rule{extra}}); err != nil {
		t.Fatalf("replacing a tuple: %v", err)
	}
}

func TestFlowIdle(t *testing.T) {
	c := New()
	fl := Flow{ID: 1, Proto: ProtoTCP, Src: netip.MustParseAddrPort("10.0.0.1:1"), Dst: netip.MustParseAddrPort("10.0.0.2:2"), Idle: time.Second, Action: Action{Verb: VerbDrop}}
	if err := c.AddFlow(fl, 100); err != nil {
		t.Fatal(err)
	}
	if err := c.Add(Rule{ID: 2, Priority: 9, Action: Action{Verb: VerbCapture}}); err != nil {
		t.Fatal(err)
	}
	k := tcpKey("10.0.0.1", "10.0.0.2", 1, 2)
	if h := c.Classify(&k, 100+int64(time.Second), 1); h.ID != 1 {
		t.Fatalf("within the timeout: %+v", h)
	}
	// Idle for more than a second since the last hit: the rules decide.
	late := 100 + 2*int64(time.Second) + 1
	if h := c.Classify(&k, late, 1); h.ID != 2 {
		t.Fatalf("after the timeout: %+v", h)
	}
	if n := c.Expire(late); n != 1 {
		t.Fatalf("expired %d", n)
	}
	if sz := c.Size(); sz.Flows != 0 || sz.Expired != 1 {
		t.Fatalf("size %+v", sz)
	}
}

// TestClassifyAllocs: the per-packet path allocates nothing, with rules,
// flows and a decider's sampling and bypass.
func TestClassifyAllocs(t *testing.T) {
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
	for i := range recs {
		p := g.packet(f)
		recs[i] = p.record(int64(i), 100)
	}
	i := 0
	allocs := testing.AllocsPerRun(2000, func() {
		d.DecideRecord(&recs[i%len(recs)])
		i++
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per packet", allocs)
	}
	if st := d.Stats(); st.Outcomes[OutcomeCapture]+st.Outcomes[OutcomeDrop]+st.Outcomes[OutcomePass]+st.Outcomes[OutcomeSampledOut]+st.Outcomes[OutcomeBypassed] == 0 {
		t.Fatal("nothing decided")
	}
}

// TestGenerationSwitch changes the rule set while readers classify: a
// reader sees either the old set or the new one, never a mix. Each change
// replaces the one rule of the set (in one tuple) by a rule in another
// tuple, with a higher id: a half-applied change would show as a miss (the
// removal without the addition) or as an id going backwards.
func TestGenerationSwitch(t *testing.T) {
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
	k := tcpKey("10.0.0.1", "10.0.0.2", 5, 80)
	var stop atomic.Bool
	var wg sync.WaitGroup
	var bad atomic.Uint64
	var looks atomic.Uint64
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			last := uint32(0)
			for !stop.Load() {
				h := c.Classify(&k, 1, 60)
				looks.Add(1)
				if !h.Matched || h.ID < last || h.Action.Tag != h.ID {
					bad.Add(1)
				}
				last = h.ID
			}
		}()
	}
	const changes = 3000
	for id := uint32(2); id <= changes; id++ {
		if err := c.Update(Change{Remove: []uint32{id - 1}, Rules: []Rule{rule(id)}}); err != nil {
			t.Fatal(err)
		}
		if id%100 == 0 {
			if _, ok := c.Counters(id); !ok {
				t.Fatalf("rule %d missing", id)
			}
		}
	}
	stop.Store(true)
	wg.Wait()
	t.Logf("%d changes, %d lookups while changing", changes, looks.Load())
	if bad.Load() != 0 {
		t.Fatalf("%d lookups saw a half-applied or older set", bad.Load())
	}
	if sz := c.Size(); sz.Rules != 1 || sz.Tuples != 1 {
		t.Fatalf("size %+v", sz)
	}
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
