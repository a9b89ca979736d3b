package wasm_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/wasm/internal/fuel"
	"github.com/wringcap/wring/wasm/internal/wat"

	"github.com/wringcap/wring/filters/bundled"
	"github.com/wringcap/wring/wasm"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/internal/corpus"
)

// BenchmarkHTTP measures the bundled HTTP analyzer over the generated mixed
// capture (5000 packets, in batches of 256): ns/op is per packet.
func BenchmarkHTTP(b *testing.B) {
	path := mixedCapture(b, 5000)
	c, err := corpus.ReadCapture(path)
	if err != nil {
		b.Fatal(err)
	}
	const n = 256
	var batches []*packet.Batch
	for i := 0; i < len(c.Packets); i += n {
		end := min(i+n, len(c.Packets))
		bt := &packet.Batch{Verdicts: make([]packet.Verdict, end-i)}
		for _, p := range c.Packets[i:end] {
			info := packet.Info{Timestamp: p.TsNanos, CapLen: uint32(len(p.Data)), WireLen: p.WireLen, LinkType: c.LinkType}
			pk := packet.Packet{Info: info, Data: p.Data}
			packet.Parse(info, pk.Data, &pk.Record)
			bt.Packets = append(bt.Packets, pk)
		}
		batches = append(batches, bt)
	}
	b.Run("mixed/wring", func(b *testing.B) {
		h := bundledHost(b, "http", nil)
		w := h.NewWorker()
		for _, bt := range batches { // warm up: the guest's heap and the event buffer reach their size
			w.Handle(bt)
		}
		b.ReportAllocs()
		b.ResetTimer()
		done, k := 0, 0
		for done < b.N {
			bt := batches[k%len(batches)]
			clear(bt.Verdicts)
			w.Handle(bt)
			done += len(bt.Packets)
			k++
		}
		b.StopTimer()
		if s := h.Stats()[0]; s.Failures != 0 {
			b.Fatalf("%+v %+v", s, h.Counters())
		}
		b.ReportMetric(float64(done)/b.Elapsed().Seconds(), "pkts/s")
	})
}

// BenchmarkFuel measures fuel metering's cost: on a byte-scanning loop over
// 1500 bytes (scan: the same module with and without the rewrite, one call
// per op; the worst case, a loop of about ten machine instructions), and on
// the bundled HTTP (Go) and TLS (C) analyzers over the mixed capture (ns/op
// per packet).
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
				b.ReportAllocs()
				b.ResetTimer()
				done, k := 0, 0
				for done < b.N {
					bt := batches[k%len(batches)]
					clear(bt.Verdicts)
					w.Handle(bt)
					done += len(bt.Packets)
					k++
				}
				b.StopTimer()
				if s := h.Stats()[0]; s.Failures != 0 {
					b.Fatalf("%+v", s)
				}
			})
		}
	}
}

func mkBatches(c *corpus.Capture, n int) []*packet.Batch {
	var batches []*packet.Batch
	for i := 0; i < len(c.Packets); i += n {
		end := min(i+n, len(c.Packets))
		bt := &packet.Batch{Verdicts: make([]packet.Verdict, end-i)}
		for _, p := range c.Packets[i:end] {
			info := packet.Info{Timestamp: p.TsNanos, CapLen: uint32(len(p.Data)), WireLen: p.WireLen, LinkType: c.LinkType}
			pk := packet.Packet{Info: info, Data: p.Data}
			packet.Parse(info, pk.Data, &pk.Record)
			bt.Packets = append(bt.Packets, pk)
		}
		batches = append(batches, bt)
	}
	return batches
}

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
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if g != nil {
					g.Set(1 << 40)
				}
				stack[0] = 1500
				if err := fn.CallWithStack(ctx, stack); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
