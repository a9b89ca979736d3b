package wasm_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"runtime"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/wringcap/wring/analyzers/bundled"
	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/internal/analyzertest"
	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/internal/cputime"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/wasm"
	"github.com/wringcap/wring/wasm/internal/fuel"
	"github.com/wringcap/wring/wasm/internal/wat"
)

// BenchmarkFuel measures fuel metering's cost: on a byte-scanning loop
// (scan, below: the same module with and without the rewrite the host
// applies, one call per op), and on the bundled HTTP and TLS analyzers
// (Go) over the mixed capture (ns/op per packet).
//
// scan is testdata/scan.wat: scan(1500) reads the 1500 bytes at 0x10000 one
// at a time (i32.load8_u, bounds-checked by wazero), adds each to a sum,
// counts the bytes equal to 'G' (0x47) and returns sum + count; its loop
// tests the index against n at the top and branches back at the bottom: 22
// Wasm instructions per byte, about 20 machine instructions as wazero
// compiles them (the bounds check included), the worst case for a charge
// per iteration. The metered module is what fuel.Rewrite makes of it (the loop
// unrolled eight times with one charge per eight bytes). cpu-ns/op is the
// benchmarking thread's CPU time per call (the goroutine is locked to its
// thread), which other processes on a shared machine do not inflate.
func BenchmarkFuel(b *testing.B) {
	benchScan(b)
	c, err := corpus.ReadCapture(mixedCapture(b, 5000))
	if err != nil {
		b.Fatal(err)
	}
	batches := mkBatches(c, 256)
	for _, name := range []string{"http", "tls"} {
		for _, mode := range []string{"metered", "unmetered"} {
			b.Run(name+"/"+mode, func(b *testing.B) {
				bin, err := bundled.Module(name)
				if err != nil {
					b.Fatal(err)
				}
				cfg := wasm.NewConfig().WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))).WithCompilationCacheDir(cacheDir)
				if mode == "unmetered" {
					cfg = cfg.WithoutFuel()
				}
				h, err := wasm.NewHost(context.Background(), cfg, wasm.Analyzer{Name: name, Binary: bin})
				if err != nil {
					b.Fatal(err)
				}
				defer h.Close(context.Background())
				w := h.NewWorker()
				for _, bt := range batches { // warm up, as above
					w.Handle(bt)
				}
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				b.ReportAllocs()
				b.ResetTimer()
				c0 := cputime.Thread()
				done, k := 0, 0
				for done < b.N {
					bt := batches[k%len(batches)]
					clear(bt.Verdicts)
					w.Handle(bt)
					done += len(bt.Packets)
					k++
				}
				b.StopTimer()
				b.ReportMetric(float64(cputime.Thread()-c0)/float64(done), "cpu-ns/op")
				if s := h.Stats()[0]; s.Failures != 0 {
					b.Fatalf("%+v", s)
				}
			})
		}
	}
}

// The analyzer workloads of these tests come from internal/analyzertest.
var cacheDir = analyzertest.CacheDir()

func mixedCapture(tb testing.TB, count int) string { return analyzertest.MixedCapture(tb, count) }

func mkBatches(c *corpus.Capture, n int) []*packet.Batch { return analyzertest.Batches(c, n) }

func bundledHost(tb testing.TB, name string, ev io.Writer) *wasm.Host {
	return analyzertest.Host(tb, name, ev)
}

// scanWant is scan(1500) over the benchmark's bytes (byte i = i*7 mod 256),
// computed in Go.
var scanWant = func() uint64 {
	sum, g := uint32(0), uint32(0)
	for i := 0; i < 1500; i++ {
		c := byte(i * 7)
		sum += uint32(c)
		if c == 'G' {
			g++
		}
	}
	return uint64(sum + g)
}()

func benchScan(b *testing.B) {
	src, err := os.ReadFile("testdata/scan.wat")
	if err != nil {
		b.Fatal(err)
	}
	bin, err := wat.Compile(string(src))
	if errors.Is(err, wat.ErrNoTool) {
		corpus.Unavailable(b, err.Error())
	}
	if err != nil {
		b.Fatal(err)
	}
	metered, err := fuel.Rewrite(bin, spec.ExportFuel, 1<<62)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		bin  []byte
	}{{"scan/metered", metered}, {"scan/unmetered", bin}} {
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler())
			defer rt.Close(ctx)
			mod, err := rt.Instantiate(ctx, c.bin)
			if err != nil {
				b.Fatal(err)
			}
			data := make([]byte, 1500)
			for i := range data {
				data[i] = byte(i * 7)
			}
			mod.Memory().Write(0x10000, data)
			fn := mod.ExportedFunction("scan")
			g, _ := mod.ExportedGlobal(spec.ExportFuel).(api.MutableGlobal)
			stack := make([]uint64, 1)
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			b.ReportAllocs()
			b.ResetTimer()
			c0 := cputime.Thread()
			for i := 0; i < b.N; i++ {
				if g != nil {
					g.Set(1 << 40)
				}
				stack[0] = 1500
				if err := fn.CallWithStack(ctx, stack); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cputime.Thread()-c0)/float64(b.N), "cpu-ns/op")
			if stack[0] != scanWant {
				b.Fatalf("scan returned %d, want %d", stack[0], scanWant)
			}
		})
	}
}
