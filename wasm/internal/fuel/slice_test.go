package fuel

import (
	"context"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// sliced rewrites bin with fuel slices of the given size and a total budget.
func sliced(t testing.TB, bin []byte, budget, slice int64) []byte {
	t.Helper()
	m, err := rewrite(bin, "__fuel", budget, options{reserveExport: "__reserve", slice: slice})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// left is the fuel a sliced instance has left: its slice plus its reserve.
func left(mod api.Module) int64 {
	return int64(mod.ExportedGlobal("__fuel").Get()) + int64(mod.ExportedGlobal("__reserve").Get())
}

// setFuel gives a sliced instance budget units, as the host does before a
// call: one slice in the fuel global, the rest in the reserve.
func setFuel(mod api.Module, budget, slice int64) {
	f := min(budget, slice)
	mod.ExportedGlobal("__fuel").(api.MutableGlobal).Set(uint64(f))
	mod.ExportedGlobal("__reserve").(api.MutableGlobal).Set(uint64(budget - f))
}

// TestSlicesChargeTheSame runs random programs rewritten without slices and
// with slices of 1, 7, 64 and the default size: every call returns the same
// values, is charged exactly the same fuel, and, with a budget too small,
// runs out of fuel in the same calls.
func TestSlicesChargeTheSame(t *testing.T) {
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer rt.Close(ctx)
	var calls, refills, exhausted int
	for seed := range uint64(120) {
		gen := progGen{r: rand.New(rand.NewPCG(seed, 0x511ce))}
		bin := propertyModule(gen.body(1), gen.body(2))
		plain, err := rewrite(bin, "__fuel", 1<<40, options{})
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		for _, slice := range []int64{1, 7, 64, DefaultSlice} {
			// Fresh instances of both: the programs grow tables and
			// memories, whose sizes they return.
			pm, err := rt.InstantiateWithConfig(ctx, plain, wazero.NewModuleConfig().WithName(""))
			if err != nil {
				t.Fatalf("seed %d: %v", seed, err)
			}
			pf := pm.ExportedGlobal("__fuel").(api.MutableGlobal)
			sm, err := rt.InstantiateWithConfig(ctx, sliced(t, bin, 1<<40, slice), wazero.NewModuleConfig().WithName(""))
			if err != nil {
				t.Fatalf("seed %d slice %d: %v", seed, slice, err)
			}
			for _, fn := range []string{"f", "g"} {
				for _, arg := range []uint64{0, 1, 77, 0xfffffff0} {
					for _, budget := range []int64{1 << 40, 40, 300} {
						pf.Set(uint64(budget))
						setFuel(sm, budget, slice)
						r1, err1 := pm.ExportedFunction(fn).Call(ctx, arg)
						r2, err2 := sm.ExportedFunction(fn).Call(ctx, arg)
						if (err1 == nil) != (err2 == nil) {
							t.Fatalf("seed %d slice %d %s(%d) budget %d: unsliced %v, sliced %v", seed, slice, fn, arg, budget, err1, err2)
						}
						if err1 != nil {
							if int64(pf.Get()) >= 0 || int64(sm.ExportedGlobal("__fuel").Get()) >= 0 {
								t.Fatalf("seed %d slice %d %s(%d): a trap other than fuel: %v / %v", seed, slice, fn, arg, err1, err2)
							}
							exhausted++
							continue
						}
						for i := range r1 {
							if r1[i] != r2[i] {
								t.Fatalf("seed %d slice %d %s(%d): results %v, sliced %v", seed, slice, fn, arg, r1, r2)
							}
						}
						c1, c2 := budget-int64(pf.Get()), budget-left(sm)
						if c1 != c2 {
							t.Fatalf("seed %d slice %d %s(%d): charged %d, sliced %d", seed, slice, fn, arg, c1, c2)
						}
						if c2 > min(budget, slice) {
							refills++
						}
						calls++
					}
				}
			}
			sm.Close(ctx)
			pm.Close(ctx)
		}
	}
	if refills == 0 || exhausted == 0 {
		t.Fatalf("the programs never needed a refill (%d) or never ran out (%d): the test checks nothing", refills, exhausted)
	}
	t.Logf("%d calls charged the same with and without slices (%d of them refilled), %d ran out of fuel in both", calls, refills, exhausted)
}

// TestSliceStopsCallFreeLoop: a loop that makes no call never writes its
// fuel back, so without slices the host's stop (-1 in the fuel global) is
// seen only when the whole budget is spent. With slices the refill reads
// the global, so the loop stops within a slice, and it yields to Go at
// every refill, so a garbage collection started meanwhile completes while
// the guest runs (compiled code, where the Go runtime cannot preempt).
func TestSliceStopsCallFreeLoop(t *testing.T) {
	if runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64" {
		t.Skip("wazero compiles guest code on amd64 and arm64 only; the interpreter is preemptible Go code")
	}
	bin := compileWAT(t, loopWAT)
	rt := newRuntime(t)
	ctx := context.Background()
	mod, err := rt.Instantiate(ctx, sliced(t, bin, 1<<40, 1<<16))
	if err != nil {
		t.Fatal(err)
	}
	for _, fn := range []string{"spin", "spin2"} {
		setFuel(mod, 1<<62, 1<<16) // years of work without a stop
		done := make(chan error, 1)
		start := time.Now()
		go func() {
			_, err := mod.ExportedFunction(fn).Call(ctx)
			done <- err
		}()
		time.Sleep(20 * time.Millisecond)
		// A collection needs every goroutine at a safe point, the one
		// running the guest included: it completes only if the guest
		// yields.
		gcDone := make(chan time.Duration, 1)
		go func() {
			t0 := time.Now()
			runtime.GC()
			gcDone <- time.Since(t0)
		}()
		var gc time.Duration
		select {
		case gc = <-gcDone:
		case <-time.After(20 * time.Second):
			mod.ExportedGlobal("__fuel").(api.MutableGlobal).Set(^uint64(0))
			t.Fatalf("%s: a garbage collection did not complete in 20 s while the guest ran", fn)
		}
		select {
		case err := <-done:
			t.Fatalf("%s: returned before the stop: %v", fn, err)
		default:
		}
		stopAt := time.Now()
		mod.ExportedGlobal("__fuel").(api.MutableGlobal).Set(^uint64(0)) // the host's stop
		select {
		case err := <-done:
			if err == nil {
				t.Fatalf("%s: returned without a trap after the stop", fn)
			}
			t.Logf("%s: garbage collection %v while the guest ran; stopped %v after the stop (%v in all)", fn, gc, time.Since(stopAt), time.Since(start))
		case <-time.After(20 * time.Second):
			t.Fatalf("%s: still running 20 s after the stop", fn)
		}
		if int64(mod.ExportedGlobal("__fuel").Get()) >= 0 {
			t.Fatalf("%s: the fuel global does not show the stop", fn)
		}
	}
}

// TestSliceNamesReserved: the reserve's export name must differ from the
// others and from the module's own exports.
func TestSliceNamesReserved(t *testing.T) {
	bin := compileWAT(t, loopWAT)
	if _, err := rewrite(bin, "__fuel", 1, options{reserveExport: "__fuel"}); err == nil {
		t.Fatal("a reserve named like the fuel global was accepted")
	}
	if _, err := rewrite(bin, "__fuel", 1, options{reserveExport: "memory"}); err == nil {
		t.Fatal("a reserve named like one of the module's exports was accepted")
	}
}
