package wasm_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/internal/analyzertest"
	"github.com/wringcap/wring/wasm"
)

// TestClosedHostReleasesMemory: Close gives back what a host holds for its
// analyzers (the worker's TCP reassembler, tens of MB by default, and the
// decoded module) even while the caller still holds the Host. Before, a
// test that kept closed hosts in its cleanups grew by about 28 MB a host
// and was killed for memory over the corpus.
func TestClosedHostReleasesMemory(t *testing.T) {
	bin := streamGuest(t, "streams-quiet")
	heap := func() int64 {
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return int64(ms.HeapAlloc)
	}
	const hosts = 4
	var kept []*wasm.Host
	base := heap()
	var open int64
	for i := range hosts {
		h, err := wasm.NewHost(context.Background(), analyzertest.Config(), wasm.Analyzer{Name: "streams", Binary: bin})
		if err != nil {
			t.Fatal(err)
		}
		if err := h.Handle(&packet.Batch{}); err != nil { // makes the worker's reassembler
			t.Fatal(err)
		}
		if i == 0 {
			open = heap() - base
		}
		h.Close(context.Background())
		kept = append(kept, h)
	}
	closed := (heap() - base) / hosts
	t.Logf("an open host holds %d KiB of heap, a closed one %d KiB (%d kept)", open>>10, closed>>10, len(kept))
	if open < 8<<20 {
		t.Fatalf("an open host holds only %d KiB: the reassembler was not made, the test shows nothing", open>>10)
	}
	if closed > open/4 {
		t.Errorf("a closed host still holds %d KiB of the %d KiB it held open", closed>>10, open>>10)
	}
	runtime.KeepAlive(kept)
}
