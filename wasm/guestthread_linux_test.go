//go:build linux

package wasm

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/wazero/api"
)

// urgBlocked reports whether the calling thread blocks SIGURG, as the
// kernel sees it.
func urgBlocked(t *testing.T) bool {
	t.Helper()
	b, err := os.ReadFile("/proc/thread-self/status")
	if err != nil {
		t.Skipf("no /proc/thread-self/status: %v", err)
	}
	for l := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(l, "SigBlk:"); ok {
			m, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				t.Fatalf("SigBlk %q: %v", v, err)
			}
			return m&(1<<(23-1)) != 0
		}
	}
	t.Fatal("no SigBlk line")
	return false
}

// maskProbe is a guest function that records what its thread blocks.
type maskProbe struct {
	api.Function
	t       *testing.T
	blocked bool
}

func (p *maskProbe) CallWithStack(context.Context, []uint64) error {
	p.blocked = urgBlocked(p.t)
	return nil
}

// TestGuestCallMasksPreemption: guest code runs with SIGURG blocked, and
// the thread unblocks it when the call returns.
func TestGuestCallMasksPreemption(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	p := &maskProbe{t: t}
	if err := runGuest(context.Background(), p, nil); err != nil {
		t.Fatal(err)
	}
	if !p.blocked {
		t.Error("SIGURG not blocked during the guest call")
	}
	if urgBlocked(t) {
		t.Error("SIGURG still blocked after the guest call")
	}
	// The interpreter is Go code: its instances keep the signal.
	p.blocked = true
	in := &instance{ctx: context.Background(), compiled: false}
	if err := in.run(p, false); err != nil {
		t.Fatal(err)
	}
	if p.blocked {
		t.Error("SIGURG blocked during an interpreted call")
	}
	in.compiled = true
	if err := in.run(p, false); err != nil {
		t.Fatal(err)
	}
	if !p.blocked {
		t.Error("SIGURG not blocked during a compiled call")
	}
	// Nested set-ups (Worker.Handle around a call): the inner one leaves
	// the signal blocked, the outer one unblocks it.
	outer := enterGuest()
	if err := in.run(p, false); err != nil {
		t.Fatal(err)
	}
	if !urgBlocked(t) {
		t.Error("an inner call unblocked SIGURG its caller had blocked")
	}
	if err := in.run(p, true); err != nil || !p.blocked {
		t.Errorf("a held call: %v, blocked %v", err, p.blocked)
	}
	leaveGuest(outer)
	if urgBlocked(t) {
		t.Error("SIGURG still blocked after the outer set-up")
	}
	// A real call, stopped by the backstop, leaves nothing behind either.
	h := newHost(t, testConfig(nil).WithFuel(1<<60).WithCallTimeout(20*time.Millisecond).WithFailClosed(false),
		Analyzer{Name: "spin", Binary: analyzerWAT(t, map[string]string{"{{PROCESS}}": `(loop $l (br $l))`})})
	h.Handle(mkBatch([]uint16{80}, 8))
	if s := statsOf(h, "spin"); s.Timeouts != 1 {
		t.Fatalf("%+v", s)
	}
	if urgBlocked(t) {
		t.Error("SIGURG still blocked after Handle")
	}
}

// BenchmarkGuestCallFrame measures what Worker.Handle adds to each batch,
// and runGuest to each call outside a batch (the thread held, SIGURG
// blocked and unblocked: two system calls), without the calls themselves;
// BenchmarkCallFrame is the rest of the frame.
func BenchmarkGuestCallFrame(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		leaveGuest(enterGuest())
	}
}
