//go:build linux

package rulemaps

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/filters/rules"
	"github.com/wringcap/wring/spec"
)

// aclRules returns n rules of the classic 5-tuple ACL shape (proto tcp,
// src /32, dst /24, dport exact), all in one tuple, as filters/rules'
// benchmarks use.
func aclRules(n int, r *rand.Rand) []rules.Rule {
	out := make([]rules.Rule, n)
	for i := range out {
		src := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		dst := netip.AddrFrom4([4]byte{172, 16, byte(r.IntN(256)), 0})
		port := uint16(1 + r.IntN(65535))
		out[i] = rules.Rule{ID: uint32(i + 1), Priority: uint32(r.IntN(100)), Match: rules.Match{
			Fields: rules.FieldProto | rules.FieldSrc | rules.FieldDst | rules.FieldDstPort, Proto: rules.ProtoTCP,
			Src: netip.PrefixFrom(src, 32), Dst: netip.PrefixFrom(dst, 24), DstPort: rules.PortRange{Lo: port, Hi: port},
		}, Action: rules.Action{Verb: rules.VerbTag, Tag: 1}}
	}
	return out
}

// tcpFrame is a 64-byte-payload IPv4 TCP frame.
func tcpFrame(src, dst netip.Addr, sp, dp uint16) []byte {
	g := &gen{r: rand.New(rand.NewPCG(1, 2))}
	p := pkt{ver: 4, ether: 0x0800, proto: rules.ProtoTCP, src: src, dst: dst, sport: sp, dport: dp, flags: 0x10}
	for {
		// frame adds random variations; take a plain one.
		f := g.frame(p)
		if len(f) == 14+20+20+len(f)-54 && f[14] == 0x45 && f[12] == 0x08 && be.Uint16(f[14+6:]) == 0 && int(be.Uint16(f[16:])) == len(f)-14 {
			return f
		}
	}
}

type benchCase struct {
	name   string
	file   *rules.File
	opt    Options
	frames [][]byte // a hit and a miss
	kinds  []string // names of the frames when not hit and miss
}

func benchCases(b *testing.B) []benchCase {
	r := rand.New(rand.NewPCG(7, 7))
	var cs []benchCase
	for _, n := range []int{1, 1000, 10_000, 100_000} {
		rs := aclRules(n, r)
		hit := &rs[n/2].Match
		cs = append(cs, benchCase{
			name: fmt.Sprintf("rules=%d", n),
			file: &rules.File{Rules: rs},
			opt:  Options{RuleSlots: n + 16},
			frames: [][]byte{
				tcpFrame(hit.Src.Addr(), hit.Dst.Addr().Next(), 40000, hit.DstPort.Lo),
				tcpFrame(netip.AddrFrom4([4]byte{192, 168, 1, 1}), hit.Dst.Addr().Next(), 40000, hit.DstPort.Lo),
			},
		})
	}
	// A mixed set: 1,000 rules of 24 shapes (dozens of tuples), a random
	// frame aimed at it.
	g := newGen(11, 24)
	f := g.file(1000, 0)
	fr := g.frame(pkt{ver: 4, ether: 0x0800, proto: rules.ProtoUDP, src: g.addr(4), dst: g.addr(4), sport: 53, dport: 53})
	cs = append(cs, benchCase{name: "mixed=1000", file: f, frames: [][]byte{fr}, kinds: []string{"aimed"}})
	if !testing.Short() {
		const nf = 1_000_000
		fl := make([]rules.Flow, nf)
		for i := range fl {
			fl[i] = rules.Flow{ID: uint32(i + 1), Proto: rules.ProtoTCP,
				Src:    netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 40000),
				Dst:    netip.AddrPortFrom(netip.AddrFrom4([4]byte{172, 16, 0, 1}), 443),
				Action: rules.Action{Verb: rules.VerbTag, Tag: 2}}
		}
		cs = append(cs, benchCase{
			name: "flows=1M",
			file: &rules.File{Flows: fl},
			opt:  Options{RuleSlots: nf + 16, FlowKeys: nf + 16},
			frames: [][]byte{
				tcpFrame(netip.AddrFrom4([4]byte{10, 7, 161, 32}), netip.AddrFrom4([4]byte{172, 16, 0, 1}), 40000, 443),
				tcpFrame(netip.AddrFrom4([4]byte{192, 168, 1, 1}), netip.AddrFrom4([4]byte{172, 16, 0, 1}), 40000, 443),
			},
		})
	}
	return cs
}

// BenchmarkKernel measures the classification block with
// BPF_PROG_TEST_RUN (the kernel repeats the program on one frame and
// reports the mean time per run) for a frame that hits a rule and one
// that misses, beside two anchors measured in the same run: a program
// that only returns (the test run's own cost) and the userspace path on
// the same frames (capture/packet.Parse, then rules.Decider.DecideRecord).
func BenchmarkKernel(b *testing.B) {
	needKernel(b)
	anchor, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.SchedCLS, License: "Dual BSD/GPL",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()}})
	if err != nil {
		b.Fatal(err)
	}
	defer anchor.Close()
	fr := tcpFrame(netip.AddrFrom4([4]byte{10, 0, 0, 1}), netip.AddrFrom4([4]byte{172, 16, 0, 1}), 1, 2)
	b.Run("anchor=return", func(b *testing.B) { benchRun(b, anchor, fr) })
	for _, c := range benchCases(b) {
		rg := newRig(b, c.file, c.opt)
		for i, fr := range c.frames {
			kind := []string{"hit", "miss"}[i]
			if c.kinds != nil {
				kind = c.kinds[i]
			} else if rg.m.Decode(run(b, rg.prog, fr)).Matched != (i == 0) {
				b.Fatalf("%s: the %s frame does not %s", c.name, kind, kind)
			}
			b.Run(c.name+"/"+kind+"/kernel", func(b *testing.B) { benchRun(b, rg.prog, fr) })
			b.Run(c.name+"/"+kind+"/userspace", func(b *testing.B) {
				var rec packet.Record
				info := packet.Info{Timestamp: testTime, CapLen: uint32(len(fr)), WireLen: uint32(len(fr)), LinkType: spec.LinkEthernet}
				b.ResetTimer()
				for range b.N {
					packet.Parse(info, fr, &rec)
					rg.d.DecideRecord((*[spec.RecordSize]byte)(&rec))
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/pkt")
			})
		}
	}
}

// benchRun runs the program b.N times on the frame in one test run and
// reports the kernel's mean time per run.
func benchRun(b *testing.B, p *ebpf.Program, frame []byte) {
	_, d, err := p.Benchmark(frame, max(b.N, 1), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(d.Nanoseconds()), "ns/pkt")
}
