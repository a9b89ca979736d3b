package fuel

import (
	"context"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

const stackWAT = `(module
  (import "env" "host" (func $host (param i32) (result i32)))
  (type $t (func (param i32) (result i32)))
  (table 2 funcref)
  (elem (i32.const 0) $ind $wide)
  ;; Recurses n deep: one frame of 4 + 1 slots per level.
  (func $down (export "down") (param $n i32) (result i32)
    (if (result i32) (i32.eqz (local.get $n))
      (then (i32.const 0))
      (else (i32.add (i32.const 1) (call $down (i32.sub (local.get $n) (i32.const 1)))))))
  ;; The same through call_indirect and a host call at the bottom.
  (func $ind (export "ind") (param $n i32) (result i32)
    (if (result i32) (i32.eqz (local.get $n))
      (then (call $host (i32.const 7)))
      (else (call_indirect (type $t) (i32.sub (local.get $n) (i32.const 1)) (i32.const 0)))))
  ;; A frame with 90 locals (4 + 1 + 90 slots).
  (func $wide (param $n i32) (result i32) (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64
    i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64
    i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64
    i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64
    i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
    (local.get $n))
  (func (export "callwide") (param $n i32) (result i32) (call $wide (local.get $n)))
  ;; Unbounded recursion.
  (func $forever (export "forever") (param $n i32) (result i32)
    (call $forever (i32.add (local.get $n) (i32.const 1)))))`

// TestStackBudget checks the call stack budget: a call charges its callee's
// frame estimate and gives it back on return (the budget is whole again
// after any call that returned), recursion within the budget runs, and
// recursion past it traps with the budget negative long before the engine's
// own stack ceiling.
func TestStackBudget(t *testing.T) {
	bin := compileWAT(t, stackWAT)
	const budget = 10_000
	metered, err := RewriteWithOptions(bin, "__fuel", 1<<40, Options{StackExport: "__stack", StackSlots: budget})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rt := newRuntime(t)
	_, err = rt.NewHostModuleBuilder("env").NewFunctionBuilder().
		WithFunc(func(x int32) int32 { return x }).Export("host").Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mod, err := rt.Instantiate(ctx, metered)
	if err != nil {
		t.Fatal(err)
	}
	stack, _ := mod.ExportedGlobal("__stack").(api.MutableGlobal)
	fuelG, _ := mod.ExportedGlobal("__fuel").(api.MutableGlobal)
	if stack == nil || fuelG == nil {
		t.Fatal("the rewrite does not export both globals")
	}
	if got := int64(stack.Get()); got != budget {
		t.Fatalf("initial budget %d, want %d", got, budget)
	}
	call := func(fn string, n uint64) (uint64, error) {
		t.Helper()
		stack.Set(budget)
		fuelG.Set(1 << 40)
		r, err := mod.ExportedFunction(fn).Call(ctx, n)
		if err != nil {
			return 0, err
		}
		return r[0], nil
	}
	// $down n deep makes n calls of 5 slots below the entry: 1999 fit in
	// 10,000 slots, 2000 take it to zero (still allowed), 2001 do not.
	for _, c := range []struct {
		fn   string
		n    uint64
		want uint64
		ok   bool
	}{
		{"down", 100, 100, true},
		{"down", 2000, 2000, true},
		{"down", 2001, 0, false},
		{"ind", 90, 7, true},     // call_indirect charges the largest frame, 95 slots, and the host call 4
		{"ind", 1000, 0, false},  // 1000 × 95 > 10,000
		{"callwide", 9, 9, true}, // 95 slots
		{"forever", 0, 0, false},
	} {
		got, err := call(c.fn, c.n)
		left := int64(stack.Get())
		switch {
		case c.ok && err != nil:
			t.Errorf("%s(%d): %v", c.fn, c.n, err)
		case c.ok && (got != c.want || left != budget):
			t.Errorf("%s(%d) = %d, budget left %d; want %d, %d", c.fn, c.n, got, left, c.want, budget)
		case !c.ok && err == nil:
			t.Errorf("%s(%d) returned %d, want a trap", c.fn, c.n, got)
		case !c.ok && (left >= 0 || !strings.Contains(err.Error(), "unreachable")):
			t.Errorf("%s(%d): budget left %d, err %v; want a negative budget and an unreachable trap", c.fn, c.n, left, err)
		}
	}
	// The indirect case: 105 levels and the host call fit (105 × 95 + 4
	// = 9,979), 106 do not.
	if _, err := call("ind", 105); err != nil {
		t.Errorf("ind(105): %v", err)
	}
	if _, err := call("ind", 106); err == nil {
		t.Errorf("ind(106) returned, want a trap")
	}
}

// TestStackBudgetOff checks that without a stack export the rewrite adds no
// second global (Rewrite's output is what it was).
func TestStackBudgetOff(t *testing.T) {
	bin := compileWAT(t, stackWAT)
	a, err := Rewrite(bin, "__fuel", 1000)
	if err != nil {
		t.Fatal(err)
	}
	b, err := RewriteWithOptions(bin, "__fuel", 1000, Options{StackSlots: 5})
	if err != nil {
		t.Fatal(err)
	}
	if string(a) != string(b) {
		t.Error("StackSlots without StackExport changed the rewrite")
	}
	if strings.Contains(string(a), "__stack") {
		t.Error("a rewrite without StackExport exports a stack global")
	}
	if _, err := RewriteWithOptions(bin, "__fuel", 1000, Options{StackExport: "__fuel"}); err == nil {
		t.Error("the stack global was given the fuel global's name")
	}
}

func newRuntime(t testing.TB) wazero.Runtime {
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler())
	t.Cleanup(func() { rt.Close(ctx) })
	return rt
}
