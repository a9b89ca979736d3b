//go:build linux

package rulemaps

import (
	"encoding/binary"
	"fmt"
	"os"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/filters/rules"
	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/spec"
)

// Test-run frames: the kernel refuses frames shorter than an Ethernet
// header, and splits long ones the program would see as non-linear.
const (
	minFrame = 14
	maxFrame = 3500
)

// testTime is every packet's time: with one time for all, no idle flow
// ever expires in userspace, as none does in the kernel (which leaves
// expiry to rules.Classifier.Expire and a Sync).
const testTime = 1_700_000_000_000_000_000

// rig is a classifier with its decider and the kernel tables and program
// loaded from it.
type rig struct {
	c    *rules.Classifier
	d    *rules.Decider
	m    *Maps
	prog *ebpf.Program
	xdp  bool // prog is the XDP block
}

func newRig(tb testing.TB, f *rules.File, o Options) *rig { return newRigFor(tb, f, o, false) }

// newRigFor builds a rig whose program is the tc block, or with xdp the
// XDP block.
func newRigFor(tb testing.TB, f *rules.File, o Options, xdp bool) *rig {
	tb.Helper()
	c := rules.New()
	if err := c.Load(f); err != nil {
		tb.Fatalf("load rules: %v", err)
	}
	d, err := rules.NewDecider(c, 1<<20)
	if err != nil {
		tb.Fatal(err)
	}
	if o.RuleSlots == 0 {
		o.RuleSlots = max(DefaultSlots, 2*(len(f.Rules)+len(f.Flows)))
	}
	if o.FlowKeys == 0 {
		o.FlowKeys = max(DefaultSlots, 4*len(f.Flows))
	}
	m, err := New(o)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { m.Close() })
	t := c.Snapshot()
	if err := m.Sync(&t); err != nil {
		tb.Fatalf("sync: %v", err)
	}
	load := m.Program
	if xdp {
		load = m.ProgramXDP
	}
	p, err := load()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { p.Close() })
	return &rig{c: c, d: d, m: m, prog: p, xdp: xdp}
}

// tally counts a differential run.
type tally struct {
	packets, agree, unclassified int
	refused                      int // frames the test run does not take
	outcomes                     [5]int
	matched                      int
	firstBad                     []string
}

func (t *tally) String() string {
	return fmt.Sprintf("%d packets: %d agree, %d disagree, %d unclassified by the kernel (%d runts the test run refuses, not run); matched %d; outcomes captured %d dropped %d passed %d sampled_out %d bypassed %d",
		t.packets, t.agree, t.packets-t.agree-t.unclassified, t.unclassified, t.refused, t.matched,
		t.outcomes[0], t.outcomes[1], t.outcomes[2], t.outcomes[3], t.outcomes[4])
}

// testRunRefuses reports whether BPF_PROG_TEST_RUN refuses the frame: it
// wants a whole IPv4 header behind EtherType 0x0800 and a whole IPv6 one
// behind 0x86dd (the tc hook itself sees such runts; the test cannot).
func testRunRefuses(frame []byte) bool {
	switch binary.BigEndian.Uint16(frame[12:]) {
	case 0x0800:
		return len(frame) < 14+20
	case 0x86dd:
		return len(frame) < 14+40
	}
	return false
}

// compare runs one frame through both and records the verdicts.
func (rg *rig) compare(tb testing.TB, t *tally, frame []byte) {
	if !rg.xdp && testRunRefuses(frame) {
		t.refused++
		return
	}
	ret := run(tb, rg.prog, frame)
	k := rg.m.Decode(ret)
	t.packets++
	if k.Unclassified {
		t.unclassified++
		return
	}
	var rec packet.Record
	packet.Parse(packet.Info{Timestamp: testTime, CapLen: uint32(len(frame)), WireLen: uint32(len(frame)), LinkType: spec.LinkEthernet}, frame, &rec)
	u := rg.d.DecideRecord((*[spec.RecordSize]byte)(&rec))
	if k.Outcome == u.Outcome && k.Matched == u.Hit.Matched && k.ID == u.Hit.ID {
		t.agree++
		t.outcomes[u.Outcome]++
		if u.Hit.Matched {
			t.matched++
		}
		return
	}
	if len(t.firstBad) < 5 {
		key := rules.KeyFromRecord((*[spec.RecordSize]byte)(&rec))
		t.firstBad = append(t.firstBad, fmt.Sprintf("frame % x\n\tuserspace %v rule %d (matched %v, %+v seq %d), kernel %v rule %d (matched %v); key %016x",
			frame, u.Outcome, u.Hit.ID, u.Hit.Matched, u.Hit.Action, u.Hit.Seq, k.Outcome, k.ID, k.Matched, key))
	}
}

