// Package verifier checks classic BPF programs statically and returns an
// opaque *Program that the VM and the JITs accept. Unverified bytecode has no
// other way into them.
//
// Verify enforces every rule of Linux's classic checker (bpf_check_classic)
// and proves termination: jumps only go forward, so a run executes at most
// len(prog) instructions. It also records facts the backends use instead of
// checking again: per instruction, the packet length already guaranteed on
// every path that reaches it and the length guard that can be hoisted there;
// the largest packet offset read; the scratch slots used; the extensions
// used.
package verifier

import "github.com/wringcap/wring/spec"

// Options select what a program may use beyond plain classic BPF. The zero
// value accepts what Linux's classic checker accepts, minus nothing.
type Options struct {
	// NoAncillary rejects Linux ancillary loads (SKF_AD_*), for programs
	// that must run under libpcap's bpf_filter.
	NoAncillary bool
	// Record allows loads from wring's parse record (spec.RecordBase).
	Record bool
}

// Extension is a bit set of the extensions a program uses.
type Extension uint64

// Extension bits: one per Linux ancillary offset (bit = offset/4), plus the
// parse record.
const (
	ExtRecord Extension = 1 << 63
)

// Ancillary returns the Extension bit of a Linux ancillary offset
// (spec.AncProtocol ...).
func Ancillary(off uint32) Extension { return 1 << (off / 4) }

// Program is a verified classic BPF program. It can only be made by Verify,
// and it is immutable.
type Program struct {
	insns   spec.Program
	known   []uint32 // per pc: packet length guaranteed on every path reaching pc
	guard   []uint32 // per pc: length to check before pc (0: no check); covers later absolute loads
	maxOff  uint32   // largest packet offset+size read by an absolute load
	scratch uint16   // bit i: slot i written or read
	ext     Extension
	opts    Options
}

// Len returns the number of instructions.
func (p *Program) Len() int { return len(p.insns) }

// At returns the instruction at pc.
func (p *Program) At(pc int) spec.Instruction { return p.insns[pc] }

// Instructions returns a copy of the program's instructions.
func (p *Program) Instructions() spec.Program { return append(spec.Program(nil), p.insns...) }

// Known returns the packet length that every path reaching pc has already
// shown the packet to have (by a load that would otherwise have ended the
// run with 0, or by a hoisted guard, Guard(pc) included). An absolute packet
// load at pc whose end (k + size) is at most Known(pc) needs no check; with
// the guards in place that is every absolute packet load.
func (p *Program) Known(pc int) uint32 { return p.known[pc] }

// Guard returns the packet length a backend must check before executing pc
// (returning 0 when the packet is shorter), or 0 when no check is needed
// there. With every guard in place, no absolute packet load needs a check
// of its own; indirect loads (X+k) still do.
//
// The guard is sound because every path from pc to a return of anything but
// constant 0 performs absolute loads needing that length (ret a counts as
// possibly non-zero), a failed load ends the run with 0 anyway, and classic
// BPF has no side effects. A guard of math.MaxUint32 means every path from
// pc returns 0.
func (p *Program) Guard(pc int) uint32 { return p.guard[pc] }

// MaxOffset returns the largest end offset (offset + size) of an absolute
// packet load (ld [k], ldx 4*([k]&0xf)) in the program.
func (p *Program) MaxOffset() uint32 { return p.maxOff }

// Scratch returns a bit set of the scratch slots the program uses.
func (p *Program) Scratch() uint16 { return p.scratch }

// Extensions returns the extensions the program uses.
func (p *Program) Extensions() Extension { return p.ext }

// Options returns the options the program was verified with.
func (p *Program) Options() Options { return p.opts }
