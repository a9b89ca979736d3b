package rules

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"testing"

	"github.com/wringcap/wring/internal/cputime"
	"github.com/wringcap/wring/spec"
)

// aclRules returns n rules of one shape, the classic 5-tuple ACL line:
// proto tcp, src /32, dst /24, dport exact. They all land in one tuple.
func aclRules(n int, r *rand.Rand) []Rule {
	out := make([]Rule, n)
	for i := range out {
		src := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		dst := netip.AddrFrom4([4]byte{172, 16, byte(r.IntN(256)), 0})
		port := uint16(1 + r.IntN(65535))
		out[i] = Rule{ID: uint32(i + 1), Priority: uint32(r.IntN(100)), Match: Match{
			Fields: FieldProto | FieldSrc | FieldDst | FieldDstPort, Proto: ProtoTCP,
			Src: netip.PrefixFrom(src, 32), Dst: netip.PrefixFrom(dst, 24), DstPort: PortRange{port, port},
		}, Action: Action{Verb: VerbDrop}}
	}
	return out
}

// aclPackets returns packets of which half hit one of the rules and half
// miss (a source outside every rule).
func aclPackets(rules []Rule, n int, r *rand.Rand) [][spec.RecordSize]byte {
	out := make([][spec.RecordSize]byte, n)
	for i := range out {
		m := &rules[r.IntN(len(rules))].Match
		p := pktFields{ver: 4, proto: ProtoTCP, src: m.Src.Addr(), dst: m.Dst.Addr().Next(), sport: 40000, dport: m.DstPort.Lo, l4: true, ether: 0x0800}
		if i%2 == 1 {
			p.src = netip.AddrFrom4([4]byte{192, 168, byte(i >> 8), byte(i)})
		}
		out[i] = p.record(int64(i), 100)
	}
	return out
}

// benchClassify runs two packet mixes: keys=256 cycles through 256
// packets, whose table entries stay in cache (the algorithm's cost), and
// keys=64Ki through 65,536 (with large tables, mostly cache misses).
func benchClassify(b *testing.B, c *Classifier, recs [][spec.RecordSize]byte) {
	keys := make([]Key, len(recs))
	for i := range recs {
		keys[i] = KeyFromRecord(&recs[i])
	}
	for _, n := range []int{256, len(keys)} {
		name := fmt.Sprintf("keys=%d", n)
		if n == 1<<16 {
			name = "keys=64Ki"
		}
		b.Run(name, func(b *testing.B) {
			ks := keys[:n]
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			b.ReportAllocs()
			b.ResetTimer()
			c0 := cputime.Thread()
			hits := 0
			for i := 0; i < b.N; i++ {
				if c.Classify(&ks[i&(n-1)], int64(i), 100).Matched {
					hits++
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(cputime.Thread()-c0)/float64(b.N), "cpu-ns/op")
			if hits == 0 {
				b.Fatal("no packet matched")
			}
			b.ReportMetric(float64(c.Size().Tuples), "tuples")
		})
	}
	// The same packets through ClassifyBatch, BatchSize at a time; one op
	// is still one packet.
	for _, n := range []int{256, len(keys)} {
		name := fmt.Sprintf("batch/keys=%d", n)
		if n == 1<<16 {
			name = "batch/keys=64Ki"
		}
		b.Run(name, func(b *testing.B) {
			ps := make([]Packet, n)
			for i := range ps {
				ps[i] = Packet{Key: keys[i], Now: int64(i), Bytes: 100}
			}
			var out [BatchSize]Hit
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			b.ReportAllocs()
			b.ResetTimer()
			c0 := cputime.Thread()
			hits := 0
			for i := 0; i < b.N; i += BatchSize {
				j := i & (n - 1)
				m := min(BatchSize, b.N-i)
				c.ClassifyBatch(ps[j:j+m], out[:m])
				for k := range m {
					if out[k].Matched {
						hits++
					}
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(cputime.Thread()-c0)/float64(b.N), "cpu-ns/op")
			if hits == 0 {
				b.Fatal("no packet matched")
			}
			b.ReportMetric(float64(c.Size().Tuples), "tuples")
		})
	}
}

// BenchmarkClassify is the per-packet cost: one-shape wildcard rule sets
// of 1 to 100,000 rules (the 1-rule case is the anchor), mixed-shape sets,
// and 1M exact flows. Packets cycle through 64Ki keys, so that the large
// tables are not all in cache.
func BenchmarkClassify(b *testing.B) {
	const npk = 1 << 16
	for _, n := range []int{1, 1000, 10000, 100000} {
		b.Run(fmt.Sprintf("acl=%d", n), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 2))
			rules := aclRules(n, r)
			c := New()
			if err := c.Update(Change{Rules: rules}); err != nil {
				b.Fatal(err)
			}
			benchClassify(b, c, aclPackets(rules, npk, r))
		})
	}
	for _, n := range []int{16, 100000} {
		b.Run(fmt.Sprintf("mixed=%d", n), func(b *testing.B) {
			g := newGen(42, 16)
			f := randomFile(g, n, 0)
			c := New()
			if err := c.Load(f); err != nil {
				b.Fatal(err)
			}
			recs := make([][spec.RecordSize]byte, npk)
			for i := range recs {
				p := g.packet(f)
				recs[i] = p.record(int64(i), 100)
			}
			benchClassify(b, c, recs)
		})
	}
	b.Run("flows=1M", func(b *testing.B) {
		c, flows := millionFlows(b)
		r := rand.New(rand.NewPCG(3, 4))
		recs := make([][spec.RecordSize]byte, npk)
		for i := range recs {
			fl := &flows[r.IntN(len(flows))]
			p := pktFields{ver: 4, proto: ProtoUDP, src: fl.Src.Addr(), dst: fl.Dst.Addr(), sport: fl.Src.Port(), dport: fl.Dst.Port(), l4: true, ether: 0x0800}
			if i%2 == 1 {
				p.sport++ // a miss
			}
			recs[i] = p.record(int64(i), 100)
		}
		benchClassify(b, c, recs)
	})
}

