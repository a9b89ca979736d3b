package wasm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/spec"
)

// Host runs analyzers over batches of packets. Analyzers run in the order
// they were given; each worker (one per capture goroutine) has its own
// instance of each analyzer.
//
// Verdicts combine by precedence: drop, then forward, then match, then no
// opinion. Among equal actions the first opinion stands: the one already in
// the batch (set by an earlier stage), then the earlier analyzer's. A packet
// dropped by an earlier analyzer is not shown to the later ones.
type Host struct {
	cfg       Config
	cache     wazero.CompilationCache
	analyzers []*analyzer
	byName    map[string]*analyzer

	mu      sync.Mutex
	free    []*Worker
	workers []*Worker
	closed  atomic.Bool

	evMu sync.Mutex

	// Compilations still running, abandoned ones included: the shared
	// compilation cache (and the engine in it) is closed only after the
	// last one ends, or a late compile would write into a closed engine.
	compMu      sync.Mutex
	compRunning int
	cacheClose  bool

	// The backstop (backstop.go).
	started    time.Time // the zero of the guests' clocks
	quit       chan struct{}
	epoch      atomic.Int64
	stopping   atomic.Bool
	stopAt     atomic.Int64 // unix nanoseconds: the end of the stop grace
	instMu     sync.Mutex
	insts      map[*instance]struct{}
	loadCtx    context.Context
	loadCancel context.CancelCauseFunc
}

// compiling counts compilations in and out; the last one out after Close
// closes the cache.
func (h *Host) compiling(d int) {
	h.compMu.Lock()
	h.compRunning += d
	closeNow := h.compRunning == 0 && h.cacheClose
	if closeNow {
		h.cacheClose = false
	}
	h.compMu.Unlock()
	if closeNow && h.cache != nil {
		h.cache.Close(context.Background())
	}
}

// analyzer is one loaded analyzer and its history of generations.
type analyzer struct {
	h     *Host
	name  string
	index int
	grant bool     // the rules capability, fixed for the analyzer's life
	spec  Analyzer // the current module, replaced by Reload (under mu)
	cur   atomic.Pointer[generation]

	mu       sync.Mutex
	gens     []*generation
	failures []time.Time // recent failures, for quarantine

	quarantined atomic.Bool
	loadErr     error // why the analyzer failed to load (WithLoadFailuresQuarantined)
	warned      atomic.Bool
	rules       atomic.Pointer[rules]
	flows       flowState // flow rules added through wring.rule_add (flowrules.go)
	logWindow   atomic.Int64
	logCount    atomic.Int64
	stats       stats
}

type rules struct {
	gen  uint32
	data []byte
}

type stats struct {
	batches, calls, packets, events, eventsLost             atomic.Uint64
	failures, fuel, traps, abi, guest, instantiations       atomic.Uint64
	quarantines, reloads, policyPackets, quarantinedPackets atomic.Uint64
	timeouts, interrupted, eventsOverCap                    atomic.Uint64
	streamCalls, streamChunks, streamBytes, streamLost      atomic.Uint64
}

// NewHost compiles and initialises the analyzers, in order. Each analyzer is
// instantiated once to check its ABI version, exports and Info block, so an
// error here names the module and the cause. The names must be distinct.
//
// cfg must come from NewConfig: the zero Config fails with ErrConfig rather
// than being replaced by defaults the caller did not ask for. Cancelling ctx
// while the analyzers load makes NewHost return at once with an error
// wrapping ErrInterrupted. An analyzer that fails to load fails NewHost,
// unless cfg has WithLoadFailuresQuarantined.
func NewHost(ctx context.Context, cfg Config, analyzers ...Analyzer) (*Host, error) {
	if !cfg.made {
		return nil, fmt.Errorf("wasm: %w: start from NewConfig", ErrConfig)
	}
	h := &Host{cfg: cfg, byName: map[string]*analyzer{}, started: time.Now(), quit: make(chan struct{}),
		insts: map[*instance]struct{}{}}
	h.loadCtx, h.loadCancel = context.WithCancelCause(context.Background())
	if cfg.cacheDir != "" {
		c, err := wazero.NewCompilationCacheWithDir(cfg.cacheDir)
		if err != nil {
			return nil, fmt.Errorf("compilation cache %s: %w", cfg.cacheDir, err)
		}
		h.cache = c
	} else {
		h.cache = wazero.NewCompilationCache()
	}
	go h.watch()
	stop := context.AfterFunc(ctx, func() { h.cancelLoads(fmt.Errorf("%w: %w", ErrInterrupted, context.Cause(ctx))) })
	defer stop()
	for i, s := range analyzers {
		if err := checkName([]byte(s.Name)); err != nil {
			h.Close(ctx)
			return nil, errorf(s.Name, "load", ErrInit, "bad analyzer name: %v", err)
		}
		if h.byName[s.Name] != nil {
			h.Close(ctx)
			return nil, errorf(s.Name, "load", ErrInit, "two analyzers have this name")
		}
		a := &analyzer{h: h, name: s.Name, index: i, spec: s, grant: s.GrantRules}
		g, err := h.load(a, s, "load")
		if err != nil {
			if !cfg.loadQuarantine || isErr(err, ErrInterrupted) {
				h.Close(context.Background())
				return nil, err
			}
			a.loadErr = err
			a.quarantined.Store(true)
			a.stats.failures.Add(1)
			a.stats.quarantines.Add(1)
			h.cfg.logger.Error("analyzer failed to load; quarantined", "analyzer", a.name, "err", err)
		} else {
			a.cur.Store(g)
			a.gens = []*generation{g}
		}
		h.analyzers = append(h.analyzers, a)
		h.byName[s.Name] = a
	}
	return h, nil
}

