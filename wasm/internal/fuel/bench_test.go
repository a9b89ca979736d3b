package fuel

import (
	"context"
	"os"
	"runtime"
	"testing"

	"github.com/tetratelabs/wazero"

	"github.com/wringcap/wring/internal/cputime"
)

// BenchmarkScanParts splits the metering's cost on the wasm package's scan
// benchmark (../../testdata/scan.wat: scan(1500) sums the 1500 bytes at
// 0x10000 and counts those equal to 'G'): unmetered, the full rewrite
// (metered), the rewrite without charges (unrolled, which shows what the
// unrolling alone does to the loop) and the rewrite without unrolling (a
// charge per iteration, as before), as BenchmarkScanParts/scan/<variant>.
// cpu-ns/op is the thread's CPU time per call.
func BenchmarkScanParts(b *testing.B) {
	src, err := os.ReadFile("../../testdata/scan.wat")
	if err != nil {
		b.Fatal(err)
	}
	bin := compileWAT(b, string(src))
	for _, c := range []struct {
		name string
		opt  *options
	}{{"unmetered", nil}, {"metered", &options{}}, {"unrolled", &options{noCharge: true}}, {"per_iteration", &options{noUnroll: true}}} {
		b.Run("scan/"+c.name, func(b *testing.B) {
			mod := bin
			if c.opt != nil {
				if mod, err = rewrite(bin, "__fuel", 1<<62, *c.opt); err != nil {
					b.Fatal(err)
				}
			}
			ctx := context.Background()
			rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler())
			defer rt.Close(ctx)
			m, err := rt.Instantiate(ctx, mod)
			if err != nil {
				b.Fatal(err)
			}
			data := make([]byte, 1500)
			for i := range data {
				data[i] = byte(i * 7)
			}
			m.Memory().Write(0x10000, data)
			fn := m.ExportedFunction("scan")
			stack := make([]uint64, 1)
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			b.ResetTimer()
			c0 := cputime.Thread()
			for i := 0; i < b.N; i++ {
				stack[0] = 1500
				if err := fn.CallWithStack(ctx, stack); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cputime.Thread()-c0)/float64(b.N), "cpu-ns/op")
		})
	}
}
