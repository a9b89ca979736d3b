package wasm

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wringcap/wring/wasm/internal/shape"
)

// load runs the whole load pipeline of one analyzer module under one
// deadline (the load timeout) and one memory budget: the size check, the
// module shape check and the budget first, on the caller's goroutine (each
// reads the module once and allocates nothing of its size), then, on a
// goroutine of their own, the
// fuel rewrite, compilation, linking, instantiation, _initialize,
// wring_init and the Info checks. The first instance becomes a spare for
// the first worker.
//
// On the deadline, or when the host's loads are cancelled (Interrupt, the
// context of NewHost or Reload), load returns at once. The initialisation
// call in progress, if any, is stopped by the backstop; work that cannot be
// stopped (the rewrite, wazero's compiler, a call-free loop spending its
// fuel) is abandoned and releases what it made when it ends.
func (h *Host) load(a *analyzer, s Analyzer, op string) (*generation, error) {
	name := a.name
	if len(s.Binary) > h.cfg.maxModuleSize {
		return nil, errorf(name, op, ErrTooLarge, "%d bytes, the cap is %d", len(s.Binary), h.cfg.maxModuleSize)
	}
	if err := shape.Check(s.Binary, shape.DefaultLimits()); err != nil {
		return nil, errorf(name, op, ErrCompile, "%w", err)
	}
	if err := checkBudget(s.Binary, h.cfg.memoryPages, h.cfg.loadBudget); err != nil {
		return nil, errorf(name, op, ErrBudget, "%w", err)
	}
	if err := context.Cause(h.loadCtx); err != nil {
		return nil, errorf(name, op, ErrInterrupted, "%w", err)
	}
	type result struct {
		g   *generation
		err error
	}
	var (
		mu        sync.Mutex
		abandoned bool
		stage     atomic.Pointer[string]
	)
	done := make(chan result, 1)
	setStage := func(s string) { stage.Store(&s) }
	setStage("starting")
	h.compiling(1)
	go func() {
		defer h.compiling(-1)
		g, err := h.compile(h.loadCtx, a, s, op, setStage)
		if err == nil {
			setStage("initialising")
			var in *instance
			in, err = h.instantiate(context.Background(), g)
			if err != nil {
				g.rt.Close(context.Background())
				g = nil
			} else {
				g.mu.Lock()
				g.spare = append(g.spare, in)
				g.mu.Unlock()
			}
		}
		mu.Lock()
		defer mu.Unlock()
		if abandoned {
			if g != nil {
				g.supersede(context.Background())
			}
			return
		}
		done <- result{g, err}
	}()
	timer := time.NewTimer(h.cfg.loadTimeout)
	defer timer.Stop()
	var cause error
	select {
	case r := <-done:
		return r.g, r.err
	case <-timer.C:
		cause = errorf(name, op, ErrLoadTimeout, "still %s after %v", *stage.Load(), h.cfg.loadTimeout)
	case <-h.loadCtx.Done():
		cause = errorf(name, op, ErrInterrupted, "while %s", *stage.Load())
	}
	mu.Lock()
	select {
	case r := <-done: // finished in the meantime
		mu.Unlock()
		return r.g, r.err
	default:
	}
	abandoned = true
	mu.Unlock()
	return nil, cause
}
