package fuel

import (
	"context"
	"testing"
)

const growWAT = `(module
  (memory (export "memory") 1)
  (table $t 8 funcref)
  (func (export "mgrow") (param $n i32) (result i32)
    (memory.grow (local.get $n)))
  (func (export "tgrow") (param $n i32) (result i32)
    (table.grow $t (ref.null func) (local.get $n)))
  ;; Grows the memory a page at a time until the grow fails.
  (func (export "bomb")
    (loop $l
      (br_if $l (i32.ne (memory.grow (i32.const 1)) (i32.const -1))))))`

// TestGrowCharged checks that memory.grow pays for the memory it may copy
// and table.grow for the table's size after the grow, nothing when the grow
// is clamped to fail, and that a page-at-a-time grow loop runs out of fuel.
func TestGrowCharged(t *testing.T) {
	bin := compileWAT(t, growWAT)
	metered, err := RewriteWithOptions(bin, "__fuel", 1<<40, Options{TableElements: 2000})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	m := instantiate(t, metered)
	cost := func(fn string, n uint64) (int64, uint32) {
		t.Helper()
		m.fuel.Set(1 << 40)
		r, err := m.mod.ExportedFunction(fn).Call(ctx, n)
		if err != nil {
			t.Fatalf("%s(%d): %v", fn, n, err)
		}
		return 1<<40 - int64(m.fuel.Get()), uint32(r[0])
	}
	base, _ := cost("mgrow", 0) // one page
	c, old := cost("mgrow", 3)
	if old != 1 || c != base {
		t.Errorf("memory.grow 3 from 1 page: %d, cost %d, want 1, %d", old, c, base)
	}
	c, old = cost("mgrow", 1) // from 4 pages
	if want := base + 3<<memoryGrowShift; old != 4 || c != want {
		t.Errorf("memory.grow 1 from 4 pages: %d, cost %d, want 4, %d", old, c, want)
	}

	// table.grow: the base cost is a grow by 0 of the 8-element table.
	tbase, _ := cost("tgrow", 0)
	if c, old := cost("tgrow", 100); old != 8 || c != tbase+100>>bulkTableShift {
		t.Errorf("table.grow 100 from 8: %d, cost %d, want 8, %d", old, c, tbase+100>>bulkTableShift)
	}
	// Past the cap (1000 for the one table) the grow fails and pays no
	// more than the base of a grow by 0 of the 8-element table.
	if c, old := cost("tgrow", 0x7fffffff); old != 0xffffffff || c != tbase-8>>bulkTableShift {
		t.Errorf("table.grow 0x7fffffff: %d, cost %d, want -1, %d", int32(old), c, tbase-8>>bulkTableShift)
	}

	// A page-at-a-time bomb pays the square of the size.
	m = instantiate(t, metered)
	const budget = 50_000_000
	m.fuel.Set(budget)
	if _, err := m.mod.ExportedFunction("bomb").Call(ctx); err == nil {
		t.Fatal("memory.grow bomb: no trap")
	}
	m.fuel.Set(1 << 40)
	r, err := m.mod.ExportedFunction("mgrow").Call(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if pages := r[0]; pages > 200 {
		t.Errorf("memory.grow bomb reached %d pages on %d fuel", pages, budget)
	}
}
