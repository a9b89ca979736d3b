package fuel

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/wasm/internal/shape"
	"github.com/wringcap/wring/wasm/internal/wat"
)

const loopWAT = `(module
  (memory (export "memory") 1)
  (global $g (mut i32) (i32.const 7))
  (func (export "sum") (param $n i32) (result i64)
    (local $acc i64)
    (block $out
      (loop $top
        (br_if $out (i32.eqz (local.get $n)))
        (local.set $acc (i64.add (local.get $acc) (i64.extend_i32_u (local.get $n))))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $top)))
    (local.get $acc))
  (func $rec (export "rec") (param $n i32) (result i32)
    (if (result i32) (i32.eqz (local.get $n))
      (then (i32.const 0))
      (else (i32.add (i32.const 1) (call $rec (i32.sub (local.get $n) (i32.const 1)))))))
  (func (export "spin") (loop $l (br $l)))
  (func (export "g") (result i32) (global.get $g))
  ;; Two results: no one-byte block type wraps the body, so its charges trap
  ;; inline.
  (func (export "pair") (param $n i32) (result i32 i64)
    (local $acc i64)
    (block $out
      (loop $top
        (br_if $out (i32.eqz (local.get $n)))
        (local.set $acc (i64.add (local.get $acc) (i64.extend_i32_u (local.get $n))))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $top)))
    (i32.const 1) (local.get $acc))
  (func (export "spin2") (result i32 i64) (loop $l (br $l)) (unreachable))
  ;; A branch to the function's label from inside a loop of a wrapped body.
  (func (export "early") (param $n i32) (result i32)
    (loop $l
      (br_if 1 (i32.const 5) (i32.eqz (local.get $n)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $l))
    (i32.const 9)))`

