package wasm_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"testing"

	"github.com/wringcap/wring/analyzers/bundled"
	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/wasm"
)

// TestMeteringKeepsSemantics runs each bundled analyzer (compiled Go and C,
// thousands of functions) with and without the fuel rewrite over the mixed
// capture: events, verdicts and counters must be identical. By default it
// checks the HTTP analyzer; WRING_FUEL_ALL=1 checks every bundled one (each
// costs two compilations of a 1.9 MB module).
func TestMeteringKeepsSemantics(t *testing.T) {
	c, err := corpus.ReadCapture(mixedCapture(t, 3000))
	if err != nil {
		t.Fatal(err)
	}
	bundledHost(t, "http", nil) // sets up the compilation cache directory
	for _, a := range bundled.List() {
		if a.Name != "http" && os.Getenv("WRING_FUEL_ALL") != "1" {
			continue
		}
		t.Run(a.Name, func(t *testing.T) {
			bin, err := bundled.Module(a.Name)
			if err != nil {
				t.Fatal(err)
			}
			var events [2]bytes.Buffer
			var verdicts [2][]byte
			var counters [2][]wasm.Counter
			for k := 0; k < 2; k++ {
				cfg := wasm.NewConfig().WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))).WithEvents(&events[k]).WithCompilationCacheDir(cacheDir)
				if k == 1 {
					cfg = cfg.WithoutFuel()
				}
				h, err := wasm.NewHost(context.Background(), cfg, wasm.Analyzer{Name: a.Name, Binary: bin})
				if err != nil {
					t.Fatal(err)
				}
				for _, bt := range mkBatches(c, 256) {
					if err := h.Handle(bt); err != nil {
						t.Fatal(err)
					}
					for _, v := range bt.Verdicts {
						verdicts[k] = append(verdicts[k], byte(v.Action), byte(v.Tag), byte(v.Sink))
					}
				}
				h.Close(context.Background())
				counters[k] = h.Counters()
				if s := h.Stats()[0]; s.Failures != 0 {
					t.Fatalf("%+v", s)
				}
			}
			if !bytes.Equal(events[0].Bytes(), events[1].Bytes()) {
				t.Errorf("events differ (%d vs %d bytes)", events[0].Len(), events[1].Len())
			}
			if !bytes.Equal(verdicts[0], verdicts[1]) {
				t.Error("verdicts differ")
			}
			if len(counters[0]) != len(counters[1]) {
				t.Fatal("counter sets differ")
			}
			for i := range counters[0] {
				if counters[0][i] != counters[1][i] {
					t.Errorf("counter %+v metered, %+v unmetered", counters[0][i], counters[1][i])
				}
			}
		})
	}
}