// counters checks that the kernel's per-rule counters equal the
// classifier's, rule by rule, and its outcome totals the decider's.
func (rg *rig) counters(tb testing.TB) {
	tb.Helper()
	kc, err := rg.m.Counters()
	if err != nil {
		tb.Fatal(err)
	}
	uc := rg.c.AllCounters()
	if len(kc) != len(uc) {
		tb.Fatalf("%d kernel counters, %d userspace ones", len(kc), len(uc))
	}
	bad := 0
	for i := range kc {
		if kc[i].ID != uc[i].ID || kc[i].Packets != uc[i].Packets || kc[i].Bytes != uc[i].Bytes {
			if bad++; bad <= 5 {
				tb.Errorf("rule %d: kernel %d packets %d bytes, userspace (rule %d) %d packets %d bytes",
					kc[i].ID, kc[i].Packets, kc[i].Bytes, uc[i].ID, uc[i].Packets, uc[i].Bytes)
			}
		}
	}
	ks, err := rg.m.Stats()
	if err != nil {
		tb.Fatal(err)
	}
	us := rg.d.Stats()
	for o := range ks.Outcomes {
		if ks.Outcomes[o] != us.Outcomes[o] {
			tb.Errorf("outcome %v: kernel %d, userspace %d", rules.Outcome(o), ks.Outcomes[o], us.Outcomes[o])
		}
	}
	if ks.NoMatch != us.NoMatch {
		tb.Errorf("no match: kernel %d, userspace %d", ks.NoMatch, us.NoMatch)
	}
	if ks.BypassFull != 0 || us.FlowEvicted != 0 {
		tb.Errorf("bypass tables overflowed (kernel %d refused, userspace %d evicted): the runs are not comparable", ks.BypassFull, us.FlowEvicted)
	}
}

// corpusFrames returns the Ethernet frames of the tcpdump corpus that a
// test run takes.
func corpusFrames(tb testing.TB, max int) [][]byte {
	var out [][]byte
	for _, path := range corpus.Files(tb, "tcpdump") {
		c, _ := corpus.ReadCapture(path)
		if c == nil || c.LinkType != spec.LinkEthernet {
			continue
		}
		for _, p := range c.Packets {
			if len(p.Data) >= minFrame && len(p.Data) <= maxFrame {
				out = append(out, p.Data)
				if len(out) == max {
					return out
				}
			}
		}
	}
	return out
}

// TestDifferential is acceptance 1's kernel part: random rule sets from 1
// to 100,000 rules plus exact flows, against random frames and the tcpdump
// corpus's Ethernet frames, run through the kernel program with
// BPF_PROG_TEST_RUN and through filters/rules' decider: the same outcome
// and the same rule for every packet, and the same per-rule counters.
func TestDifferential(t *testing.T) {
	needKernel(t)
	frames := corpusFrames(t, 1<<30)
	sizes := []struct{ rules, flows, shapes, packets int }{
		{1, 0, 1, 2000},
		{10, 5, 4, 4000},
		{100, 50, 8, 6000},
		{1000, 500, 16, 8000},
		{10000, 5000, 24, 8000},
		{100000, 20000, 32, 8000},
	}
	if testing.Short() {
		sizes = sizes[:3]
	}
	for i, sz := range sizes {
		t.Run(fmt.Sprintf("rules=%d,flows=%d", sz.rules, sz.flows), func(t *testing.T) {
			g := newGen(uint64(100+i), sz.shapes)
			f := g.file(sz.rules, sz.flows)
			rg := newRig(t, f, Options{})
			size := rg.c.Size()
			var rnd, corp tally
			for range sz.packets {
				rg.compare(t, &rnd, g.frame(g.packet(f)))
			}
			for _, fr := range frames {
				rg.compare(t, &corp, fr)
			}
			t.Logf("%d rules, %d flows, %d tuples, %d entries", size.Rules, size.Flows, size.Tuples, size.Entries)
			t.Logf("random: %v", &rnd)
			t.Logf("corpus: %v", &corp)
			for _, tl := range []*tally{&rnd, &corp} {
				for _, b := range tl.firstBad {
					t.Error(b)
				}
				if tl.agree+tl.unclassified != tl.packets {
					t.Errorf("%d disagreements", tl.packets-tl.agree-tl.unclassified)
				}
				if tl.unclassified != 0 {
					t.Errorf("%d frames unclassified by the kernel (none has more than %d VLAN tags)", tl.unclassified, MaxVLANTags)
				}
			}
			if rnd.matched == 0 || rnd.outcomes[1]+rnd.outcomes[2]+rnd.outcomes[3]+rnd.outcomes[4] == 0 && sz.rules > 10 {
				t.Errorf("the random packets exercise too little: %v", &rnd)
			}
			rg.counters(t)
		})
	}
}

