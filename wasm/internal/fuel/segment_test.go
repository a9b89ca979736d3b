package fuel

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"

	"github.com/wringcap/wring/wasm/internal/binary"
)

// countingModule returns propertyModule(f, g) with a counter: an exported
// mutable i64 global "count" that every instruction of every function adds
// one to just before it runs (the added code leaves the operand stack as it
// was, so it is valid anywhere). It counts exactly the instructions
// executed: the oracle for the fuel charged.
func countingModule(t testing.TB, f, g []byte) []byte {
	t.Helper()
	count := func(body []byte) []byte {
		r := binary.At(body, 0)
		groups := r.U32()
		for range groups {
			r.U32()
			r.Byte()
		}
		out := append([]byte(nil), body[:r.Pos]...)
		for r.Pos < len(body) {
			start := r.Pos
			if _, err := instr(&r); err != nil {
				t.Fatalf("counting: %v", err)
			}
			out = append(out, 0x23, 0, 0x42, 1, 0x7c, 0x24, 0) // global.get 0; i64.const 1; i64.add; global.set 0
			out = append(out, body[start:r.Pos]...)
		}
		return out
	}
	return buildPropertyModule(f, g, count)
}

// TestFuelCoversExecuted: on random terminating programs, the fuel charged
// is at least the number of instructions executed (counted exactly by
// countingModule), with loop regions kept whole (the default), split into
// segments wherever they can be, and at a threshold of 256.
func TestFuelCoversExecuted(t *testing.T) {
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer rt.Close(ctx)
	for _, c := range []struct {
		split    int64
		noUnroll bool
	}{{0, false}, {1, true}, {256, false}, {1, false}} {
		split := c.split
		var executed, charged, calls int64
		for seed := range uint64(200) {
			gen := progGen{r: rand.New(rand.NewPCG(seed, 0xc0de))}
			f, g := gen.body(1), gen.body(2)
			metered, err := rewrite(propertyModule(f, g), "__fuel", 1<<40, options{noUnroll: c.noUnroll, segmentAbove: split})
			if err != nil {
				t.Fatalf("seed %d: %v", seed, err)
			}
			cm, err := rt.InstantiateWithConfig(ctx, countingModule(t, f, g), wazero.NewModuleConfig().WithName(""))
			if err != nil {
				t.Fatalf("seed %d: counting module: %v", seed, err)
			}
			mm, err := rt.InstantiateWithConfig(ctx, metered, wazero.NewModuleConfig().WithName(""))
			if err != nil {
				t.Fatalf("seed %d: metered module: %v", seed, err)
			}
			cnt, fuel := cm.ExportedGlobal("count"), mm.ExportedGlobal("__fuel")
			for _, fn := range []string{"f", "g"} {
				for _, arg := range []uint64{0, 1, 77, 0xfffffff0} {
					c0, f0 := int64(cnt.Get()), int64(fuel.Get())
					_, err1 := cm.ExportedFunction(fn).Call(ctx, arg)
					_, err2 := mm.ExportedFunction(fn).Call(ctx, arg)
					if (err1 == nil) != (err2 == nil) {
						t.Fatalf("seed %d %s(%d): counting %v, metered %v", seed, fn, arg, err1, err2)
					}
					if err1 != nil {
						continue // a trap: the counter stops where it stopped
					}
					n, c := int64(cnt.Get())-c0, f0-int64(fuel.Get())
					if c < n {
						t.Fatalf("seed %d %s(%d), split above %d: charged %d for %d instructions executed", seed, fn, arg, split, c, n)
					}
					executed += n
					charged += c
					calls++
				}
			}
			cm.Close(ctx)
			mm.Close(ctx)
		}
		t.Logf("split above %d (unrolling off: %v): %d calls, %d instructions executed, %d charged (%.2fx)", split, c.noUnroll, calls, executed, charged, float64(charged)/float64(executed))
	}
}

// dispatchWAT has the shape of Go's wasm code: the function's body is one
// loop around a br_table, and every jump of the source program goes back
// through it. Each of the 24 cases is 12 instructions long; the loop runs
// n iterations of one case each.
func dispatchWAT() string {
	var b strings.Builder
	b.WriteString(`(module (func (export "run") (param $n i32) (result i32) (local $pc i32) (local $acc i32)
  (loop $top
`)
	const cases = 24
	for range cases {
		b.WriteString("(block ")
	}
	b.WriteString("(br_table ")
	for i := range cases {
		fmt.Fprintf(&b, "%d ", i)
	}
	b.WriteString("(i32.rem_u (local.get $pc) (i32.const 24)))")
	for i := range cases {
		fmt.Fprintf(&b, `)
    (local.set $acc (i32.add (i32.mul (local.get $acc) (i32.const %d)) (i32.const %d)))
    (local.set $pc (i32.add (local.get $pc) (i32.const 7)))
    (br_if $top (local.tee $n (i32.sub (local.get $n) (i32.const 1))))
    (return (local.get $acc))`, i+3, i)
	}
	b.WriteString(`)
  (local.get $acc)))`)
	return b.String()
}

// TestDispatchLoopCharge: in a Go-shaped dispatch loop, a region charged
// per segment costs about what runs (one case and the dispatch per
// iteration), where one charge per iteration costs the whole body.
func TestDispatchLoopCharge(t *testing.T) {
	bin := compileWAT(t, dispatchWAT())
	const n = 10_000
	used := map[int64]int64{}
	for _, split := range []int64{0, 256} {
		metered, err := RewriteWithOptions(bin, "__fuel", 1<<40, Options{SegmentAbove: split})
		if err != nil {
			t.Fatal(err)
		}
		m := instantiate(t, metered)
		if _, err := m.mod.ExportedFunction("run").Call(context.Background(), n); err != nil {
			t.Fatal(err)
		}
		used[split] = 1<<40 - int64(m.fuel.Get())
	}
	whole, seg := float64(used[0])/n, float64(used[256])/n
	t.Logf("per iteration: %.1f units with one charge per region, %.1f per segment", whole, seg)
	// An iteration runs the 24 block openings, the dispatch (local.get,
	// i32.const, i32.rem_u, br_table) and one case (15 instructions): 43.
	// Its charges: the header's segment (the openings and the dispatch,
	// 28) and the case's (the case, the return after it and the next
	// block's end, 18).
	const executed = 43
	if seg < executed || seg > executed*5/4 || seg*5 > whole {
		t.Errorf("per segment %.1f units per iteration (whole region %.1f): want %d to %d and under a fifth of the whole", seg, whole, executed, executed*5/4)
	}
}