// Names returns the analyzers' names in order.
func (h *Host) Names() []string {
	out := make([]string, len(h.analyzers))
	for i, a := range h.analyzers {
		out[i] = a.name
	}
	return out
}

// Handle runs every analyzer over b and combines their verdicts into
// b.Verdicts (see Host). It is safe for concurrent use: each call borrows a
// worker (a set of instances) from a pool. Handle combines with the verdicts
// already in the batch, so a caller reusing a Batch resets them.
func (h *Host) Handle(b *packet.Batch) error {
	w, err := h.borrow()
	if err != nil {
		return err
	}
	err = w.Handle(b)
	h.mu.Lock()
	h.free = append(h.free, w)
	h.mu.Unlock()
	return err
}

func (h *Host) borrow() (*Worker, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed.Load() {
		return nil, ErrClosed
	}
	if n := len(h.free); n > 0 {
		w := h.free[n-1]
		h.free = h.free[:n-1]
		return w, nil
	}
	w := h.newWorker()
	return w, nil
}

// NewWorker returns a worker for one goroutine. Its instances are made on
// first use.
func (h *Host) NewWorker() *Worker {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.newWorker()
}

func (h *Host) newWorker() *Worker {
	w := &Worker{h: h, ctx: context.Background(), inst: make([]*instance, len(h.analyzers))}
	h.workers = append(h.workers, w)
	return w
}

// Counter is one counter of one analyzer.
type Counter struct {
	Analyzer string
	Name     string
	Value    uint64
}

// Counters returns every analyzer's counters (those its module declares),
// summed over workers, discarded instances and reloads, in analyzer order.
func (h *Host) Counters() []Counter {
	var out []Counter
	for _, a := range h.analyzers {
		a.mu.Lock()
		gens := append([]*generation(nil), a.gens...)
		a.mu.Unlock()
		sum := map[string]uint64{}
		var names []string
		for i := len(gens) - 1; i >= 0; i-- {
			names = gens[i].counters(names, sum)
		}
		for _, n := range names {
			out = append(out, Counter{Analyzer: a.name, Name: n, Value: sum[n]})
		}
	}
	return out
}

// Stats are the host's own counts for one analyzer.
type Stats struct {
	Analyzer           string
	Batches            uint64 // batches handled
	Calls              uint64 // successful wring_process calls
	Packets            uint64 // packets the analyzer saw
	Events             uint64 // events written
	EventsLost         uint64 // events lost: those the guest reported it could not fit, and those over the caps
	Failures           uint64 // failed calls and instantiations, all causes
	Fuel               uint64 // failures by fuel exhaustion
	Traps              uint64 // failures by other traps
	ABI                uint64 // failures by ABI violations (bad verdicts, events, Info)
	Guest              uint64 // calls where the guest returned an error code
	Instantiations     uint64 // instances made
	Quarantines        uint64 // times the analyzer was quarantined
	Reloads            uint64 // successful reloads
	PolicyPackets      uint64 // packets given the fail policy after a failure
	QuarantinedPackets uint64 // packets given the fail policy while quarantined
	Timeouts           uint64 // failures by the wall-clock backstop (ErrTimeout)
	Interrupted        uint64 // calls stopped or not made because the host was interrupted
	EventsOverCap      uint64 // events over the per-call caps, not written (also in EventsLost)
	StreamCalls        uint64 // successful wring_streams calls
	StreamChunks       uint64 // stream chunks handed over in them
	StreamBytes        uint64 // chunk bytes (data, start) handed over in them
	StreamLost         uint64 // chunks the analyzer wanted and did not get: failed calls, quarantine
	Quarantined        bool   // quarantined now
	LoadError          error  // why the analyzer failed to load, with WithLoadFailuresQuarantined
}

