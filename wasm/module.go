package wasm

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/wasm/internal/fuel"
	"github.com/wringcap/wring/wasm/internal/shape"
)

// Analyzer names one analyzer module to load.
type Analyzer struct {
	Name       string // how logs, errors, events and counters name it
	Binary     []byte // the .wasm module
	Config     []byte // configuration bytes handed to wring_init
	GrantRules bool   // grant the rules capability (the wring.rules import)
}

// generation is one compiled version of an analyzer: the initial load, then
// one per reload. Its runtime holds the memory limit and the host modules.
type generation struct {
	a        *analyzer
	rt       wazero.Runtime
	cm       wazero.CompiledModule // nil once the generation closed (under mu)
	tick     bool                  // exports wring_tick
	streams  bool                  // exports wring_streams
	initFunc bool                  // exports _initialize
	config   []byte
	// From the first instance's Info block: the module takes streams, for
	// these server ports (empty: all).
	wantStreams bool
	streamPorts []uint16

	mu      sync.Mutex
	names   []string           // counter names, from the first instance
	retired []uint64           // counters of discarded instances
	live    map[*instance]bool // instances in use or spare
	spare   []*instance        // instantiated, not yet taken by a worker
	current bool               // still the analyzer's current generation
	closed  bool
}

// wantFuncs are the required function exports with their signatures.
var wantFuncs = []struct {
	name    string
	params  []api.ValueType
	results []api.ValueType
}{
	{spec.ExportABIVersion, nil, []api.ValueType{api.ValueTypeI32}},
	{spec.ExportConfigBuffer, []api.ValueType{api.ValueTypeI32}, []api.ValueType{api.ValueTypeI32}},
	{spec.ExportInit, []api.ValueType{api.ValueTypeI32, api.ValueTypeI32}, []api.ValueType{api.ValueTypeI32}},
	{spec.ExportProcess, []api.ValueType{api.ValueTypeI32}, []api.ValueType{api.ValueTypeI32}},
}

var tickSig = struct{ params, results []api.ValueType }{
	[]api.ValueType{api.ValueTypeI64, api.ValueTypeI32}, []api.ValueType{api.ValueTypeI32},
}

// compile checks, meters and compiles one analyzer module into a new
// generation, and reports each stage it enters to stage. It does not
// instantiate it. The caller bounds its time (load).
func (h *Host) compile(ctx context.Context, a *analyzer, spec_ Analyzer, op string, stage func(string)) (*generation, error) {
	name := a.name
	lim := shape.DefaultLimits() // checked by load
	stage("rewriting")
	metered, err := fuel.RewriteWithOptions(spec_.Binary, spec.ExportFuel, h.cfg.initFuel, fuel.Options{
		TableElements: lim.TableElements, StackExport: spec.ExportStack, StackSlots: h.cfg.stackSlots,
		ReserveExport: spec.ExportFuelReserve, Slice: fuel.DefaultSlice})
	if err != nil {
		return nil, errorf(name, op, ErrCompile, "%w", err)
	}
	if h.cfg.unmetered {
		metered = spec_.Binary
	}
	rcfg := wazero.NewRuntimeConfigCompiler()
	if h.cfg.interpreter {
		rcfg = wazero.NewRuntimeConfigInterpreter()
	}
	rcfg = rcfg.WithMemoryLimitPages(h.cfg.memoryPages).WithCoreFeatures(api.CoreFeaturesV2)
	if h.cache != nil {
		rcfg = rcfg.WithCompilationCache(h.cache)
	}
	rt := wazero.NewRuntimeWithConfig(ctx, rcfg)
	fail := func(err error) (*generation, error) {
		rt.Close(ctx)
		return nil, err
	}
	stage("compiling")
	cm, err := rt.CompileModule(ctx, metered)
	if err != nil && h.cfg.cacheDir != "" && isCacheError(err) {
		// A damaged entry in the compilation cache: delete it and compile
		// again (the second attempt misses the cache).
		if removed := h.repairCache(); len(removed) > 0 {
			for _, p := range removed {
				h.cfg.logger.Warn("deleted a damaged compilation cache entry; compiling again",
					"analyzer", name, "path", p, "err", firstLine(err))
			}
			cm, err = rt.CompileModule(ctx, metered)
		}
	}
	if err != nil {
		return fail(errorf(name, op, ErrCompile, "%w", err))
	}
	for _, imp := range cm.ImportedFunctions() {
		mod, fn, _ := imp.Import()
		switch {
		case mod == wasiModule:
		case mod == spec.ABIModule && fn == spec.ImportLog:
		case mod == spec.ABIModule && (fn == spec.ImportRules || fn == spec.ImportRuleAdd || fn == spec.ImportRuleDel):
			if !spec_.GrantRules {
				return fail(errorf(name, op, ErrCapability, "%s.%s needs the rules capability", mod, fn))
			}
		default:
			return fail(errorf(name, op, ErrImport, "%s.%s", mod, fn))
		}
	}
	for _, imp := range cm.ImportedMemories() {
		mod, fn, _ := imp.Import()
		return fail(errorf(name, op, ErrImport, "memory %s.%s (the module must define and export its own)", mod, fn))
	}
	if _, ok := cm.ExportedMemories()[spec.ExportMemory]; !ok {
		return fail(errorf(name, op, ErrMissingExport, "memory %q", spec.ExportMemory))
	}
	exports := cm.ExportedFunctions()
	for _, w := range wantFuncs {
		d, ok := exports[w.name]
		if !ok {
			return fail(errorf(name, op, ErrMissingExport, "function %s", w.name))
		}
		if !slices.Equal(d.ParamTypes(), w.params) || !slices.Equal(d.ResultTypes(), w.results) {
			return fail(errorf(name, op, ErrMissingExport, "function %s has type %s, want %s",
				w.name, sig(d.ParamTypes(), d.ResultTypes()), sig(w.params, w.results)))
		}
	}
	g := &generation{a: a, rt: rt, cm: cm, config: spec_.Config, live: map[*instance]bool{}, current: true}
	if d, ok := exports[spec.ExportTick]; ok {
		if !slices.Equal(d.ParamTypes(), tickSig.params) || !slices.Equal(d.ResultTypes(), tickSig.results) {
			return fail(errorf(name, op, ErrMissingExport, "function %s has type %s, want %s",
				spec.ExportTick, sig(d.ParamTypes(), d.ResultTypes()), sig(tickSig.params, tickSig.results)))
		}
		g.tick = true
	}
	if d, ok := exports[spec.ExportStreams]; ok {
		want := wantFuncs[3] // the same type as wring_process
		if !slices.Equal(d.ParamTypes(), want.params) || !slices.Equal(d.ResultTypes(), want.results) {
			return fail(errorf(name, op, ErrMissingExport, "function %s has type %s, want %s",
				spec.ExportStreams, sig(d.ParamTypes(), d.ResultTypes()), sig(want.params, want.results)))
		}
		g.streams = true
	}
	if d, ok := exports[spec.ExportInitialize]; ok {
		if len(d.ParamTypes()) != 0 || len(d.ResultTypes()) != 0 {
			return fail(errorf(name, op, ErrMissingExport, "function %s must take and return nothing", spec.ExportInitialize))
		}
		g.initFunc = true
	}
	stage("linking")
	if err := h.instantiateHostModules(ctx, rt, a); err != nil {
		return fail(errorf(name, op, ErrCompile, "host modules: %w", err))
	}
	return g, nil
}