func compileWAT(t testing.TB, src string) []byte {
	t.Helper()
	b, err := wat.Compile(src)
	if errors.Is(err, wat.ErrNoTool) {
		corpus.Unavailable(t, err.Error())
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type inst struct {
	mod  api.Module
	fuel api.MutableGlobal
}

func instantiate(t testing.TB, bin []byte) inst {
	t.Helper()
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler())
	t.Cleanup(func() { rt.Close(ctx) })
	mod, err := rt.Instantiate(ctx, bin)
	if err != nil {
		t.Fatal(err)
	}
	g, _ := mod.ExportedGlobal("__fuel").(api.MutableGlobal)
	return inst{mod: mod, fuel: g}
}

func TestMeteredResultsMatch(t *testing.T) {
	bin := compileWAT(t, loopWAT)
	metered, err := Rewrite(bin, "__fuel", 1000)
	if err != nil {
		t.Fatal(err)
	}
	plain := instantiate(t, bin)
	m := instantiate(t, metered)
	if m.fuel == nil {
		t.Fatal("the metered module does not export a mutable __fuel global")
	}
	if got := int64(m.fuel.Get()); got != 1000 {
		t.Fatalf("initial fuel %d, want 1000", got)
	}
	ctx := context.Background()
	for _, n := range []uint64{0, 1, 10, 1000} {
		want, err := plain.mod.ExportedFunction("sum").Call(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		m.fuel.Set(1 << 40)
		got, err := m.mod.ExportedFunction("sum").Call(ctx, n)
		if err != nil {
			t.Fatalf("sum(%d) metered: %v", n, err)
		}
		if got[0] != want[0] {
			t.Fatalf("sum(%d) = %d metered, %d plain", n, got[0], want[0])
		}
		used := int64(1<<40) - int64(m.fuel.Get())
		// At least one unit per iteration and per call, at most the whole
		// body per iteration, counting the iterations an unrolled loop's
		// last group of copies did not run (TestUnrolledAccounting is
		// exact).
		if used < int64(n)+1 || used > int64(n+unrollMaxK)*40 {
			t.Fatalf("sum(%d) used %d fuel", n, used)
		}
	}
	for _, fn := range []string{"pair", "early"} {
		for _, n := range []uint64{0, 1, 10} {
			want, err := plain.mod.ExportedFunction(fn).Call(ctx, n)
			if err != nil {
				t.Fatal(err)
			}
			m.fuel.Set(1 << 40)
			got, err := m.mod.ExportedFunction(fn).Call(ctx, n)
			if err != nil {
				t.Fatalf("%s(%d) metered: %v", fn, n, err)
			}
			if len(got) != len(want) || got[0] != want[0] || got[len(got)-1] != want[len(want)-1] {
				t.Fatalf("%s(%d) = %v metered, %v plain", fn, n, got, want)
			}
			if used := int64(1<<40) - int64(m.fuel.Get()); used < int64(n)+1 {
				t.Fatalf("%s(%d) used %d fuel", fn, n, used)
			}
		}
	}
	g, err := m.mod.ExportedFunction("g").Call(ctx)
	if err != nil || g[0] != 7 {
		t.Fatalf("the module's own global moved: %v %v", g, err)
	}
}

func TestFuelTraps(t *testing.T) {
	bin := compileWAT(t, loopWAT)
	metered, err := Rewrite(bin, "__fuel", 0)
	if err != nil {
		t.Fatal(err)
	}
	m := instantiate(t, metered)
	ctx := context.Background()
	for _, tc := range []struct {
		fn   string
		args []uint64
	}{{"spin", nil}, {"rec", []uint64{1 << 30}}, {"sum", []uint64{1 << 31}},
		{"spin2", nil}, {"pair", []uint64{1 << 31}}, {"early", []uint64{1 << 31}}} {
		m.fuel.Set(100000)
		_, err := m.mod.ExportedFunction(tc.fn).Call(ctx, tc.args...)
		if err == nil {
			t.Fatalf("%s: no trap with 100000 fuel", tc.fn)
		}
		if f := int64(m.fuel.Get()); f >= 0 {
			t.Fatalf("%s: trapped (%v) with fuel %d left", tc.fn, err, f)
		}
	}
	// The instance still answers after a fuel trap.
	m.fuel.Set(1000)
	if r, err := m.mod.ExportedFunction("sum").Call(ctx, 3); err != nil || r[0] != 6 {
		t.Fatalf("sum(3) after traps = %v, %v", r, err)
	}
}

func TestNoGlobalOrExportSection(t *testing.T) {
	bin := compileWAT(t, `(module (func (param i32) (result i32) (local.get 0)) (start 1) (func nop))`)
	metered, err := Rewrite(bin, "__fuel", 5)
	if err != nil {
		t.Fatal(err)
	}
	m := instantiate(t, metered)
	if m.fuel == nil {
		t.Fatal("no fuel export")
	}
	if f := int64(m.fuel.Get()); f >= 5 || f < 0 {
		t.Fatalf("start function did not consume fuel: %d", f)
	}
}

func TestReservedExport(t *testing.T) {
	bin := compileWAT(t, `(module (global (export "__fuel") (mut i64) (i64.const 0)))`)
	if _, err := Rewrite(bin, "__fuel", 0); !errors.Is(err, ErrReservedExport) {
		t.Fatalf("err = %v, want ErrReservedExport", err)
	}
}

func TestImportedGlobalIndex(t *testing.T) {
	bin := compileWAT(t, `(module
	  (import "env" "g" (global i32))
	  (global (mut i32) (i32.const 3))
	  (func (export "f") (result i32) (global.get 1)))`)
	metered, err := Rewrite(bin, "__fuel", 10)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	env := compileWAT(t, `(module (global (export "g") i32 (i32.const 9)))`)
	if _, err := rt.InstantiateWithConfig(ctx, env, wazero.NewModuleConfig().WithName("env")); err != nil {
		t.Fatal(err)
	}
	mod, err := rt.Instantiate(ctx, metered)
	if err != nil {
		t.Fatal(err)
	}
	g := mod.ExportedGlobal("__fuel")
	if g == nil || g.Type() != api.ValueTypeI64 {
		t.Fatal("fuel global missing or not i64")
	}
	r, err := mod.ExportedFunction("f").Call(ctx)
	if err != nil || r[0] != 3 {
		t.Fatalf("f() = %v, %v", r, err)
	}
}

func TestMalformed(t *testing.T) {
	for _, b := range [][]byte{nil, []byte("\x00asm"), []byte("\x00asm\x02\x00\x00\x00"), []byte("\x00asm\x01\x00\x00\x00\x0a\x05\x01\x03\x00\x00")} {
		if _, err := Rewrite(b, "__fuel", 0); !errors.Is(err, ErrMalformed) {
			t.Errorf("%x: err = %v, want ErrMalformed", b, err)
		}
	}
}

// TestFuelNotNameable checks that a module naming the fuel local or global,
// or branching to the block that wraps a body, invalid as it stands and
// valid once rewritten, is refused: it could otherwise refill its own fuel.
func TestFuelNotNameable(t *testing.T) {
	const head = "\x00asm\x01\x00\x00\x00\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00"
	for name, body := range map[string]string{
		"local.set":  "\x00\x42\x00\x21\x00\x0b",     // no locals: index 0 is the fuel local
		"local.get":  "\x01\x01\x7f\x20\x01\x1a\x0b", // one i32 local: index 1 is the fuel local
		"global.set": "\x00\x42\x7f\x24\x00\x0b",     // no globals: index 0 is the fuel global
		"global.get": "\x00\x23\x00\x1a\x0b",
		"br":         "\x00\x0c\x01\x0b", // depth 1 names the block wrapping the body
		"br_table":   "\x00\x41\x00\x0e\x00\x01\x0b",
	} {
		code := "\x01" + string(rune(len(body)+0)) + body
		bin := []byte(head + "\x0a" + string(rune(len(code))) + code)
		if _, err := Rewrite(bin, "__fuel", 0); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", name, err)
		}
	}
	// The same bodies with the index in range are accepted.
	ok := "\x01\x01\x7f\x20\x00\x1a\x0b"
	code := "\x01" + string(rune(len(ok))) + ok
	if _, err := Rewrite([]byte(head+"\x0a"+string(rune(len(code)))+code), "__fuel", 0); err != nil {
		t.Errorf("valid local.get: %v", err)
	}
}

// FuzzRewrite checks that the rewriter never panics, and that whatever
// wazero accepts before rewriting it still accepts after. Only modules
// within the shape limits reach wazero, as in the host: wazero sizes its
// structures from what a module declares, and a 60-byte table section
// declaring 850M tables (seed b222c3f769271409) cost it a minute and 3 GB.
func FuzzRewrite(f *testing.F) {
	for _, src := range []string{loopWAT, shapesWAT, `(module (func (export "f") (loop (br 0))))`} {
		b, err := wat.Compile(src)
		if err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("\x00asm\x01\x00\x00\x00"))
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer rt.Close(ctx)
	f.Fuzz(func(t *testing.T, bin []byte) {
		out, err := Rewrite(bin, "__fuel", 1)
		if shape.Check(bin, shape.DefaultLimits()) != nil {
			return
		}
		if err != nil {
			// The host never hands a module the rewriter rejects to wazero
			// (which can spend minutes on a 14-byte module declaring 2^31
			// functions: seed 9d0b00e262185019).
			return
		}
		cm, cerr := rt.CompileModule(ctx, bin)
		cm2, err := rt.CompileModule(ctx, out)
		if cerr != nil && err == nil && strings.Contains(cerr.Error(), "custom section") {
			// wazero fails to read an empty custom section name at the very
			// end of a module (seed a574cda86ee9374b) and reads it fine once
			// the rewriter's sections follow it; custom sections carry no
			// semantics.
			cm2.Close(ctx)
			return
		}
		if (cerr == nil) != (err == nil) {
			t.Fatalf("original compiles: %v; rewritten: %v", cerr, err)
		}
		if cerr == nil {
			cm.Close(ctx)
			cm2.Close(ctx)
		}
		// The host's configuration: the stack budget and fuel slices. It
		// must accept and produce a valid module exactly when the plain
		// rewrite does.
		out3, err3 := RewriteWithOptions(bin, "__fuel", 1, Options{StackExport: "__stack", ReserveExport: "__reserve"})
		if err3 != nil {
			if cerr == nil && !errors.Is(err3, ErrReservedExport) {
				t.Fatalf("the plain rewrite compiles, the host's fails: %v", err3)
			}
			return
		}
		cm3, err := rt.CompileModule(ctx, out3)
		if (cerr == nil) != (err == nil) {
			t.Fatalf("original compiles: %v; rewritten with slices: %v", cerr, err)
		}
		if err == nil {
			cm3.Close(ctx)
		}
	})
}
