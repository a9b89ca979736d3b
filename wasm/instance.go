package wasm

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
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
	reserve  api.MutableGlobal // fuel beyond the current slice (fuel.Options.ReserveExport)
	stackG   api.MutableGlobal // the call stack budget (nil when unmetered)
	process  api.Function
	tick     api.Function
	streams  api.Function // wring_streams, when the module takes streams
	strSeq   uint64       // wring_streams calls made
	strLost  uint32       // chunks lost since the previous wring_streams call
	stack    []uint64
	info     *info
	sinks    []uint16        // guest sink index -> host sink index
	snap     []atomic.Uint64 // counters after the last good call
	seq      uint64
	lastTick int64
	lastNow  int64 // capture time of the last packet seen
	callNow  int64 // capture time of the batch of the wring_process call running, for wring.rule_add
	rulesGen uint32

	ctx     context.Context // carries the instance to the host functions
	metered bool            // has a fuel global
	rng     *rand.ChaCha8   // random_get

	// The backstop's view of the current call (see backstop.go). mu also
	// orders every access of Go code to the fuel global.
	mu      sync.Mutex
	active  atomic.Bool // a call is running (written under mu, except by end)
	loading bool        // it is an initialisation call (the load timeout applies)
	start   int64       // the host's epoch when it started
	stop    error       // why the backstop stopped it, nil if it did not
	// stackFull: the stack budget global holds its full value (no call
	// failed since begin last set it). Only the calling goroutine uses it.
	stackFull bool
}

// instantiate makes and initialises a new instance of g: _initialize, the
// version check, the configuration, wring_init and the Info block.
func (h *Host) instantiate(ctx context.Context, g *generation) (*instance, error) {
	name := g.a.name
	h.stat(g.a).instantiations.Add(1)
	var seed [32]byte
	crand.Read(seed[:])
	in := &instance{gen: g, stack: make([]uint64, 2), metered: !h.cfg.unmetered, rng: rand.NewChaCha8(seed)}
	in.ctx = context.WithValue(context.Background(), instKey{}, in)
	h.track(in)
	// Instantiation runs the start function, if any, on the fuel the
	// rewriter set as the global's initial value (the init fuel).
	in.begin(0, true) // no fuel global yet: host calls of a start function find it by name
	mcfg := wazero.NewModuleConfig().WithName("").WithStartFunctions()
	g.mu.Lock()
	cm := g.cm
	g.mu.Unlock()
	if cm == nil { // the generation closed
		in.end(nil)
		h.forget(in)
		return nil, errorf(name, "instantiate", ErrClosed, "")
	}
	mod, err := g.rt.InstantiateModule(in.ctx, cm, mcfg)
	if kind := in.end(err); err != nil {
		h.forget(in)
		if errors.Is(kind, ErrTrap) {
			kind = ErrInit
		}
		return nil, errorf(name, "instantiate", kind, "%w", err)
	}
	in.mod, in.mem = mod, mod.Memory()
	fail := func(err error) (*instance, error) {
		mod.Close(ctx)
		h.forget(in)
		return nil, err
	}
	fuel, _ := mod.ExportedGlobal(spec.ExportFuel).(api.MutableGlobal)
	if fuel == nil && h.cfg.unmetered {
		fuel = noFuel{}
	}
	if fuel == nil || in.mem == nil {
		return fail(errorf(name, "instantiate", ErrMissingExport, "fuel global or memory"))
	}
	stackG, _ := mod.ExportedGlobal(spec.ExportStack).(api.MutableGlobal)
	if stackG == nil && !h.cfg.unmetered {
		return fail(errorf(name, "instantiate", ErrMissingExport, "call stack global"))
	}
	reserve, _ := mod.ExportedGlobal(spec.ExportFuelReserve).(api.MutableGlobal)
	if reserve == nil && !h.cfg.unmetered {
		return fail(errorf(name, "instantiate", ErrMissingExport, "fuel reserve global"))
	}
	in.mu.Lock()
	in.fuel, in.reserve, in.stackG, in.metered = fuel, reserve, stackG, !h.cfg.unmetered
	in.mu.Unlock()
	in.process = mod.ExportedFunction(spec.ExportProcess)
	if err := in.begin(h.cfg.initFuel, true); err != nil {
		return fail(errorf(name, "init", err, ""))
	}
	initCall := func(fn string, params ...uint64) (uint64, error) {
		f := mod.ExportedFunction(fn)
		copy(in.stack, params)
		in.mu.Lock()
		in.active.Store(true)
		in.mu.Unlock()
		err := f.CallWithStack(in.ctx, in.stack)
		if kind := in.end(err); err != nil {
			return 0, callError(name, fn, kind, err)
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
	if uint32(v) < spec.ABIVersionMin || uint32(v) > spec.ABIVersion {
		return fail(errorf(name, "init", ErrVersion, "the module speaks ABI version %d, this host speaks %d..%d", int32(v), spec.ABIVersionMin, spec.ABIVersion))
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
	in.info, err = parseInfo(whole, uint32(ptr), uint32(v))
	if err != nil {
		return fail(errorf(name, "init", ErrABI, "%w", err))
	}
	if in.info.streams() {
		if !g.streams {
			return fail(errorf(name, "init", ErrMissingExport, "flag streams without the function %s", spec.ExportStreams))
		}
		in.streams = mod.ExportedFunction(spec.ExportStreams)
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
		g.wantStreams, g.streamPorts = in.info.streams(), in.info.streamPorts
	} else if !equalStrings(g.names, in.info.counterNames) {
		mod.Close(ctx)
		h.forget(in)
		return nil, errorf(name, "init", ErrABI, "instances of one module declare different counters")
	} else if g.wantStreams != in.info.streams() || !slices.Equal(g.streamPorts, in.info.streamPorts) {
		mod.Close(ctx)
		h.forget(in)
		return nil, errorf(name, "init", ErrABI, "instances of one module declare different streams")
	}
	if g.closed {
		mod.Close(ctx)
		h.forget(in)
		return nil, errorf(name, "instantiate", ErrClosed, "")
	}
	g.live[in] = true
	return in, nil
}

// call runs wring_process on the n packets already in the batch area.
func (in *instance) call(fuel int64, n int) error {
	if err := in.begin(fuel, false); err != nil {
		return errorf(in.gen.a.name, spec.ExportProcess, err, "")
	}
	in.stack[0] = uint64(n)
	err := in.process.CallWithStack(in.ctx, in.stack)
	if kind := in.end(err); err != nil {
		return callError(in.gen.a.name, spec.ExportProcess, kind, err)
	}
	if rc := int32(in.stack[0]); rc != 0 {
		return errorf(in.gen.a.name, spec.ExportProcess, ErrGuest, "code %d", rc)
	}
	return nil
}

// callTick runs wring_tick; more reports that the guest has more events to
// flush (it returned 1).
func (in *instance) callTick(fuel int64, now int64, final bool) (more bool, err error) {
	if err := in.begin(fuel, false); err != nil {
		return false, errorf(in.gen.a.name, spec.ExportTick, err, "")
	}
	in.stack[0] = uint64(now)
	in.stack[1] = 0
	if final {
		in.stack[1] = 1
	}
	err = in.tick.CallWithStack(in.ctx, in.stack)
	if kind := in.end(err); err != nil {
		return false, callError(in.gen.a.name, spec.ExportTick, kind, err)
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
