package jit

import (
	"runtime"
	"testing"

	"golang.org/x/net/bpf"

	"github.com/wringcap/wring/internal/benchdata"
	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/internal/cputime"
	"github.com/wringcap/wring/internal/pcapbench"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
	"github.com/wringcap/wring/vm"
)

// BenchmarkFilter/<filter>/<engine> measures one packet per op over the
// warm working set of internal/benchdata (about 4096 packets, cycled, copied
// back to back into one buffer as libpcap's column copies them), for
// the five benchmark filters, with every userspace engine in the same run:
//
//	jit        the native code (blinded, as Compile does by default), one
//	           Run call from Go per packet
//	jit-batch  the same code through RunBatch: the loop over packets runs
//	           in native code, in calls of 64 packets (what libpcap's
//	           column does in C)
//	portable   the portable backend: the program decoded once (as x/net's
//	           column decodes once with bpf.NewVM)
//	portable-loop  the same interpreter called directly, without
//	           Filter.Run's call around it (as before is called)
//	before     the decoded interpreter that vm.New built before issue 14
//	           (oldprepared_bench_test.go): the anchor the portable
//	           backend is measured against
//	vm-step   the reference interpreter, one instruction per dispatch, vm.Run
//	xnet      golang.org/x/net/bpf's VM
//	libpcap   libpcap's C bpf_filter in a C loop (internal/pcapbench)
//
// Before measuring, every engine's result on every packet is compared with
// vm.Run's (x/net sees no wire length: it is compared on the captured
// length, and only its match/no-match, since it returns an int).
//
// ns/pkt equals ns/op (wall time per packet); cpu-ns/pkt is the CPU time
// of the benchmarking thread per packet (the goroutine is locked to its
// thread; CLOCK_THREAD_CPUTIME_ID), which time the shared machine gives to
// other processes does not inflate (the same metrics as vm's benchmark).
// allocs/op must be 0 for jit, jit-batch, portable and vm-step.
func BenchmarkFilter(b *testing.B) {
	ws := packed(benchdata.WorkingSet(b))
	for _, bf := range benchdata.Filters() {
		p, err := verifier.Verify(bf.Program, verifier.Options{})
		if err != nil {
			b.Fatalf("%s: %v", bf.Name, err)
		}
		native, err := Compile(p, Options{})
		if err != nil {
			b.Fatal(err)
		}
		port, err := Compile(p, Options{Portable: true})
		if err != nil {
			b.Fatal(err)
		}
		if port.port.state {
			b.Fatalf("%s uses scratch memory or loads above the packet: portable-loop would need a state", bf.Name)
		}
		old := newOldProgram(p)
		xvm := xnetVM(b, bf.Program)
		data := make([][]byte, len(ws))
		wl := make([]uint32, len(ws))
		for i, pk := range ws {
			data[i], wl[i] = pk.Data, pk.WireLen
		}
		lp, lpErr := pcapbench.New(bf.Program, data, wl)
		matches := 0
		for i, pk := range ws {
			want := vm.Run(p, pk.Data, pk.WireLen, nil)
			if want != 0 {
				matches++
			}
			if got := native.Run(pk.Data, pk.WireLen); got != want {
				b.Fatalf("%s packet %d: native %d, vm %d", bf.Name, i, got, want)
			}
			if got := port.Run(pk.Data, pk.WireLen); got != want {
				b.Fatalf("%s packet %d: portable %d, vm %d", bf.Name, i, got, want)
			}
			if got := old.Run(pk.Data, pk.WireLen, nil); got != want {
				b.Fatalf("%s packet %d: before %d, vm %d", bf.Name, i, got, want)
			}
			if lpErr == nil {
				if got := lp.Result(i); got != want {
					b.Fatalf("%s packet %d: libpcap %d, vm %d", bf.Name, i, got, want)
				}
			}
			x, err := xvm.Run(pk.Data)
			if err != nil {
				b.Fatalf("%s packet %d: x/net: %v", bf.Name, i, err)
			}
			if w := vm.Run(p, pk.Data, uint32(len(pk.Data)), nil); (x != 0) != (w != 0) {
				b.Fatalf("%s packet %d: x/net %d, vm %d", bf.Name, i, x, w)
			}
		}
		bout := make([]uint32, len(ws))
		if err := native.RunBatch(data, wl, bout); err != nil {
			b.Fatal(err)
		}
		for i, pk := range ws {
			if want := vm.Run(p, pk.Data, pk.WireLen, nil); bout[i] != want {
				b.Fatalf("%s packet %d: RunBatch %d, vm %d", bf.Name, i, bout[i], want)
			}
		}
		ratio := float64(matches) / float64(len(ws))
		// One loop per engine, written out: a function value per packet
		// would add its own call to every engine's figure.
		measure := func(engine string, loop func(b *testing.B) uint32) {
			b.Run(bf.Name+"/"+engine, func(b *testing.B) {
				b.ReportAllocs()
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				c0 := cputime.Thread()
				benchSink = loop(b)
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/pkt")
				b.ReportMetric(float64(cputime.Thread()-c0)/float64(b.N), "cpu-ns/pkt")
				b.ReportMetric(ratio, "match-ratio")
			})
		}
		measure("jit", func(b *testing.B) (sink uint32) {
			for i := 0; b.Loop(); i = next(i, len(ws)) {
				sink += native.Run(ws[i].Data, ws[i].WireLen)
			}
			return sink
		})
		measure("portable", func(b *testing.B) (sink uint32) {
			for i := 0; b.Loop(); i = next(i, len(ws)) {
				sink += port.Run(ws[i].Data, ws[i].WireLen)
			}
			return sink
		})
		measure("portable-loop", func(b *testing.B) (sink uint32) {
			for i := 0; b.Loop(); i = next(i, len(ws)) {
				sink += port.port.run(ws[i].Data, ws[i].WireLen, &zeroMeta, nil)
			}
			return sink
		})
		measure("before", func(b *testing.B) (sink uint32) {
			for i := 0; b.Loop(); i = next(i, len(ws)) {
				sink += old.Run(ws[i].Data, ws[i].WireLen, nil)
			}
			return sink
		})
		measure("vm-step", func(b *testing.B) (sink uint32) {
			for i := 0; b.Loop(); i = next(i, len(ws)) {
				sink += vm.Run(p, ws[i].Data, ws[i].WireLen, nil)
			}
			return sink
		})
		measure("xnet", func(b *testing.B) (sink uint32) {
			for i := 0; b.Loop(); i = next(i, len(ws)) {
				n, _ := xvm.Run(ws[i].Data)
				sink += uint32(n)
			}
			return sink
		})
		b.Run(bf.Name+"/jit-batch", func(b *testing.B) {
			b.ReportAllocs()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			out := make([]uint32, len(ws))
			b.ResetTimer()
			c0 := cputime.Thread()
			for done := 0; done < b.N; done += len(data) {
				n := min(len(data), b.N-done)
				native.RunBatch(data[:n], wl[:n], out[:n])
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/pkt")
			b.ReportMetric(float64(cputime.Thread()-c0)/float64(b.N), "cpu-ns/pkt")
			b.ReportMetric(ratio, "match-ratio")
			benchSink = out[0]
		})
		b.Run(bf.Name+"/libpcap", func(b *testing.B) {
			if lpErr != nil {
				corpus.Unavailable(b, lpErr.Error())
			}
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			b.ResetTimer()
			c0 := cputime.Thread()
			benchSink = uint32(lp.Loop(b.N))
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/pkt")
			b.ReportMetric(float64(cputime.Thread()-c0)/float64(b.N), "cpu-ns/pkt")
			b.ReportMetric(ratio, "match-ratio")
		})
		if lpErr == nil {
			lp.Close()
		}
		native.Close()
		port.Close()
	}
}

// packed copies the working set's packets back to back into one buffer,
// the layout internal/pcapbench gives libpcap's copy, so that every engine
// reads the same pattern of memory.
func packed(ws []benchdata.Packet) []benchdata.Packet {
	total := 0
	for _, p := range ws {
		total += len(p.Data)
	}
	buf := make([]byte, 0, total)
	out := make([]benchdata.Packet, len(ws))
	for i, p := range ws {
		start := len(buf)
		buf = append(buf, p.Data...)
		out[i] = benchdata.Packet{Data: buf[start:len(buf):len(buf)], WireLen: p.WireLen}
	}
	return out
}

// next returns the index after i in a set of n packets, wrapping to 0
// (without a division, which would cost more than some filters).
func next(i, n int) int {
	if i++; i == n {
		return 0
	}
	return i
}

// benchSink keeps results alive.
var benchSink uint32

// BenchmarkCompile/<filter>/<engine> measures Compile (verification not
// included) for the native backend with blinding (jit), without it
// (jit-noblind), and for the portable backend. Native compiles include
// the mmap, mprotect and munmap system calls.
func BenchmarkCompile(b *testing.B) {
	for _, bf := range benchdata.Filters() {
		p, err := verifier.Verify(bf.Program, verifier.Options{})
		if err != nil {
			b.Fatalf("%s: %v", bf.Name, err)
		}
		for _, c := range []struct {
			engine string
			opts   Options
		}{{"jit", Options{}}, {"jit-noblind", Options{NoBlinding: true}}, {"portable", Options{Portable: true}}} {
			b.Run(bf.Name+"/"+c.engine, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					f, err := Compile(p, c.opts)
					if err != nil {
						b.Fatal(err)
					}
					f.Close()
				}
			})
		}
	}
}

// xnetVM converts prog for golang.org/x/net/bpf.
func xnetVM(tb testing.TB, prog spec.Program) *bpf.VM {
	insns := make([]bpf.Instruction, len(prog))
	for i, ins := range prog {
		insns[i] = bpf.RawInstruction(ins).Disassemble()
	}
	v, err := bpf.NewVM(insns)
	if err != nil {
		tb.Fatalf("x/net/bpf refuses the program: %v", err)
	}
	return v
}
