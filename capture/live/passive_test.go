package live

import (
	"testing"

	"github.com/wringcap/wring/internal/netns"
	"github.com/wringcap/wring/verifier"
)

// TestPassiveFilter: the passive path copies exactly the matching frames,
// once each, and both halves of the books reconcile.
func TestPassiveFilter(t *testing.T) {
	p := netns.New(t, 2)
	send, matching := frames(3000)
	v := verified(t, udpDst80, verifier.Options{})
	col, st, pc, path := runCapture(t, p, Device{Name: p.IfA, Queue: -1},
		Options{Mode: ModePassive, Filters: Filters{InBand: v, Kernel: v}}, send)
	t.Logf("path: %s", path)
	checkExact(t, col, matching)
	reconcile(t, st, pc, len(send))
}