// TestDifferentialCatchesCorruption makes sure the comparison can fail: the
// same run against kernel tables with one entry changed behind the
// classifier's back must disagree.
func TestDifferentialCatchesCorruption(t *testing.T) {
	needKernel(t)
	cases := []struct {
		name    string
		corrupt func(m *Maps) error
	}{
		{"rule action", func(m *Maps) error {
			// Every rule's verb becomes drop.
			for _, idx := range m.ids {
				var v [ruleSize]byte
				if err := m.rules.Lookup(idx, &v); err != nil {
					return err
				}
				if v[ruleVerb] == byte(rules.VerbDrop) {
					v[ruleVerb] = byte(rules.VerbCapture)
				} else {
					v[ruleVerb] = byte(rules.VerbDrop)
				}
				if err := m.rules.Put(idx, v); err != nil {
					return err
				}
			}
			return nil
		}},
		{"tuple entry", func(m *Maps) error {
			// The first tuple loses its entries.
			for k := range m.tupls[0].entries {
				if err := m.tupls[0].m.Delete(k); err != nil {
					return err
				}
			}
			return nil
		}},
		{"tuple order", func(m *Maps) error {
			// Every tuple but the first claims the worst rank: the
			// early stop then skips them once the first one hits.
			for i := 1; i < len(m.tupls); i++ {
				var v [descSize]byte
				slot := m.gen*MaxTuples + uint32(i)
				if err := m.desc.Lookup(slot, &v); err != nil {
					return err
				}
				binary.LittleEndian.PutUint64(v[48:], ^uint64(0)-1)
				if err := m.desc.Put(slot, v); err != nil {
					return err
				}
			}
			return nil
		}},
		{"flow entry", func(m *Maps) error {
			for k := range m.flowIdx {
				if err := m.flows.Delete(k); err != nil {
					return err
				}
			}
			return nil
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := newGen(7, 6)
			f := g.file(300, 100)
			rg := newRig(t, f, Options{})
			if err := c.corrupt(rg.m); err != nil {
				t.Fatalf("corrupt: %v", err)
			}
			var tl tally
			for range 3000 {
				rg.compare(t, &tl, g.frame(g.packet(f)))
			}
			t.Logf("%v", &tl)
			if tl.agree == tl.packets {
				t.Errorf("no disagreement after corrupting the %s", c.name)
			}
		})
	}
}

func TestMain(m *testing.M) { os.Exit(m.Run()) }

// TestDifferentialXDP is TestDifferential for the XDP block (the AF_XDP
// path's): the frame through bpf_xdp_load_bytes, its tags in the frame,
// the XDP test run's queue 0.
func TestDifferentialXDP(t *testing.T) {
	needKernel(t)
	frames := corpusFrames(t, 1<<30)
	for i, sz := range []struct{ rules, flows, shapes, packets int }{{100, 50, 8, 6000}, {3000, 1000, 20, 6000}, {100000, 20000, 32, 6000}} {
		t.Run(fmt.Sprintf("rules=%d,flows=%d", sz.rules, sz.flows), func(t *testing.T) {
			g := newGen(uint64(200+i), sz.shapes)
			f := g.file(sz.rules, sz.flows)
			rg := newRigFor(t, f, Options{}, true)
			var rnd, corp tally
			for range sz.packets {
				rg.compare(t, &rnd, g.frame(g.packet(f)))
			}
			for _, fr := range frames {
				rg.compare(t, &corp, fr)
			}
			t.Logf("random: %v", &rnd)
			t.Logf("corpus: %v", &corp)
			for _, tl := range []*tally{&rnd, &corp} {
				for _, b := range tl.firstBad {
					t.Error(b)
				}
				if tl.agree != tl.packets {
					t.Errorf("%d disagreements or unclassified frames", tl.packets-tl.agree)
				}
			}
			rg.counters(t)
		})
	}
}