func sig(params, results []api.ValueType) string {
	s := "func("
	for i, p := range params {
		if i > 0 {
			s += ", "
		}
		s += api.ValueTypeName(p)
	}
	s += ")"
	for i, r := range results {
		if i == 0 {
			s += " -> "
		} else {
			s += ", "
		}
		s += api.ValueTypeName(r)
	}
	return s
}

// instantiateHostModules provides the wring host functions and a WASI layer
// without files, arguments, environment or wall clock.
func (h *Host) instantiateHostModules(ctx context.Context, rt wazero.Runtime, a *analyzer) error {
	if err := h.instantiateWASI(ctx, rt); err != nil {
		return err
	}
	i32 := api.ValueTypeI32
	_, err := rt.NewHostModuleBuilder(spec.ABIModule).
		NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(a.hostLog), []api.ValueType{i32, i32, i32}, nil).Export(spec.ImportLog).
		NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(a.hostRules), []api.ValueType{i32, i32}, []api.ValueType{i32}).Export(spec.ImportRules).
		NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(a.hostRuleAdd), []api.ValueType{i32, i32}, []api.ValueType{i32}).Export(spec.ImportRuleAdd).
		NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(a.hostRuleDel), []api.ValueType{i32, i32}, []api.ValueType{i32}).Export(spec.ImportRuleDel).
		Instantiate(ctx)
	return err
}

// take returns a spare instance or makes a new one.
func (g *generation) take(ctx context.Context) (*instance, error) {
	g.mu.Lock()
	if n := len(g.spare); n > 0 {
		in := g.spare[n-1]
		g.spare = g.spare[:n-1]
		g.mu.Unlock()
		return in, nil
	}
	closed := g.closed
	g.mu.Unlock()
	if closed {
		return nil, errorf(g.a.name, "instantiate", ErrClosed, "")
	}
	return g.a.h.instantiate(ctx, g)
}

// retire discards an instance, keeping its last good counters. It closes the
// generation's runtime when the generation is no longer current and no
// instance is left.
func (g *generation) retire(ctx context.Context, in *instance) {
	g.mu.Lock()
	if g.live[in] {
		delete(g.live, in)
		for i := range in.snap {
			if i < len(g.retired) {
				g.retired[i] += in.snap[i].Load()
			}
		}
	}
	closeRT := !g.current && len(g.live) == 0 && !g.closed
	if closeRT {
		g.closed = true
		g.cm = nil // the decoded module goes with the runtime, not with the Host
	}
	g.mu.Unlock()
	in.mod.Close(ctx)
	g.a.h.forget(in)
	if closeRT {
		g.rt.Close(ctx)
	}
}

// supersede marks the generation as replaced and discards its spares.
func (g *generation) supersede(ctx context.Context) {
	g.mu.Lock()
	g.current = false
	spare := g.spare
	g.spare = nil
	empty := len(g.live) == 0 && !g.closed
	if empty {
		g.closed = true
		g.cm = nil
	}
	g.mu.Unlock()
	for _, in := range spare {
		g.retire(ctx, in)
	}
	if empty {
		g.rt.Close(ctx)
	}
}

// counters adds the generation's counters (retired and live) into sum, by
// name.
func (g *generation) counters(names []string, sum map[string]uint64) []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i, n := range g.names {
		v := g.retired[i]
		for in := range g.live {
			if i < len(in.snap) {
				v += in.snap[i].Load()
			}
		}
		if _, ok := sum[n]; !ok {
			names = append(names, n)
		}
		sum[n] += v
	}
	return names
}

var errNoInfo = errors.New("wring_init returned 0")

func fmtSinks(s []string) string { return fmt.Sprintf("%q", s) }
