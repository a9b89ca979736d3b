package fuel

import (
	"context"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/wringcap/wring/wasm/internal/wat"

	"github.com/wringcap/wring/wasm/internal/binary"
)

// shapesWAT holds loops of the shapes compilers emit, each small enough to
// be unrolled: every function takes n and returns a value that depends on
// every iteration.
const shapesWAT = `(module
  (memory (export "memory") 1)
  (data (i32.const 0) "GET / HTTP/1.1\0d\0aHost: a\0d\0a\0d\0aGGxG")
  ;; Exit test at the top, branch back at the bottom (a byte scan).
  (func (export "scan") (param $n i32) (result i32)
    (local $i i32) (local $sum i32) (local $g i32) (local $c i32)
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $c (i32.load8_u (local.get $i)))
        (local.set $sum (i32.add (local.get $sum) (local.get $c)))
        (local.set $g (i32.add (local.get $g) (i32.eq (local.get $c) (i32.const 0x47))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (i32.add (local.get $sum) (i32.mul (local.get $g) (i32.const 1000))))
  ;; Rotated: the test at the bottom branches back.
  (func (export "dowhile") (param $n i32) (result i32)
    (local $i i32) (local $acc i32)
    (loop $l
      (local.set $acc (i32.add (i32.mul (local.get $acc) (i32.const 31)) (local.get $i)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $acc))
  ;; A loop with a result, falling out of its end.
  (func (export "loopres") (param $n i32) (result i32)
    (local $acc i32)
    (loop $l (result i32)
      (local.set $acc (i32.add (local.get $acc) (local.get $n)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (i32.gt_s (local.get $n) (i32.const 0)))
      (i32.xor (local.get $acc) (i32.const 0x55))))
  ;; Two exits carrying a value to an outer block, one to a block inside.
  (func (export "valexit") (param $n i32) (result i32)
    (local $i i32)
    (block $out (result i32)
      (loop $l
        (br_if $out (i32.const 7) (i32.eq (local.get $i) (local.get $n)))
        (block $skip
          (br_if $skip (i32.and (local.get $i) (i32.const 1)))
          (local.set $i (i32.add (local.get $i) (i32.const 1))))
        (br_if $out (i32.add (local.get $i) (i32.const 100)) (i32.gt_u (local.get $i) (i32.const 40)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l))
      (i32.const -1)))
  ;; A br_table naming the loop, an inner block and an outer one.
  (func (export "table") (param $n i32) (result i32)
    (local $i i32) (local $acc i32)
    (block $out
      (loop $l
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (block $odd
          (br_table $l $odd $out (i32.rem_u (i32.add (local.get $i) (local.get $n)) (i32.const 3))))
        (local.set $acc (i32.add (local.get $acc) (local.get $i)))
        (br_if $l (i32.lt_u (local.get $i) (i32.const 50)))))
    (i32.add (local.get $acc) (i32.mul (local.get $i) (i32.const 1000))))
  ;; An inner loop (unrolled) continuing its outer loop (not unrolled).
  (func (export "nested") (param $n i32) (result i32)
    (local $i i32) (local $j i32) (local $acc i32)
    (block $done
      (loop $outer
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (local.set $j (i32.const 0))
        (loop $inner
          (local.set $acc (i32.add (local.get $acc) (i32.mul (local.get $i) (local.get $j))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br_if $outer (i32.eq (local.get $j) (i32.rem_u (local.get $i) (i32.const 5))))
          (br_if $inner (i32.lt_u (local.get $j) (local.get $i))))
        (local.set $acc (i32.add (local.get $acc) (i32.const 1000)))
        (br $outer)))
    (local.get $acc))
  ;; An exit to the function's label, and one inside an if with a result.
  (func (export "early") (param $n i32) (result i32)
    (local $i i32)
    (if (result i32) (i32.gt_u (local.get $n) (i32.const 3))
      (then
        (loop $l
          (br_if 2 (i32.const 5) (i32.eq (local.get $i) (i32.const 17)))
          (br_if 1 (i32.mul (local.get $i) (i32.const 3)) (i32.eq (local.get $i) (local.get $n)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $l))
        (i32.const 0))
      (else (i32.const 9)))))`

