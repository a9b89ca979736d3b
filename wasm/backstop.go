package wasm

import (
	"context"
	"fmt"
	"time"

	"github.com/tetratelabs/wazero/api"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/wasm/internal/fuel"
)

// The wall-clock backstop. Fuel bounds the instructions of a call; the
// backstop bounds its time, for what fuel does not see as time (host calls
// that are slow for their price, a machine that is overloaded) and for
// stopping on a signal. It works like Wasmtime's epoch interruption: a
// goroutine of the host advances an epoch counter every tick; a call
// records the epoch it started in; the goroutine stops a call that has run
// for too many ticks by marking it stopped and writing fuel.StopReserve
// into its fuel reserve, so the next refill traps (at the latest when the
// current slice is spent) and the next host call traps at once. The call
// pays two uncontended lock operations and nothing per instruction.
//
// The watcher writes the reserve only, never the fuel global, while the
// guest runs. wazero's Global.Set stores the 8 bytes with
// binary.LittleEndian.PutUint64 into the module's buffer, which a -race
// build compiles into separate byte stores: a guest that read the fuel
// global in the middle of a write of -1 over a small positive value got
// 2^56-1, ran on that as its fuel without calling the refill, never
// yielded to Go, and a garbage collection waiting for it stalled every
// goroutine, this watcher included (TestBackstopUnderCollection under
// -race). The fuel global is read at every function entry and call return;
// the reserve only by the refill, and a torn read of it there is harmless:
// the bytes of StopReserve go in low to high, so a half-written reserve is
// a positive value no larger than the old one, the refill still hands out
// at most one slice, and the next refill reads the whole StopReserve.
//
// The fuel the metering keeps in a function's local is written to the global
// before each call (as the smaller of the two, so a stop is never undone)
// and read back after it. A call-free loop does not read the global, but
// the fuel is given in slices (fuel.Options.ReserveExport): when a slice is
// spent the guest calls the rewrite's refill function, which reads the
// global and traps on a stop, and yields to Go, where the runtime can
// preempt it. So a stop takes effect within one slice (2^20 units, about a
// millisecond), and no guest holds off a garbage collection, and with it
// this watcher, for longer than that. A write lost to a write-back is
// repeated at every tick while the call runs.

// instKey is the context key under which an instance's calls carry the
// instance, for the host functions.
type instKey struct{}

// watchTick is the backstop's resolution.
func (h *Host) watchTick() time.Duration {
	return min(h.cfg.callTimeout/4, 50*time.Millisecond)
}

// watch advances the epoch and stops calls that ran past their limit, until
// the host closes.
func (h *Host) watch() {
	tick := h.watchTick()
	limit := int64(h.cfg.callTimeout/tick) + 1
	loadLimit := int64(h.cfg.loadTimeout/tick) + 1
	timeout := fmt.Errorf("%w of %v", ErrTimeout, h.cfg.callTimeout)
	loadTimeout := fmt.Errorf("%w of %v", ErrLoadTimeout, h.cfg.loadTimeout)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-h.quit:
			return
		case <-t.C:
		}
		e := h.epoch.Add(1)
		stopping := h.stopping.Load()
		late := stopping && time.Now().After(h.stopDeadline())
		h.instMu.Lock()
		for in := range h.insts {
			in.mu.Lock()
			switch {
			case !in.active.Load():
			case in.stop != nil:
				in.stopFuelLocked() // again: the refill may have written over it
			case late:
				in.stopLocked(ErrInterrupted)
			case in.loading && e-in.start >= loadLimit:
				in.stopLocked(loadTimeout)
			case !in.loading && e-in.start >= limit:
				in.stopLocked(timeout)
			}
			in.mu.Unlock()
		}
		h.instMu.Unlock()
	}
}

// Interrupt makes the host stop: calls still running after the stop grace
// (DefaultStopGrace) are stopped with ErrInterrupted at their next fuel
// check or host call, later calls are not made (their packets get the fail
// policy and are counted in Stats.Interrupted), and loads in progress fail
// at once with ErrInterrupted. Close still flushes the analyzers within
// what is left of the grace. Interrupt is safe to call from any goroutine,
// more than once (a signal handler's); it does not wait.
func (h *Host) Interrupt() {
	if h.stopping.Load() {
		return
	}
	h.stopAt.Store(time.Now().Add(h.cfg.stopGrace).UnixNano())
	h.stopping.Store(true)
	h.cancelLoads(ErrInterrupted)
	time.AfterFunc(h.cfg.stopGrace, h.stopAll)
}

// Interrupted reports whether Interrupt was called.
func (h *Host) Interrupted() bool { return h.stopping.Load() }

func (h *Host) stopDeadline() time.Time { return time.Unix(0, h.stopAt.Load()) }

// pastStop reports whether the host was interrupted and its grace is over.
func (h *Host) pastStop() bool {
	return h.stopping.Load() && time.Now().After(h.stopDeadline())
}

// stopAll stops every running call.
func (h *Host) stopAll() {
	h.instMu.Lock()
	defer h.instMu.Unlock()
	for in := range h.insts {
		in.mu.Lock()
		if in.active.Load() && in.stop == nil {
			in.stopLocked(ErrInterrupted)
		}
		in.mu.Unlock()
	}
}

// cancelLoads makes the loads in progress fail with cause: NewHost and
// Reload return at once, and instances being initialised are stopped.
func (h *Host) cancelLoads(cause error) {
	h.loadCancel(cause)
	h.instMu.Lock()
	defer h.instMu.Unlock()
	for in := range h.insts {
		in.mu.Lock()
		if in.active.Load() && in.loading && in.stop == nil {
			in.stopLocked(cause)
		}
		in.mu.Unlock()
	}
}

