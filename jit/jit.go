package jit

import (
	"errors"
	"fmt"
	"unsafe"

	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
)

// Options select how a program is compiled. The zero value compiles to
// native code where the platform has a native backend, with constant
// blinding.
type Options struct {
	// NoBlinding turns constant blinding off: the program's constants
	// then appear in the machine code as they are. Only for trusted
	// programs (and for tests that compare the two).
	NoBlinding bool
	// Portable forces the portable backend even where native code is
	// available (for tests, and to compare the two).
	Portable bool
}

// Errors callers can branch on with errors.Is.
var (
	// ErrNilProgram is returned by Compile for a nil program.
	ErrNilProgram = errors.New("jit: nil program")
	// ErrBatchLength is returned by RunBatch when its slices do not match.
	ErrBatchLength = errors.New("jit: batch slices of different lengths")
	// ErrBlinding is returned when no draw of blinding keys kept every
	// program constant out of the code. It does not happen in practice
	// (each draw fails with a probability near 2^-24); it exists so that
	// a blinded Filter never breaks its promise.
	ErrBlinding = errors.New("jit: could not blind the program's constants")
)

// blindAttempts bounds the key draws of one Compile.
const blindAttempts = 64

// Filter is a compiled program. Run, RunMeta and RunBatch are safe for
// concurrent use by several goroutines; Close must not run concurrently
// with them.
type Filter struct {
	code   uintptr   // entry point of the native code; 0 when portable or closed
	batch  uintptr   // entry point of its batch form
	native *mapping  // the executable mapping; nil when portable
	port   *portable // the portable form; nil when native or closed
	eng    engine    // what Run calls: port, the native code, or closedEngine
	checks checkCount
	layout layout // where the native code's keyed and jump fields are
	closed bool
}

// layout locates fields of the native code: the bytes that depend on the
// blinding keys and the rel32 displacements of jumps (for the blinding
// tests and for diagnostics).
type layout struct {
	size         int
	keyed, jumps []span
}

// Compile compiles a verified program. It fails only for a nil program or
// when the system refuses executable memory; a program the native backend
// does not handle (one using the netlink attribute searches, which loop)
// gets the portable backend, as does every program on platforms without a
// native backend. Native reports which one a Filter runs.
func Compile(p *verifier.Program, opts Options) (*Filter, error) {
	if p == nil {
		return nil, ErrNilProgram
	}
	pl := makePlan(p)
	f := &Filter{}
	if nativeSupported && !opts.Portable {
		c, err := compileNative(p, pl, !opts.NoBlinding)
		switch {
		case err == nil:
			m, err := newMapping(c.code)
			if err != nil {
				return nil, fmt.Errorf("jit: map the code: %w", err)
			}
			f.native, f.code, f.checks = m, m.entry(), c.checks
			f.batch = f.code + uintptr(c.batchAt)
			f.layout = layout{size: len(c.code), keyed: c.keyed, jumps: c.jumps}
			m.attach(f)
			f.eng = nativeEngine{f}
			return f, nil
		case !errors.Is(err, errNeedsPortable):
			return nil, err
		}
	}
	f.port = newPortable(p, pl)
	f.eng = f.port.engine()
	f.checks = checkCount{Guard: pl.absChecks, Indirect: pl.indChecks, Other: pl.other}
	return f, nil
}

// compileNative generates x86-64 code, drawing blinding keys again while
// a program constant appears in a keyed field by chance.
func compileNative(p *verifier.Program, pl *plan, blind bool) (*x86Code, error) {
	if !blind {
		return genBoth(p, pl, nil)
	}
	ks := make([]uint32, p.Len())
	for pc := range ks {
		ks[pc] = p.At(pc).K
	}
	targets := blindTargets(ks, pl)
	for range blindAttempts {
		c, err := genBoth(p, pl, newKeySource())
		if err != nil {
			return nil, err
		}
		if verbatimAt(c.code, c.keyed, targets) < 0 {
			return c, nil
		}
	}
	return nil, ErrBlinding
}

// Run runs the filter on one packet with no metadata (ancillary loads read
// zeros, record loads fail) and returns what vm.Run returns: the number of
// bytes to keep, 0 to reject. pkt holds the captured bytes, wirelen the
// length on the wire (what len reads). Run allocates nothing. It panics if
// the filter has been closed.
func (f *Filter) Run(pkt []byte, wirelen uint32) uint32 {
	return f.eng.run(pkt, wirelen, &zeroMeta, nil)
}