var (
	bigFlows *Classifier
	bigNext  int
)

func flowsN(n int) []Flow { return flowsFrom(0, n) }

// flowsFrom returns flows start to start+n-1 of one sequence of distinct
// UDP flows.
func flowsFrom(start, n int) []Flow {
	flows := make([]Flow, n)
	for j := range flows {
		i := start + j
		flows[j] = Flow{ID: uint32(i + 1), Proto: ProtoUDP,
			Src:    netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), uint16(10000+i%50000)),
			Dst:    netip.AddrPortFrom(netip.AddrFrom4([4]byte{172, 16, byte(i >> 8), byte(i)}), 5004),
			Action: Action{Verb: VerbCapture}}
	}
	return flows
}

func millionFlows(b *testing.B) (*Classifier, []Flow) {
	flows := flowsN(1 << 20)
	c := New()
	if err := c.Update(Change{Flows: flows}); err != nil {
		b.Fatal(err)
	}
	return c, flows
}

// BenchmarkUpdate is the rule update throughput: one add and one remove
// per iteration on a 100,000-rule set, and flows added to a 1M-flow table
// singly and in batches of 1,000 (reported per flow).
func BenchmarkUpdate(b *testing.B) {
	b.Run("rule-add-remove/acl=100000", func(b *testing.B) {
		r := rand.New(rand.NewPCG(1, 2))
		rules := aclRules(100001, r)
		c := New()
		if err := c.Update(Change{Rules: rules[:100000]}); err != nil {
			b.Fatal(err)
		}
		extra := rules[100000]
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		b.ResetTimer()
		c0 := cputime.Thread()
		for range b.N {
			if err := c.Add(extra); err != nil {
				b.Fatal(err)
			}
			c.Remove(extra.ID)
		}
		b.StopTimer()
		b.ReportMetric(float64(cputime.Thread()-c0)/float64(b.N), "cpu-ns/op")
	})
	for _, batch := range []int{1, 1000} {
		b.Run(fmt.Sprintf("flow-add/batch=%d/flows=1M", batch), func(b *testing.B) {
			// One 1M-flow table for every run (its setup takes seconds):
			// each run adds its flows to it, so it grows a little.
			if bigFlows == nil {
				bigFlows, _ = millionFlows(b)
				bigNext = 1 << 20
			}
			c := bigFlows
			more := flowsFrom(bigNext, b.N*batch)
			bigNext += b.N * batch
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			b.ResetTimer()
			c0 := cputime.Thread()
			for i := range b.N {
				if err := c.Update(Change{Flows: more[i*batch : (i+1)*batch]}); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/flow")
			b.ReportMetric(float64(cputime.Thread()-c0)/float64(b.N*batch), "cpu-ns/flow")
		})
	}
}

// BenchmarkLinear is the naive reference on 1,000 rules, for scale: every
// rule is compared, keeping the best match.
var sink *Rule

func BenchmarkLinear(b *testing.B) {
	g := newGen(42, 16)
	f := randomFile(g, 1000, 0)
	recs := make([]view, 1024)
	for i := range recs {
		p := g.packet(f)
		rec := p.record(0, 100)
		recs[i] = viewOf(&rec)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		v := recs[i&1023]
		var best *Rule
		for j := range f.Rules {
			r := &f.Rules[j]
			if refMatch(&r.Match, v) && (best == nil || r.Priority < best.Priority) {
				best = r
			}
		}
		sink = best
	}
}

// BenchmarkClassifyHitMiss splits the acl mix of BenchmarkClassify: 256
// keys that all hit a rule, and 256 that all miss, on 1 and 100,000 rules.
// A hit writes the rule's counters (two locked adds), a miss reads the
// table only, so the two cost and scale differently.
func BenchmarkClassifyHitMiss(b *testing.B) {
	for _, n := range []int{1, 100000} {
		r := rand.New(rand.NewPCG(1, 2))
		rules := aclRules(n, r)
		c := New()
		if err := c.Update(Change{Rules: rules}); err != nil {
			b.Fatal(err)
		}
		recs := aclPackets(rules, 512, r)
		for _, miss := range []bool{false, true} {
			keys := make([]Key, 0, 256)
			for i := range recs {
				if (i%2 == 1) == miss {
					keys = append(keys, KeyFromRecord(&recs[i]))
				}
			}
			name := fmt.Sprintf("acl=%d/hit", n)
			if miss {
				name = fmt.Sprintf("acl=%d/miss", n)
			}
			b.Run(name, func(b *testing.B) {
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				b.ReportAllocs()
				b.ResetTimer()
				c0 := cputime.Thread()
				hits := 0
				for i := 0; i < b.N; i++ {
					if c.Classify(&keys[i&255], int64(i), 100).Matched {
						hits++
					}
				}
				b.StopTimer()
				b.ReportMetric(float64(cputime.Thread()-c0)/float64(b.N), "cpu-ns/op")
				if want := b.N * btoi(!miss); hits != want {
					b.Fatalf("%d of %d packets matched, want %d", hits, b.N, want)
				}
			})
		}
	}
}

func btoi(x bool) int {
	if x {
		return 1
	}
	return 0
}
