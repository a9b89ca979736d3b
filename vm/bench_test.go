package vm

import (
	"runtime"
	"testing"

	"github.com/wringcap/wring/internal/benchdata"
	"github.com/wringcap/wring/internal/cputime"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
)

// BenchmarkFilter/<filter>/<engine> measures one packet per op over the
// warm working set of internal/benchdata (4096 packets, cycled) for the five
// benchmark filters: vm-step is Run (one dispatch per instruction), xnet is
// golang.org/x/net/bpf's VM on the same program, in the same run. The
// decoded form of a program is jit's portable backend, measured by jit's
// BenchmarkFilter. Before measuring, the two are compared on every packet
// (x/net has no wire length: compared on the captured length). ns/pkt
// equals ns/op; cpu-ns/pkt counts only the CPU time of the benchmarking
// thread, which shared, loaded machines distort less. vm-step must show 0
// allocs/op.
func BenchmarkFilter(b *testing.B) {
	ws := benchdata.WorkingSet(b)
	for _, bf := range benchdata.Filters() {
		p, err := verifier.Verify(bf.Program, verifier.Options{})
		if err != nil {
			b.Fatalf("%s: %v", bf.Name, err)
		}
		x := xnetVM(bf.Program)
		if x == nil {
			b.Fatalf("%s: x/net refuses the program", bf.Name)
		}
		matches := 0
		for i, pk := range ws {
			if Run(p, pk.Data, pk.WireLen, nil) != 0 {
				matches++
			}
			want := Run(p, pk.Data, uint32(len(pk.Data)), nil)
			got, err := x.Run(pk.Data)
			if err != nil || uint32(got) != want {
				b.Fatalf("%s packet %d: x/net %d (%v), vm %d", bf.Name, i, got, err, want)
			}
		}
		ratio := float64(matches) / float64(len(ws))
		// One loop per engine, written out: a function value called per
		// packet would add its own call to every engine's figure.
		measure := func(engine string, loop func(b *testing.B) uint32) {
			b.Run(bf.Name+"/"+engine, func(b *testing.B) {
				b.ReportAllocs()
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				cpu0 := cputime.Thread()
				benchSink = loop(b)
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/pkt")
				// CPU time of this thread only: on a shared machine, time
				// spent descheduled does not count.
				b.ReportMetric(float64(cputime.Thread()-cpu0)/float64(b.N), "cpu-ns/pkt")
				b.ReportMetric(ratio, "match-ratio")
			})
		}
		measure("vm-step", func(b *testing.B) (sink uint32) {
			for i := 0; b.Loop(); i = next(i, len(ws)) {
				sink += Run(p, ws[i].Data, ws[i].WireLen, nil)
			}
			return sink
		})
		measure("xnet", func(b *testing.B) (sink uint32) {
			for i := 0; b.Loop(); i = next(i, len(ws)) {
				n, _ := x.Run(ws[i].Data)
				sink += uint32(n)
			}
			return sink
		})
	}
}

// next returns the working-set index after i.
func next(i, n int) int {
	if i++; i == n {
		return 0
	}
	return i
}

// BenchmarkOverhead/<case>/<engine> separates the fixed cost of a run from
// the cost per instruction, for vm and xnet in the same run, over the same
// working set: ret (one instruction), ldh+ret, ldh+jeq+ret (the short path
// most benchmark filters take on most packets), and a chain of 8 ALU
// instructions without loads or branches.
func BenchmarkOverhead(b *testing.B) {
	ws := benchdata.WorkingSet(b)
	ld := func(k uint32) spec.Instruction { return spec.Stmt(spec.ClassLD|spec.SizeH|spec.ModeABS, k) }
	add1 := spec.Stmt(spec.ClassALU|spec.ALUAdd|spec.SrcK, 1)
	retA := spec.Stmt(spec.ClassRET|spec.RetA, 0)
	cases := []struct {
		name string
		prog spec.Program
	}{
		{"ret", spec.Program{spec.Stmt(spec.ClassRET|spec.RetK, 1)}},
		{"ldh_ret", spec.Program{ld(12), retA}},
		{"ldh_jeq_ret", spec.Program{ld(12), spec.Jump(spec.ClassJMP|spec.JumpJEQ|spec.SrcK, 0x86dd, 0, 1), spec.Stmt(spec.ClassRET|spec.RetK, 1), spec.Stmt(spec.ClassRET|spec.RetK, 0)}},
		{"alu_chain_8", spec.Program{spec.Stmt(spec.ClassLD|spec.ModeIMM, 1), add1, add1, add1, add1, add1, add1, retA}},
	}
	for _, c := range cases {
		p, err := verifier.Verify(c.prog, verifier.Options{})
		if err != nil {
			b.Fatal(err)
		}
		x := xnetVM(c.prog)
		run := func(engine string, f func(pk *benchdata.Packet) uint32) {
			b.Run(c.name+"/"+engine, func(b *testing.B) {
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				cpu0 := cputime.Thread()
				var sink uint32
				i := 0
				for b.Loop() {
					sink += f(&ws[i])
					if i++; i == len(ws) {
						i = 0
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/pkt")
				b.ReportMetric(float64(cputime.Thread()-cpu0)/float64(b.N), "cpu-ns/pkt")
				benchSink = sink
			})
		}
		run("vm", func(pk *benchdata.Packet) uint32 { return Run(p, pk.Data, pk.WireLen, nil) })
		run("xnet", func(pk *benchdata.Packet) uint32 {
			n, _ := x.Run(pk.Data)
			return uint32(n)
		})
	}
}

// benchSink keeps results alive.
var benchSink uint32