// Stats returns the host's counts for every analyzer, in order.
func (h *Host) Stats() []Stats {
	out := make([]Stats, len(h.analyzers))
	for i, a := range h.analyzers {
		s := &a.stats
		out[i] = Stats{
			Analyzer: a.name, Batches: s.batches.Load(), Calls: s.calls.Load(), Packets: s.packets.Load(),
			Events: s.events.Load(), EventsLost: s.eventsLost.Load(), Failures: s.failures.Load(),
			Fuel: s.fuel.Load(), Traps: s.traps.Load(), ABI: s.abi.Load(), Guest: s.guest.Load(),
			Instantiations: s.instantiations.Load(), Quarantines: s.quarantines.Load(), Reloads: s.reloads.Load(),
			PolicyPackets: s.policyPackets.Load(), QuarantinedPackets: s.quarantinedPackets.Load(),
			Timeouts: s.timeouts.Load(), Interrupted: s.interrupted.Load(), EventsOverCap: s.eventsOverCap.Load(),
			StreamCalls: s.streamCalls.Load(), StreamChunks: s.streamChunks.Load(), StreamBytes: s.streamBytes.Load(),
			StreamLost:  s.streamLost.Load(),
			Quarantined: a.quarantined.Load(), LoadError: a.loadErr,
		}
	}
	return out
}

func (h *Host) stat(a *analyzer) *stats { return &a.stats }

// Reload replaces an analyzer's module. The new module is compiled and
// checked first; on error the old one keeps running. Each worker switches at
// its next batch boundary, so every packet is seen by exactly one version.
// Reloading lifts a quarantine.
func (h *Host) Reload(ctx context.Context, name string, binary, config []byte) error {
	a := h.byName[name]
	if a == nil {
		return errorf(name, "reload", ErrUnknown, "")
	}
	a.mu.Lock()
	s := a.spec
	a.mu.Unlock()
	s.Binary, s.Config = binary, config
	stop := context.AfterFunc(ctx, func() { h.cancelLoads(fmt.Errorf("%w: %w", ErrInterrupted, context.Cause(ctx))) })
	g, err := h.load(a, s, "reload")
	stop()
	if err != nil {
		return err
	}
	a.mu.Lock()
	old := a.cur.Swap(g)
	a.gens = append(a.gens, g)
	a.spec = s
	a.failures = a.failures[:0]
	a.mu.Unlock()
	a.quarantined.Store(false)
	a.stats.reloads.Add(1)
	if old != nil {
		old.supersede(ctx)
	}
	h.cfg.logger.Info("analyzer reloaded", "analyzer", name)
	return nil
}

// SetRules publishes a new rule blob to an analyzer granted the rules
// capability. Its instances see BatchFlagRulesChanged on their next call and
// read the blob with wring.rules.
func (h *Host) SetRules(name string, blob []byte) error {
	a := h.byName[name]
	if a == nil {
		return errorf(name, "rules", ErrUnknown, "")
	}
	if !a.grant {
		return errorf(name, "rules", ErrCapability, "the rules capability was not granted")
	}
	var gen uint32 = 1
	if r := a.rules.Load(); r != nil {
		gen = r.gen + 1
	}
	a.rules.Store(&rules{gen: gen, data: append([]byte(nil), blob...)})
	return nil
}

// Close flushes analyzers that asked for ticks (wring_tick with final set),
// writes their last events and releases everything. Workers must not be in
// use. The counters stay readable.
func (h *Host) Close(ctx context.Context) error {
	h.mu.Lock()
	if h.closed.Swap(true) {
		h.mu.Unlock()
		return nil
	}
	workers := h.workers
	h.mu.Unlock()
	for _, w := range workers {
		w.close(ctx)
	}
	for _, a := range h.analyzers {
		a.mu.Lock()
		gens := a.gens
		a.mu.Unlock()
		for _, g := range gens {
			g.supersede(ctx)
		}
	}
	// Loads abandoned at their deadline may still be initialising an
	// instance: stop it, and anything else still running, before the
	// backstop goes.
	h.cancelLoads(ErrClosed)
	h.stopAll()
	close(h.quit)
	h.compMu.Lock()
	h.cacheClose = true
	h.compMu.Unlock()
	h.compiling(0)
	return nil
}

