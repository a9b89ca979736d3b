package wasm

import (
	"context"
	"errors"
	"testing"

	"github.com/wringcap/wring/wasm/internal/fuel"
)

// TestStopLeavesFuelGlobal: stopping a running call writes the reserve and
// never the fuel global, which the guest reads at every function entry and
// call return and which a -race build's Global.Set writes a byte at a time
// (see backstop.go): a torn fuel value let a guest run without refilling.
func TestStopLeavesFuelGlobal(t *testing.T) {
	h := newHost(t, testConfig(nil), Analyzer{Name: "noop", Binary: watFile(t, "noop.wat")})
	g := h.byName["noop"].cur.Load()
	in, err := g.take(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer g.retire(context.Background(), in)
	if err := in.begin(1<<40, false); err != nil {
		t.Fatal(err)
	}
	before := in.fuel.Get()
	if before != fuel.DefaultSlice {
		t.Fatalf("fuel global %d after begin, want one slice (%d)", int64(before), fuel.DefaultSlice)
	}
	in.stopNow(ErrTimeout)
	in.mu.Lock()
	in.stopFuelLocked() // the watcher's repeat at the next tick
	in.mu.Unlock()
	if got := in.fuel.Get(); got != before {
		t.Errorf("the stop wrote the fuel global: %d, was %d", int64(got), int64(before))
	}
	if got := int64(in.reserve.Get()); got != fuel.StopReserve {
		t.Errorf("reserve %d after the stop, want StopReserve %d", got, int64(fuel.StopReserve))
	}
	if err := in.end(errors.New("trap")); !errors.Is(err, ErrTimeout) {
		t.Errorf("end: %v, want ErrTimeout", err)
	}
}