// track and forget add and remove an instance from the backstop's view.
func (h *Host) track(in *instance) {
	h.instMu.Lock()
	h.insts[in] = struct{}{}
	h.instMu.Unlock()
}

func (h *Host) forget(in *instance) {
	h.instMu.Lock()
	delete(h.insts, in)
	h.instMu.Unlock()
}

// stopLocked stops the instance's current call with cause (in.mu held).
func (in *instance) stopLocked(cause error) {
	in.stop = cause
	in.stopFuelLocked()
}

// stopFuelLocked makes the current call's next refill trap: StopReserve in
// the reserve (fuel.Options.ReserveExport), and not -1 in the fuel global,
// which the guest may be reading (see the top of this file). A metered
// instance always has a reserve; without one (none yet, or unmetered) the
// stop waits for the next host call.
func (in *instance) stopFuelLocked() {
	if in.reserve != nil && in.metered {
		stop := int64(fuel.StopReserve)
		in.reserve.Set(uint64(stop))
	}
}

// stopNow stops the instance's current call (the load deadline, a signal).
func (in *instance) stopNow(cause error) {
	in.mu.Lock()
	if in.active.Load() && in.stop == nil {
		in.stopLocked(cause)
	}
	in.mu.Unlock()
}

// setFuelLocked gives the current call v units: one slice in the fuel
// global, the rest in the reserve (fuel.Options.ReserveExport); -1 stops it.
func (in *instance) setFuelLocked(v int64) {
	if in.fuel == nil || !in.metered {
		return
	}
	f := min(v, fuel.DefaultSlice)
	in.fuel.Set(uint64(f))
	if in.reserve != nil {
		in.reserve.Set(uint64(max(v-f, 0)))
	}
}

// begin starts a call with the given fuel. It fails with ErrInterrupted when
// the host's stop grace is over.
//
// The lock orders the new call's fuel after any write of the backstop that
// was meant for the previous call: the backstop decides and writes under
// in.mu, so a stop it decided while the previous call still ran lands
// before this call's fuel, never after it.
func (in *instance) begin(fuel int64, loading bool) error {
	h := in.gen.a.h
	if h.stopping.Load() && (loading || h.pastStop()) {
		return ErrInterrupted
	}
	in.mu.Lock()
	in.setFuelLocked(fuel)
	if in.stackG != nil && !in.stackFull {
		// Only a failed call leaves the budget short: every call the
		// rewrite instruments gives back on return what it took.
		in.stackG.Set(uint64(h.cfg.stackSlots))
		in.stackFull = true
	}
	in.stop = nil
	in.loading = loading
	in.start = h.epoch.Load()
	in.active.Store(true)
	in.mu.Unlock()
	return nil
}

// end finishes a call and, when it failed, says why: the backstop, a host
// call or the metering running out of fuel, or another trap.
//
// A call that returned needs no lock and reads no global: what is left of
// its fuel is set anew by the next begin, the stack budget is back where it
// started, and a stop the backstop made as the call returned is moot (the
// call's results are whole; the next begin clears it under the lock).
func (in *instance) end(err error) error {
	if err == nil {
		in.active.Store(false)
		return nil
	}
	in.mu.Lock()
	in.active.Store(false)
	in.stackFull = false
	stop := in.stop
	var left, stackLeft int64
	if in.metered && in.fuel != nil {
		left = int64(in.fuel.Get())
	}
	if in.stackG != nil {
		stackLeft = int64(in.stackG.Get())
	}
	in.mu.Unlock()
	switch {
	case stop != nil:
		return stop
	case isErr(err, ErrFuel) || left < 0:
		return ErrFuel
	case stackLeft < 0:
		return errStackOverflow
	}
	return ErrTrap
}

// charge takes units of fuel from the instance that made a host call (op
// names the import), before the call does its work. It traps, by panicking
// into wazero, when the fuel cannot pay or the call was stopped.
func charge(ctx context.Context, mod api.Module, op string, units int64) *instance {
	in, _ := ctx.Value(instKey{}).(*instance)
	if in == nil {
		panic(fmt.Errorf("%w: %s called outside an instance of the host", ErrTrap, op))
	}
	in.charge(mod, op, units)
	return in
}

func (in *instance) charge(mod api.Module, op string, units int64) {
	in.mu.Lock()
	if in.stop != nil {
		err := in.stop
		in.mu.Unlock()
		panic(fmt.Errorf("%w (in %s)", err, op))
	}
	if !in.metered {
		in.mu.Unlock()
		return
	}
	g := in.fuel
	if g == nil { // during instantiation (a start function)
		g, _ = mod.ExportedGlobal(spec.ExportFuel).(api.MutableGlobal)
		if g == nil {
			in.mu.Unlock()
			panic(fmt.Errorf("%w: no fuel global", ErrTrap))
		}
	}
	left := int64(g.Get())
	r := in.reserve
	if r == nil && in.fuel == nil { // a start function: the reserve by name too
		r, _ = mod.ExportedGlobal(spec.ExportFuelReserve).(api.MutableGlobal)
	}
	if left >= 0 && r != nil {
		left += int64(r.Get())
	}
	if left < units {
		g.Set(^uint64(0))
		in.mu.Unlock()
		panic(fmt.Errorf("%w: %s needs %d units, %d left", ErrFuel, op, units, max(left, 0)))
	}
	// What is left is split again: a slice in the fuel global, the rest in
	// the reserve.
	left -= units
	if r == nil {
		g.Set(uint64(left))
	} else {
		f := min(left, fuel.DefaultSlice)
		g.Set(uint64(f))
		r.Set(uint64(left - f))
	}
	in.mu.Unlock()
}