// RunMeta is Run with the packet's metadata and parse record (a *vm.Meta
// converts to a *Meta). meta may be nil.
func (f *Filter) RunMeta(pkt []byte, wirelen uint32, meta *Meta) uint32 {
	if meta == nil {
		meta = &zeroMeta
	}
	return f.eng.run(pkt, wirelen, meta, nil)
}

// engine runs the filter on one packet: the portable form, the native
// code, or after Close a panic. Run and RunMeta are one call through it,
// small enough to be inlined into their callers, so the portable form's
// loop is the first call a packet makes. Callers pass a nil st: the
// portable loop is itself the engine of most programs, and st is where
// portableWithState, the engine of the others, passes it their state.
type engine interface {
	run(pkt []byte, wirelen uint32, meta *Meta, st *portableState) uint32
}

// nativeEngine enters a filter's native code.
type nativeEngine struct{ f *Filter }

func (e nativeEngine) run(pkt []byte, wirelen uint32, meta *Meta, _ *portableState) uint32 {
	r := enter(e.f.code, unsafe.SliceData(pkt), uint64(len(pkt)), wirelen, meta)
	keepAlive(e.f)
	return r
}

// closedEngine is the engine of a closed Filter.
type closedEngine struct{}

func (closedEngine) run([]byte, uint32, *Meta, *portableState) uint32 {
	panic("jit: Run on a closed Filter")
}

// batchChunk bounds the packets one entry into native code runs, so that
// a goroutine in RunBatch reaches a preemption point at least every
// batchChunk packets (the native code cannot be preempted).
const batchChunk = 64

// RunBatch runs the filter on every packet of pkts, with no metadata, and
// stores the results in out[i]. wirelens[i] is packet i's length on the
// wire; a nil wirelens means every packet was captured whole. It returns
// ErrBatchLength unless len(out) >= len(pkts) and wirelens is nil or as
// long as pkts. With native code, the loop over the packets runs in native
// code too, which saves the cost of entering it once per packet. RunBatch
// allocates nothing and panics if the filter has been closed.
func (f *Filter) RunBatch(pkts [][]byte, wirelens []uint32, out []uint32) error {
	if len(out) < len(pkts) || (wirelens != nil && len(wirelens) != len(pkts)) {
		return fmt.Errorf("%w: %d packets, %d wire lengths, %d results", ErrBatchLength, len(pkts), len(wirelens), len(out))
	}
	if f.code == 0 {
		for i, pkt := range pkts {
			wl := uint32(len(pkt))
			if wirelens != nil {
				wl = wirelens[i]
			}
			out[i] = f.eng.run(pkt, wl, &zeroMeta, nil)
		}
		return nil
	}
	for start := 0; start < len(pkts); start += batchChunk {
		end := min(start+batchChunk, len(pkts))
		var wl *uint32
		if wirelens != nil {
			wl = &wirelens[start]
		}
		enterBatch(f.batch, &pkts[start], wl, &out[start], end-start, &zeroMeta)
	}
	keepAlive(f)
	return nil
}

// Native reports whether the filter runs native machine code (rather than
// the portable backend).
func (f *Filter) Native() bool { return f.native != nil }

// Checks returns the number of packet length checks in the compiled
// program: the hoisted guards, the coalesced checks of indirect loads and
// the checks of header-relative loads (SKF_LL_OFF, SKF_NET_OFF).
func (f *Filter) Checks() int { return f.checks.Total() }

// Close frees the filter's executable memory. Later calls return nil; Run
// after Close panics. A Filter that is not closed is freed when it is
// garbage collected.
func (f *Filter) Close() error {
	if f.closed {
		return nil
	}
	f.closed = true
	f.code, f.batch, f.port, f.eng = 0, 0, nil, closedEngine{}
	if f.native == nil {
		return nil
	}
	m := f.native
	f.native = nil
	if err := m.free(); err != nil {
		return fmt.Errorf("jit: unmap the code: %w", err)
	}
	return nil
}

// guard against an accidental change of the scratch size the trampoline
// reserves.
var _ [4*spec.MemWords - scratchBytes]struct{}