// failed records a failure, logs it and quarantines the analyzer when it
// failed too often.
func (a *analyzer) failed(err error) {
	s := &a.stats
	s.failures.Add(1)
	switch {
	case isErr(err, ErrFuel):
		s.fuel.Add(1)
	case isErr(err, ErrTrap):
		s.traps.Add(1)
	case isErr(err, ErrABI):
		s.abi.Add(1)
	case isErr(err, ErrGuest):
		s.guest.Add(1)
	case isErr(err, ErrTimeout):
		s.timeouts.Add(1)
	}
	policy := "fail-open"
	if a.h.cfg.failClosed {
		policy = "fail-closed"
	}
	a.h.cfg.logger.Warn("analyzer failed", "analyzer", a.name, "err", err, "policy", policy)
	now := time.Now()
	a.mu.Lock()
	a.failures = append(a.failures, now)
	cut := 0
	for cut < len(a.failures) && now.Sub(a.failures[cut]) > a.h.cfg.quarantineIn {
		cut++
	}
	a.failures = append(a.failures[:0], a.failures[cut:]...)
	q := len(a.failures) >= a.h.cfg.quarantineAfter
	a.mu.Unlock()
	if q && !a.quarantined.Swap(true) {
		s.quarantines.Add(1)
		a.h.cfg.logger.Error("analyzer quarantined", "analyzer", a.name,
			"failures", a.h.cfg.quarantineAfter, "window", a.h.cfg.quarantineIn, "last", err)
	}
}

// interrupted counts a call stopped or not made because the host is
// stopping; it is not the analyzer's failure, so it does not count towards
// quarantine, and it is logged once.
func (a *analyzer) interrupted(err error) {
	a.stats.interrupted.Add(1)
	if !a.warned.Swap(true) {
		a.h.cfg.logger.Warn("analyzer interrupted", "analyzer", a.name, "err", err)
	}
}

const logImport = spec.ABIModule + "." + spec.ImportLog

// hostLog implements wring.log(level, ptr, len). It costs hostCallCost and
// a unit per byte logged (at most 1024), paid before the rate limit.
func (a *analyzer) hostLog(ctx context.Context, mod api.Module, stack []uint64) {
	level, ptr, n := int32(stack[0]), uint32(stack[1]), uint32(stack[2])
	if n > 1024 {
		n = 1024
	}
	charge(ctx, mod, logImport, hostCallCost+int64(n)*hostByteCost)
	sec := time.Now().Unix()
	if a.logWindow.Swap(sec) != sec {
		a.logCount.Store(0)
	}
	if a.logCount.Add(1) > int64(a.h.cfg.logLines) {
		return
	}
	b, ok := mod.Memory().Read(ptr, n)
	if !ok {
		a.h.cfg.logger.Warn("guest log outside memory", "analyzer", a.name, "ptr", ptr, "len", n)
		return
	}
	lvl := slog.LevelInfo
	switch level {
	case spec.LogDebug:
		lvl = slog.LevelDebug
	case spec.LogWarn:
		lvl = slog.LevelWarn
	case spec.LogError:
		lvl = slog.LevelError
	}
	a.h.cfg.logger.Log(ctx, lvl, "guest log", "analyzer", a.name, "msg", string(appendJSONString(nil, b)))
}

// hostRules implements wring.rules(ptr, cap) -> len: it copies the current
// rule blob when it fits and returns its length either way; -1 when there is
// none.
//
// It costs hostCallCost, and a unit per byte when it copies.
func (a *analyzer) hostRules(ctx context.Context, mod api.Module, stack []uint64) {
	ptr, capacity := uint32(stack[0]), uint32(stack[1])
	in := charge(ctx, mod, rulesImport, hostCallCost)
	r := a.rules.Load()
	if r == nil || !a.grant {
		stack[0] = api.EncodeI32(-1)
		return
	}
	if uint64(len(r.data)) <= uint64(capacity) {
		in.charge(mod, rulesImport, int64(len(r.data))*hostByteCost)
		if !mod.Memory().Write(ptr, r.data) {
			stack[0] = api.EncodeI32(-1)
			return
		}
	}
	stack[0] = api.EncodeI32(int32(len(r.data)))
}

const rulesImport = spec.ABIModule + "." + spec.ImportRules

// eventsOut writes finished JSON lines.
func (h *Host) eventsOut(b []byte) {
	if h.cfg.events == nil || len(b) == 0 {
		return
	}
	h.evMu.Lock()
	defer h.evMu.Unlock()
	h.cfg.events.Write(b)
}

func isErr(err, target error) bool { return errors.Is(err, target) }