var shapes = []string{"scan", "dowhile", "loopres", "valexit", "table", "nested", "early"}

// TestUnrolledResultsMatch runs each loop shape unmetered, metered without
// unrolling and metered with it: the results must agree, and the unrolling
// must have taken place (TestUnrolledAccounting checks the charges).
func TestUnrolledResultsMatch(t *testing.T) {
	bin := compileWAT(t, shapesWAT)
	metered, err := Rewrite(bin, "__fuel", 1000)
	if err != nil {
		t.Fatal(err)
	}
	rolled, err := rewrite(bin, "__fuel", 1000, options{noUnroll: true})
	if err != nil {
		t.Fatal(err)
	}
	// Every shape unrolls: each adds blocks and copies of its body.
	if len(metered) < len(rolled)+len(shapes)*40 {
		t.Fatalf("unrolled module %d bytes, %d without unrolling", len(metered), len(rolled))
	}
	plain, m, r := instantiate(t, bin), instantiate(t, metered), instantiate(t, rolled)
	ctx := context.Background()
	for _, fn := range shapes {
		for n := uint64(0); n < 60; n++ {
			want, err := plain.mod.ExportedFunction(fn).Call(ctx, n)
			if err != nil {
				t.Fatalf("%s(%d): %v", fn, n, err)
			}
			for _, x := range []inst{m, r} {
				x.fuel.Set(1 << 40)
				got, err := x.mod.ExportedFunction(fn).Call(ctx, n)
				if err != nil {
					t.Fatalf("%s(%d) metered: %v", fn, n, err)
				}
				if got[0] != want[0] {
					t.Fatalf("%s(%d) = %d metered, %d plain", fn, n, int32(got[0]), int32(want[0]))
				}
			}
		}
	}
}

// TestUnrolledAccounting checks the stated bounds on a loop whose executed
// instructions are counted by hand: sum(n) in loopWAT runs 13 instructions
// per iteration (local.get, i32.eqz, br_if, local.get, local.get,
// i64.extend_i32_u, i64.add, local.set, local.get, i32.const, i32.sub,
// local.set, br), and 8 outside them (block, loop, the last test's three,
// block end, local.get, function end): 13n+8 in all. The charge must be at
// least that, and at most that plus k-1 iterations not run, one loop end per
// group of k iterations and the function's region (16 instructions).
func TestUnrolledAccounting(t *testing.T) {
	bin := compileWAT(t, loopWAT)
	metered, err := Rewrite(bin, "__fuel", 1000)
	if err != nil {
		t.Fatal(err)
	}
	m := instantiate(t, metered)
	const b, k = 13, min(unrollMaxK, unrollTarget/13)
	for _, n := range []int64{0, 1, 7, 8, 9, 100, 1000, 12345} {
		m.fuel.Set(1 << 40)
		if _, err := m.mod.ExportedFunction("sum").Call(context.Background(), uint64(n)); err != nil {
			t.Fatal(err)
		}
		used := int64(1<<40) - int64(m.fuel.Get())
		executed := b*n + 8
		groups := (n + 1 + k - 1) / k
		if used < executed || used > executed+(k-1)*b+groups+16 {
			t.Errorf("sum(%d): charged %d for %d instructions executed", n, used, executed)
		}
	}
}

// TestUnrolledFuelTraps checks that unrolled loops still run out: a loop
// that never exits, and long scans given too little fuel.
func TestUnrolledFuelTraps(t *testing.T) {
	bin := compileWAT(t, shapesWAT)
	metered, err := Rewrite(bin, "__fuel", 0)
	if err != nil {
		t.Fatal(err)
	}
	m := instantiate(t, metered)
	ctx := context.Background()
	for _, fn := range []string{"scan", "dowhile", "nested"} {
		m.fuel.Set(200)
		if _, err := m.mod.ExportedFunction(fn).Call(ctx, 1<<16); err == nil {
			t.Fatalf("%s: no trap with 200 fuel", fn)
		}
		if f := int64(m.fuel.Get()); f >= 0 {
			t.Fatalf("%s: trapped with fuel %d left", fn, f)
		}
	}
}

