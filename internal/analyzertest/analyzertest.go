// Package analyzertest holds what the tests of the Wasm host (wasm) and of
// the bundled analyzers (analyzers/e2e) both need: the generated mixed
// capture, batches parsed from a capture, and a host running one bundled
// analyzer with a compilation cache shared between test runs.
package analyzertest

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/wringcap/wring/analyzers/bundled"
	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/internal/trafficgen"
	"github.com/wringcap/wring/wasm"
)

var (
	cacheOnce sync.Once
	cacheDir  string
)

// CacheDir returns the directory where tests cache compiled modules between
// runs, or "" (no cache) when the system has no cache directory.
func CacheDir() string {
	cacheOnce.Do(func() {
		if d, err := os.UserCacheDir(); err == nil {
			cacheDir = filepath.Join(d, "wring", "wazero-test")
		}
	})
	return cacheDir
}

// Config returns a host configuration for tests: a discarding logger and
// the shared compilation cache.
func Config() wasm.Config {
	return wasm.NewConfig().WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))).WithCompilationCacheDir(CacheDir())
}

// Host loads the bundled analyzer name with its events going to ev (nil:
// none); the host is closed when the test ends.
func Host(tb testing.TB, name string, ev io.Writer) *wasm.Host {
	tb.Helper()
	return HostConfig(tb, name, "", ev)
}

// HostConfig is Host with the analyzer's configuration (key=value lines).
func HostConfig(tb testing.TB, name, config string, ev io.Writer) *wasm.Host {
	tb.Helper()
	bin, err := bundled.Module(name)
	if err != nil {
		tb.Fatal(err)
	}
	cfg := Config()
	if ev != nil {
		cfg = cfg.WithEvents(ev)
	}
	a := wasm.Analyzer{Name: name, Binary: bin}
	if config != "" {
		a.Config = []byte(config)
	}
	h, err := wasm.NewHost(context.Background(), cfg, a)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { h.Close(context.Background()) })
	return h
}

// MixedCapture writes the generated mixed capture of count packets (seed 1)
// to a temporary file and returns its path.
func MixedCapture(tb testing.TB, count int) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "mixed.pcap")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	if err := trafficgen.Generate(f, trafficgen.Config{Seed: 1, Count: count}); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return path
}

// Batches parses c's packets into batches of at most n, with a verdict slot
// per packet.
func Batches(c *corpus.Capture, n int) []*packet.Batch {
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
