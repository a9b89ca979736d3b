package fuel

import (
	"context"
	"testing"
)

const bulkWAT = `(module
  (memory (export "memory") 1)
  (table $t 8 funcref)
  (table $u 0 externref)
  (elem $e func $size $size $size $size)
  (data $d "0123456789abcdef0123456789abcdef")
  (func (export "grow") (param $n i32) (result i32)
    (table.grow $t (ref.null func) (local.get $n)))
  (func (export "growu") (param $n i32) (result i32)
    (table.grow $u (ref.null extern) (local.get $n)))
  (func $size (export "size") (result i32) (table.size $t))
  ;; Grows $t by one until the grow fails, and returns its size.
  (func (export "growloop") (result i32)
    (block $done
      (loop $l
        (br_if $done (i32.eq (table.grow $t (ref.null func) (i32.const 1)) (i32.const -1)))
        (br $l)))
    (table.size $t))
  (func (export "fill") (param $n i32)
    (memory.fill (i32.const 0) (i32.const 7) (local.get $n)))
  (func (export "copy") (param $n i32)
    (memory.copy (i32.const 100) (i32.const 0) (local.get $n)))
  (func (export "init") (param $n i32)
    (memory.init $d (i32.const 200) (i32.const 0) (local.get $n)))
  (func (export "tfill") (param $n i32)
    (table.fill $t (i32.const 0) (ref.null func) (local.get $n)))
  (func (export "tinit") (param $n i32)
    (table.init $t $e (i32.const 0) (i32.const 0) (local.get $n)))
  (func (export "tcopy") (param $n i32)
    (table.copy $t $t (i32.const 0) (i32.const 0) (local.get $n)))
  (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0)))
  ;; Fills the whole memory forever: only fuel stops it.
  (func (export "fillloop")
    (loop $l
      (memory.fill (i32.const 0) (i32.const 1) (i32.mul (memory.size) (i32.const 65536)))
      (br $l)))
  ;; The same with a result: the body is wrapped, the charge still traps.
  (func (export "copyloop") (result i32)
    (loop $l
      (memory.copy (i32.const 0) (i32.const 1) (i32.const 65535))
      (br $l))
    (i32.const 0)))`

// TestTableGrowCapped checks that table.grow succeeds up to the cap and
// returns -1 past it, as a grow past a declared maximum does: one grow by
// 0x7fffffff and a loop of grows by one.
func TestTableGrowCapped(t *testing.T) {
	bin := compileWAT(t, bulkWAT)
	// Two tables: each may hold half of 2000.
	metered, err := RewriteWithOptions(bin, "__fuel", 1<<40, Options{TableElements: 2000})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	call := func(m inst, fn string, args ...uint64) uint64 {
		t.Helper()
		m.fuel.Set(1 << 40)
		r, err := m.mod.ExportedFunction(fn).Call(ctx, args...)
		if err != nil {
			t.Fatalf("%s%v: %v", fn, args, err)
		}
		if len(r) == 0 {
			return 0
		}
		return r[0]
	}
	m := instantiate(t, metered)
	if got := uint32(call(m, "grow", 0x7fffffff)); got != 0xffffffff {
		t.Fatalf("table.grow 0x7fffffff = %d, want -1", int32(got))
	}
	if got := call(m, "size"); got != 8 {
		t.Fatalf("size after a failed grow %d, want 8", got)
	}
	if got := call(m, "grow", 10); got != 8 {
		t.Fatalf("table.grow 10 = %d, want the old size 8", got)
	}
	if got := uint32(call(m, "grow", 983)); got != 0xffffffff {
		t.Fatalf("table.grow to 1001 = %d, want -1", int32(got))
	}
	if got := call(m, "grow", 982); got != 18 {
		t.Fatalf("table.grow to 1000 = %d, want 18", got)
	}
	if got := call(m, "growloop"); got != 1000 {
		t.Fatalf("grow loop ended at size %d, want 1000", got)
	}
	if got := uint32(call(m, "growu", 1001)); got != 0xffffffff {
		t.Fatalf("externref table.grow 1001 = %d, want -1", int32(got))
	}
	if got := call(m, "growu", 1000); got != 0 {
		t.Fatalf("externref table.grow 1000 = %d, want 0", got)
	}
	// The default cap: a grow by 0x7fffffff fails, a loop stops at 2^20/2.
	metered, err = Rewrite(bin, "__fuel", 1<<40)
	if err != nil {
		t.Fatal(err)
	}
	m = instantiate(t, metered)
	if got := uint32(call(m, "grow", 0x7fffffff)); got != 0xffffffff {
		t.Fatalf("table.grow 0x7fffffff = %d, want -1", int32(got))
	}
	if got := call(m, "growloop"); got != DefaultTableElements/2 {
		t.Fatalf("grow loop ended at size %d, want %d", got, DefaultTableElements/2)
	}
	// Unmetered, the same loop would not stop at the cap.
	plain := instantiate(t, bin)
	if r, err := plain.mod.ExportedFunction("grow").Call(ctx, 5000); err != nil || r[0] != 8 {
		t.Fatalf("plain table.grow 5000 = %v, %v", r, err)
	}
}

