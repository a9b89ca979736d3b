package wasm

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"testing"
	"time"

	"github.com/wringcap/wring/analyzers/bundled"
	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/internal/trafficgen"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/wringcap/wring/internal/cputime"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/wasm/internal/fuel"
)

// TestFuelAB interleaves metered and unmetered calls of the scan benchmark's
// module (set WRING_FUEL_AB=1): 400 rounds of 200 calls of each, and prints
// the minimum and median per-call wall and thread CPU times of each: on a
// noisy machine this pairs the two far better than separate benchmarks.
func TestFuelAB(t *testing.T) {
	if os.Getenv("WRING_FUEL_AB") == "" {
		t.Skip("set WRING_FUEL_AB=1")
	}
	bin := watFile(t, "scan.wat")
	metered, _ := fuel.Rewrite(bin, spec.ExportFuel, 1<<62)
	ctx := context.Background()
	type fn struct {
		f api.Function
		g api.MutableGlobal
	}
	mk := func(b []byte) fn {
		rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler())
		t.Cleanup(func() { rt.Close(ctx) })
		mod, err := rt.Instantiate(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		data := make([]byte, 1500)
		for i := range data {
			data[i] = byte(i * 7)
		}
		mod.Memory().Write(0x10000, data)
		g, _ := mod.ExportedGlobal(spec.ExportFuel).(api.MutableGlobal)
		return fn{mod.ExportedFunction("scan"), g}
	}
	fs := []fn{mk(metered), mk(bin)}
	stack := make([]uint64, 1)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var times, cpu [2][]float64
	for round := 0; round < 400; round++ {
		for k, f := range fs {
			start, c0 := time.Now(), cputime.Thread()
			for i := 0; i < 200; i++ {
				if f.g != nil {
					f.g.Set(1 << 40)
				}
				stack[0] = 1500
				f.f.CallWithStack(ctx, stack)
			}
			cpu[k] = append(cpu[k], float64(cputime.Thread()-c0)/200)
			times[k] = append(times[k], float64(time.Since(start).Nanoseconds())/200)
		}
	}
	for _, m := range []struct {
		what string
		v    *[2][]float64
	}{{"wall", &times}, {"thread CPU", &cpu}} {
		for k, name := range []string{"metered", "unmetered"} {
			sort.Float64s(m.v[k])
			t.Logf("%s: %s min %.0f ns/call, median %.0f", name, m.what, m.v[k][0], m.v[k][len(m.v[k])/2])
		}
		a, b := m.v[0], m.v[1]
		t.Logf("overhead (%s): min %.1f%%, median %.1f%%", m.what, 100*(a[0]/b[0]-1), 100*(a[len(a)/2]/b[len(b)/2]-1))
	}
}

// TestFuelABAnalyzers interleaves metered and unmetered hosts running the
// bundled HTTP and TLS analyzers over the same batches (WRING_FUEL_AB=1).
func TestFuelABAnalyzers(t *testing.T) {
	if os.Getenv("WRING_FUEL_AB") == "" {
		t.Skip("set WRING_FUEL_AB=1")
	}
	path := filepath.Join(t.TempDir(), "m.pcap")
	f, _ := os.Create(path)
	if err := trafficgen.Generate(f, trafficgen.Config{Seed: 1, Count: 5000}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	c, err := corpus.ReadCapture(path)
	if err != nil {
		t.Fatal(err)
	}
	var batches []*packet.Batch
	for i := 0; i < len(c.Packets); i += 256 {
		bt := &packet.Batch{Verdicts: make([]packet.Verdict, min(256, len(c.Packets)-i))}
		for _, p := range c.Packets[i:min(i+256, len(c.Packets))] {
			info := packet.Info{Timestamp: p.TsNanos, WireLen: p.WireLen, LinkType: c.LinkType}
			pk := packet.Packet{Info: info, Data: p.Data}
			packet.Parse(info, pk.Data, &pk.Record)
			bt.Packets = append(bt.Packets, pk)
		}
		batches = append(batches, bt)
	}
	for _, name := range []string{"http", "tls"} {
		bin, err := bundled.Module(name)
		if err != nil {
			t.Fatal(err)
		}
		var ws [2]*Worker
		for k, cfg := range []Config{testConfig(nil).WithFuel(0).WithInitFuel(0), testConfig(nil).WithFuel(0).WithInitFuel(0).WithoutFuel()} {
			h := newHost(t, cfg, Analyzer{Name: name, Binary: bin})
			ws[k] = h.NewWorker()
		}
		var times [2][]float64
		for round := 0; round < 30; round++ {
			for k, w := range ws {
				start := time.Now()
				n := 0
				for _, bt := range batches {
					clear(bt.Verdicts)
					w.Handle(bt)
					n += len(bt.Packets)
				}
				times[k] = append(times[k], float64(time.Since(start).Nanoseconds())/float64(n))
			}
		}
		for k := range times {
			sort.Float64s(times[k])
		}
		t.Logf("%s: metered min %.0f median %.0f ns/pkt; unmetered min %.0f median %.0f; overhead min %.1f%% median %.1f%%", name,
			times[0][0], times[0][15], times[1][0], times[1][15], 100*(times[0][0]/times[1][0]-1), 100*(times[0][15]/times[1][15]-1))
	}
}
