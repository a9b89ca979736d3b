//go:build linux

package live

import (
	"testing"
	"time"
)

// TestNextWait: the passive reader's wait grows while waits find less
// than a quarter of a batch, up to ringPollMax, shrinks after a full
// batch, down to ringPoll, and stays otherwise.
func TestNextWait(t *testing.T) {
	w := ringPoll
	var seen []time.Duration
	for range 10 {
		w = nextWait(w, 0, 256)
		seen = append(seen, w)
	}
	if w != ringPollMax {
		t.Fatalf("idle waits %v: end at %v, want %v", seen, w, ringPollMax)
	}
	for i := 1; i < len(seen); i++ {
		if seen[i] < seen[i-1] || seen[i] > ringPollMax {
			t.Fatalf("idle waits %v: not growing to %v", seen, ringPollMax)
		}
	}
	if got := nextWait(ringPollMax, 100, 256); got != ringPollMax {
		t.Errorf("a wait that found 100 of 256: next %v, want it unchanged", got)
	}
	for range 10 {
		w = nextWait(w, 256, 256)
	}
	if w != ringPoll {
		t.Fatalf("after full batches the wait is %v, want %v", w, ringPoll)
	}
	if got := nextWait(ringPoll, 63, 256); got != 2*ringPoll {
		t.Errorf("a wait that found 63 of 256: next %v, want %v", got, 2*ringPoll)
	}
}