// TestBulkCharged checks that bulk operations cost fuel in proportion to
// their length, that a loop of whole-memory fills is stopped by fuel, and
// that they still do what they did.
func TestBulkCharged(t *testing.T) {
	bin := compileWAT(t, bulkWAT)
	metered, err := Rewrite(bin, "__fuel", 1<<40)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	m, plain := instantiate(t, metered), instantiate(t, bin)
	cost := func(fn string, n uint64) int64 {
		t.Helper()
		m.fuel.Set(1 << 40)
		if _, err := m.mod.ExportedFunction(fn).Call(ctx, n); err != nil {
			t.Fatalf("%s(%d) metered: %v", fn, n, err)
		}
		if _, err := plain.mod.ExportedFunction(fn).Call(ctx, n); err != nil {
			t.Fatalf("%s(%d) plain: %v", fn, n, err)
		}
		return 1<<40 - int64(m.fuel.Get())
	}
	for _, c := range []struct {
		fn    string
		n     uint64
		shift uint
	}{
		{"fill", 65536, bulkMemoryShift}, {"copy", 60000, bulkMemoryShift}, {"init", 32, bulkMemoryShift},
		{"tfill", 8, bulkTableShift}, {"tinit", 4, bulkTableShift}, {"tcopy", 8, bulkTableShift},
	} {
		small, big := cost(c.fn, 0), cost(c.fn, c.n)
		if want := int64(c.n >> c.shift); big-small != want {
			t.Errorf("%s(%d) cost %d more than %s(0), want %d", c.fn, c.n, big-small, c.fn, want)
		}
		if small < 1 {
			t.Errorf("%s(0) cost %d", c.fn, small)
		}
	}
	// Same memory contents metered and plain.
	for _, addr := range []uint64{0, 50, 150, 205, 300, 65535} {
		a, err1 := m.mod.ExportedFunction("load").Call(ctx, addr)
		b, err2 := plain.mod.ExportedFunction("load").Call(ctx, addr)
		if err1 != nil || err2 != nil || a[0] != b[0] {
			t.Errorf("byte %d: %v metered, %v plain (%v, %v)", addr, a, b, err1, err2)
		}
	}
	// Out of bounds still traps, after the charge.
	m.fuel.Set(1 << 40)
	if _, err := m.mod.ExportedFunction("fill").Call(ctx, 70000); err == nil {
		t.Error("fill(70000) past the memory did not trap")
	}
	for _, fn := range []string{"fillloop", "copyloop"} {
		const budget = 1 << 20
		m.fuel.Set(budget)
		_, err := m.mod.ExportedFunction(fn).Call(ctx)
		if err == nil {
			t.Fatalf("%s: no trap", fn)
		}
		if f := int64(m.fuel.Get()); f >= 0 {
			t.Fatalf("%s: trapped (%v) with fuel %d left", fn, err, f)
		}
	}
}
