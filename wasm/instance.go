package wasm

import (
	"context"
	"encoding/binary"
	"sync/atomic"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/wringcap/wring/spec"
)

// instance is one instantiated analyzer, used by one worker at a time.
type instance struct {
	gen      *generation
	mod      api.Module
	mem      api.Memory
	fuel     api.MutableGlobal
	process  api.Function
	tick     api.Function
	stack    []uint64
	info     *info
	sinks    []uint16        // guest sink index -> host sink index
	snap     []atomic.Uint64 // counters after the last good call
	seq      uint64
	lastTick int64
	lastNow  int64 // capture time of the last packet seen
	rulesGen uint32
}

// instantiate makes and initialises a new instance of g: _initialize, the
// version check, the configuration, wring_init and the Info block.
func (h *Host) instantiate(ctx context.Context, g *generation) (*instance, error) {
	name := g.a.name
	h.stat(g.a).instantiations.Add(1)
	mcfg := wazero.NewModuleConfig().WithName("").WithStartFunctions().WithSysNanotime()
	mod, err := g.rt.InstantiateModule(ctx, g.cm, mcfg)
	if err != nil {
		return nil, errorf(name, "instantiate", ErrInit, "%w", err)
	}
	in := &instance{gen: g, mod: mod, mem: mod.Memory(), stack: make([]uint64, 2)}
	fail := func(err error) (*instance, error) {
		mod.Close(ctx)
		return nil, err
	}
	in.fuel, _ = mod.ExportedGlobal(spec.ExportFuel).(api.MutableGlobal)
	if in.fuel == nil && h.cfg.unmetered {
		in.fuel = noFuel{}
	}
	if in.fuel == nil || in.mem == nil {
		return fail(errorf(name, "instantiate", ErrMissingExport, "fuel global or memory"))
	}
	in.process = mod.ExportedFunction(spec.ExportProcess)
	in.fuel.Set(uint64(h.cfg.initFuel))
	initCall := func(fn string, params ...uint64) (uint64, error) {
		f := mod.ExportedFunction(fn)
		copy(in.stack, params)
		if err := f.CallWithStack(ctx, in.stack); err != nil {
			return 0, errorf(name, fn, classify(in, err), "%w", err)
		}
		return in.stack[0], nil
	}
	if g.initFunc {
		if _, err := initCall(spec.ExportInitialize); err != nil {
			return fail(err)
		}
	}
	v, err := initCall(spec.ExportABIVersion)
	if err != nil {
		return fail(err)
	}
	if uint32(v) != spec.ABIVersion {
		return fail(errorf(name, "init", ErrVersion, "the module speaks ABI version %d, this host speaks %d", int32(v), spec.ABIVersion))
	}
	cfgPtr, err := initCall(spec.ExportConfigBuffer, uint64(len(g.config)))
	if err != nil {
		return fail(err)
	}
	if len(g.config) > 0 {
		if uint32(cfgPtr) == 0 {
			return fail(errorf(name, "init", ErrInit, "wring_config_buffer refused %d bytes of configuration", len(g.config)))
		}
		if !in.mem.Write(uint32(cfgPtr), g.config) {
			return fail(errorf(name, "init", ErrABI, "configuration buffer [%#x, +%d) outside memory", uint32(cfgPtr), len(g.config)))
		}
	}
	ptr, err := initCall(spec.ExportInit, uint64(uint32(cfgPtr)), uint64(len(g.config)))
	if err != nil {
		return fail(err)
	}
	if uint32(ptr) == 0 {
		return fail(errorf(name, "init", ErrInit, "%w", errNoInfo))
	}
	whole, _ := in.mem.Read(0, in.mem.Size())
	in.info, err = parseInfo(whole, uint32(ptr))
	if err != nil {
		return fail(errorf(name, "init", ErrABI, "%w", err))
	}
	if g.tick && in.info.flags&spec.InfoFlagTick != 0 {
		in.tick = mod.ExportedFunction(spec.ExportTick)
	}
	in.sinks = make([]uint16, len(in.info.sinkNames))
	for i, s := range in.info.sinkNames {
		j := indexOf(h.cfg.sinks, s)
		if j < 0 {
			return fail(errorf(name, "init", ErrInit, "the module forwards to sink %q; the host has sinks %s", s, fmtSinks(h.cfg.sinks)))
		}
		in.sinks[i] = uint16(j)
	}
	in.snap = make([]atomic.Uint64, in.info.counterCount)
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.names == nil {
		g.names = in.info.counterNames
		g.retired = make([]uint64, len(g.names))
	} else if !equalStrings(g.names, in.info.counterNames) {
		mod.Close(ctx)
		return nil, errorf(name, "init", ErrABI, "instances of one module declare different counters")
	}
	if g.closed {
		mod.Close(ctx)
		return nil, errorf(name, "instantiate", ErrClosed, "")
	}
	g.live[in] = true
	return in, nil
}

// classify tells fuel exhaustion from other traps.
func classify(in *instance, err error) error {
	if in.fuel != nil && int64(in.fuel.Get()) < 0 {
		return ErrFuel
	}
	return ErrTrap
}

// call runs wring_process on the n packets already in the batch area.
func (in *instance) call(ctx context.Context, fuel int64, n int) error {
	in.fuel.Set(uint64(fuel))
	in.stack[0] = uint64(n)
	if err := in.process.CallWithStack(ctx, in.stack); err != nil {
		return errorf(in.gen.a.name, spec.ExportProcess, classify(in, err), "%w", err)
	}
	if rc := int32(in.stack[0]); rc != 0 {
		return errorf(in.gen.a.name, spec.ExportProcess, ErrGuest, "code %d", rc)
	}
	return nil
}

// callTick runs wring_tick; more reports that the guest has more events to
// flush (it returned 1).
func (in *instance) callTick(ctx context.Context, fuel int64, now int64, final bool) (more bool, err error) {
	in.fuel.Set(uint64(fuel))
	in.stack[0] = uint64(now)
	in.stack[1] = 0
	if final {
		in.stack[1] = 1
	}
	if err := in.tick.CallWithStack(ctx, in.stack); err != nil {
		return false, errorf(in.gen.a.name, spec.ExportTick, classify(in, err), "%w", err)
	}
	switch rc := int32(in.stack[0]); rc {
	case 0:
		return false, nil
	case 1:
		return true, nil
	default:
		return false, errorf(in.gen.a.name, spec.ExportTick, ErrGuest, "code %d", rc)
	}
}

// snapshot copies the guest's counters after a good call.
func (in *instance) snapshot() {
	n := in.info.counterCount
	if n == 0 {
		return
	}
	b, ok := in.mem.Read(in.info.countersPtr, n*8)
	if !ok {
		return // cannot happen: validated at init and memory never shrinks
	}
	for i := range in.snap {
		in.snap[i].Store(binary.LittleEndian.Uint64(b[i*8:]))
	}
}

// resetEvents zeroes the event area's header before a call.
func (in *instance) resetEvents() {
	if in.info.eventsCap == 0 {
		return
	}
	if b, ok := in.mem.Read(in.info.eventsPtr, spec.EventsHeaderSize); ok {
		clear(b)
	}
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// noFuel stands in for the fuel global of an unmetered module (tests only).
type noFuel struct{ api.MutableGlobal }

func (noFuel) Set(uint64)  {}
func (noFuel) Get() uint64 { return 0 }
