package guest

import (
	"math/rand/v2"
	"testing"
)

// TestFlowSlots checks the table against a map with LRU eviction over
// random adds, gets and removes (ids from a small range, so probe chains
// and backward shifts are exercised), and that it allocates nothing.
func TestFlowSlots(t *testing.T) {
	const slots = 8
	tab := NewFlowSlots(slots)
	ref := map[uint64]int{}  // id -> slot
	last := map[uint64]int{} // id -> last use step
	r := rand.New(rand.NewPCG(4, 5))
	for step := 1; step < 200000; step++ {
		id := uint64(r.IntN(40) + 1)
		switch r.IntN(3) {
		case 0:
			if _, ok := ref[id]; ok {
				continue
			}
			var lru uint64
			if len(ref) == slots {
				for k := range ref {
					if lru == 0 || last[k] < last[lru] {
						lru = k
					}
				}
			}
			s, ev := tab.Add(id)
			if ev != lru {
				t.Fatalf("step %d: Add evicted %d, want %d", step, ev, lru)
			}
			if lru != 0 {
				delete(ref, lru)
			}
			ref[id], last[id] = s, step
		case 1:
			s, ok := ref[id]
			if got := tab.Get(id); (got >= 0) != ok || ok && got != s {
				t.Fatalf("step %d: Get(%d) = %d, want %d (%v)", step, id, got, s, ok)
			}
			if ok {
				last[id] = step
			}
		case 2:
			s, ok := ref[id]
			if got := tab.Remove(id); (got >= 0) != ok || ok && got != s {
				t.Fatalf("step %d: Remove(%d) = %d, want %d (%v)", step, id, got, s, ok)
			}
			delete(ref, id)
		}
		if tab.Live() != len(ref) {
			t.Fatalf("step %d: Live %d, want %d", step, tab.Live(), len(ref))
		}
	}
	for s := range tab.Slots() {
		if id := tab.Owner(s); id != 0 && ref[id] != s {
			t.Fatalf("slot %d owned by %d, the model says %d", s, id, ref[id])
		}
	}
	if n := testing.AllocsPerRun(100, func() {
		tab.Remove(99)
		tab.Add(99)
		tab.Get(99)
	}); n != 0 {
		t.Fatalf("%v allocations", n)
	}
}