// FuzzUnroll fuzzes function bodies (one i32 parameter, one i32 result, four
// i32 locals, a page of memory): whatever wazero accepts before rewriting it
// still accepts after, and the metered module gives the same result with
// and without unrolling whenever both finish.
func FuzzUnroll(f *testing.F) {
	for _, src := range []string{shapesWAT, loopWAT} {
		b, err := wat.Compile(src)
		if err != nil {
			continue
		}
		for _, body := range funcBodies(b) {
			f.Add(body)
		}
	}
	ctx := context.Background()
	// A memory limit, as in the host: fuel counts a memory.grow as one
	// instruction, and seed db334f4b400df18f, a loop growing the memory
	// by 37 pages, reached wazero's 4 GiB default within its fuel and
	// ran past the test timeout.
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter().WithMemoryLimitPages(64))
	defer rt.Close(ctx)
	f.Fuzz(func(t *testing.T, code []byte) {
		if len(code) > 4096 {
			return
		}
		body := append([]byte{1, 4, 0x7f}, code...)
		mod := []byte("\x00asm\x01\x00\x00\x00" +
			"\x01\x06\x01\x60\x01\x7f\x01\x7f" + // type: (i32) -> i32
			"\x03\x02\x01\x00" + // one function
			"\x05\x03\x01\x00\x01" + // memory 1
			"\x07\x05\x01\x01f\x00\x00") // export "f"
		sec := appendU32(appendU32(nil, 1), uint32(len(body)))
		sec = append(sec, body...)
		mod = append(append(mod, secCode), appendU32(nil, uint32(len(sec)))...)
		mod = append(mod, sec...)
		unrolled, err := Rewrite(mod, "__fuel", 0)
		if err != nil {
			return
		}
		rolled, err := rewrite(mod, "__fuel", 0, options{noUnroll: true})
		if err != nil {
			t.Fatalf("rewrites with unrolling, not without: %v", err)
		}
		cm, cerr := rt.CompileModule(ctx, mod)
		cu, uerr := rt.CompileModule(ctx, unrolled)
		if (cerr == nil) != (uerr == nil) {
			t.Fatalf("original compiles: %v; unrolled: %v", cerr, uerr)
		}
		if cerr != nil {
			return
		}
		defer cm.Close(ctx)
		defer cu.Close(ctx)
		var res [2]uint64
		var ok [2]bool
		for i, bin := range [][]byte{unrolled, rolled} {
			m, err := rt.InstantiateWithConfig(ctx, bin, wazero.NewModuleConfig().WithName(""))
			if err != nil {
				t.Fatalf("instantiate: %v", err)
			}
			m.ExportedGlobal("__fuel").(api.MutableGlobal).Set(20000)
			r, err := m.ExportedFunction("f").Call(ctx, 37)
			if err == nil {
				res[i], ok[i] = r[0], true
			}
			m.Close(ctx)
		}
		if ok[0] && ok[1] && res[0] != res[1] {
			t.Fatalf("f(37) = %d unrolled, %d not", res[0], res[1])
		}
	})
}

// funcBodies returns the code of each function body of bin (after the local
// declarations), rewritten to declare nothing: usable by FuzzUnroll when it
// names at most three locals.
func funcBodies(bin []byte) [][]byte {
	secs, err := split(bin)
	if err != nil {
		return nil
	}
	var out [][]byte
	for _, s := range secs {
		if s.id != secCode {
			continue
		}
		r := binary.At(s.body, 0)
		n := r.U32()
		for i := uint32(0); i < n && r.Err == nil; i++ {
			fn := r.Bytes(int(r.U32()))
			fr := binary.At(fn, 0)
			for g := fr.U32(); g > 0 && fr.Err == nil; g-- {
				fr.U32()
				fr.Byte()
			}
			if fr.Err == nil {
				out = append(out, fn[fr.Pos:])
			}
		}
	}
	return out
}
