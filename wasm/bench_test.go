package wasm

import (
	"context"
	"os"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/wringcap/wring/spec"
)

func watFile(b testing.TB, name string) []byte {
	src, err := os.ReadFile("testdata/" + name)
	if err != nil {
		b.Fatal(err)
	}
	return compile(b, string(src))
}

// BenchmarkAnalyzer measures the per-packet cost of a no-op analyzer over
// batches of 256 packets of 64 bytes: through the host (records and bytes
// copied, one metered call, verdicts validated and combined) and, as the
// anchor, wazero alone (the same bytes copied with Memory.Write and one
// CallWithStack of the unmetered module).
func BenchmarkAnalyzer(b *testing.B) {
	bin := watFile(b, "noop.wat")
	const n = 256
	b.Run("noop_64B_batch256/wring", func(b *testing.B) {
		h := newHost(b, testConfig(nil), Analyzer{Name: "noop", Binary: bin})
		w := h.NewWorker()
		batch := mkBatch(make([]uint16, n), 64)
		if err := w.Handle(batch); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			w.Handle(batch)
		}
		b.StopTimer()
		if s := statsOf(h, "noop"); s.Failures != 0 || s.Packets != uint64(b.N+1)*n {
			b.Fatalf("%+v", s)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/pkt")
	})
	b.Run("noop_64B_batch256/bare_callwithstack", func(b *testing.B) {
		ctx := context.Background()
		rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler())
		defer rt.Close(ctx)
		mod, err := rt.Instantiate(ctx, bin)
		if err != nil {
			b.Fatal(err)
		}
		mem := mod.Memory()
		fn := mod.ExportedFunction(spec.ExportProcess)
		batch := mkBatch(make([]uint16, n), 64)
		stack := make([]uint64, 1)
		var desc [20]byte
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			off := uint32(0x10000 + n*20)
			for k := range batch.Packets {
				p := &batch.Packets[k]
				desc[0], desc[1], desc[2], desc[3] = byte(off), byte(off>>8), byte(off>>16), byte(off>>24)
				mem.Write(uint32(0x10000+k*20), desc[:])
				mem.Write(off, p.Data)
				off += uint32(len(p.Data))
			}
			stack[0] = n
			if err := fn.CallWithStack(ctx, stack); err != nil {
				b.Fatal(err)
			}
			v, _ := mem.Read(0x2000, n*8)
			if v[0] > 3 {
				b.Fatal("bad verdict")
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/pkt")
	})
}

// BenchmarkCallFrame measures what the sandbox adds around each guest call
// (instance.begin and instance.end: the fuel, reserve and stack budget set
// and read, and the backstop's view of the call), without the call itself.
// BenchmarkAnalyzer's no-op case pays it once per batch of 256 packets.
func BenchmarkCallFrame(b *testing.B) {
	h := newHost(b, testConfig(nil), Analyzer{Name: "noop", Binary: watFile(b, "noop.wat")})
	g := h.byName["noop"].cur.Load()
	in, err := g.take(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	defer g.retire(context.Background(), in)
	b.ReportAllocs()
	for b.Loop() {
		if err := in.begin(1<<30, false); err != nil {
			b.Fatal(err)
		}
		if err := in.end(nil); err != nil {
			b.Fatal(err)
		}
	}
}
