package jit

import (
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
)

// unbounded is a length no packet has: the requirement of a path that can
// only return 0.
const unbounded = ^uint64(0)

// plan holds what both backends need beyond the instructions: where to
// check the packet length and by how much. It is computed once per
// Compile from the verifier's facts.
//
// Absolute loads: the verifier's Guard(pc) is the hoisted check, and every
// absolute packet load is covered by a guard or an earlier load on every
// path. The plan re-derives that coverage as a cross-check; a load it finds
// uncovered (which would be a verifier bug) gets a check of its own, so a
// wrong fact costs speed, never safety.
//
// Indirect loads ([x + k]): the verifier leaves them alone, so the plan
// coalesces them the same way, per "X epoch" (until X is written): need is
// the largest k+size that every path from pc reads relative to the current
// X before returning anything but constant 0; a check of X+need at the
// first indirect load of an epoch covers the later ones.
type plan struct {
	// absGuard[pc] is the length to check before pc (0: none), the
	// verifier's guard raised where a load was found uncovered.
	absGuard []uint32
	// indCheck[pc] is, for an indirect load, the X-relative length to
	// check before it (0: covered by an earlier check); unbounded when
	// every path from pc returns 0 whatever the packet.
	indCheck []uint64
	// readSlots is the bit set of scratch slots read.
	readSlots uint16
	// known[pc] is the packet length proven on every path reaching pc,
	// the check at pc included; it must equal the verifier's Known(pc).
	known []uint64
	// absChecks and indChecks count the checks the plan places; other
	// counts the header-relative loads (SKF_LL_OFF, SKF_NET_OFF), which
	// check at each load; extra counts the absolute loads the verifier's
	// guards did not cover.
	absChecks, indChecks, other, extra int
}

// isCondJump reports whether ins is a conditional jump.
func isCondJump(ins spec.Instruction) bool {
	return ins.Class() == spec.ClassJMP && ins.Operation() != spec.JumpJA
}

// isPacketAbs reports whether an absolute load at offset k reads the packet
// at offset k. Offsets from spec.RecordBase up are special: the parse
// record, header-relative packet offsets (SKF_LL_OFF, SKF_NET_OFF) and
// Linux ancillary data.
func isPacketAbs(k uint32) bool { return k < spec.RecordBase }

// absLoadEnd returns k+size of an absolute packet load (ld abs or ldx msh),
// and false for any other instruction.
func absLoadEnd(ins spec.Instruction) (uint64, bool) {
	switch ins.Op {
	case spec.OpLdAbsW, spec.OpLdAbsH, spec.OpLdAbsB:
		if isPacketAbs(ins.K) {
			return uint64(ins.K) + uint64(spec.LoadSize(ins.Op)), true
		}
	case spec.OpLdxMsh:
		if isPacketAbs(ins.K) {
			return uint64(ins.K) + 1, true
		}
	}
	return 0, false
}

// isHeaderRelative reports whether ins loads a packet byte at an offset
// relative to the link-layer or network header (k from spec.LLOff up; for
// ld, below the ancillary range).
func isHeaderRelative(ins spec.Instruction) bool {
	switch ins.Op {
	case spec.OpLdAbsW, spec.OpLdAbsH, spec.OpLdAbsB:
		return ins.K >= spec.LLOff && ins.K < spec.AncillaryBase
	case spec.OpLdxMsh:
		return ins.K >= spec.LLOff
	}
	return false
}

// writesX reports whether ins assigns X.
func writesX(ins spec.Instruction) bool {
	return ins.Class() == spec.ClassLDX || ins.Op == spec.OpTax
}

// successors calls f for each instruction that can run after pc.
func successors(ins spec.Instruction, pc int, f func(int)) {
	switch {
	case ins.Class() == spec.ClassRET:
	case ins.Op == spec.OpJa:
		f(pc + 1 + int(ins.K))
	case isCondJump(ins):
		f(pc + 1 + int(ins.Jt))
		if ins.Jf != ins.Jt {
			f(pc + 1 + int(ins.Jf))
		}
	default:
		f(pc + 1)
	}
}

// makePlan computes the plan of a verified program.
func makePlan(p *verifier.Program) *plan {
	n := p.Len()
	insns := make([]spec.Instruction, n)
	for pc := range insns {
		insns[pc] = p.At(pc)
	}
	pl := &plan{absGuard: make([]uint32, n), indCheck: make([]uint64, n), known: make([]uint64, n)}

	// Backward: indirect need per pc, relative to X at pc's entry.
	need := make([]uint64, n)
	for pc := n - 1; pc >= 0; pc-- {
		ins := insns[pc]
		switch {
		case ins.Op == spec.OpRetK && ins.K == 0:
			need[pc] = unbounded
		case ins.Class() == spec.ClassRET:
			need[pc] = 0
		case ins.Op == spec.OpJa:
			need[pc] = need[pc+1+int(ins.K)]
		case isCondJump(ins):
			need[pc] = min(need[pc+1+int(ins.Jt)], need[pc+1+int(ins.Jf)])
		case writesX(ins):
			need[pc] = 0
		case ins.Mode() == spec.ModeIND && ins.Class() == spec.ClassLD:
			need[pc] = max(need[pc+1], uint64(ins.K)+uint64(spec.LoadSize(ins.Op)))
		default:
			need[pc] = need[pc+1]
		}
		if ins.Op == spec.OpLdMem || ins.Op == spec.OpLdxMem {
			pl.readSlots |= 1 << (ins.K & 15)
		}
		if isHeaderRelative(ins) {
			pl.other++
		}
	}

	// Forward: what is proven on every path reaching pc. abs is the packet
	// length, xrel the length relative to X, xmax an upper bound of X.
	type state struct{ abs, xrel, xmax uint64 }
	in := make([]state, n)
	reached := make([]bool, n)
	reached[0] = true
	in[0] = state{xmax: 0} // X starts at 0
	merge := func(to int, s state) {
		if !reached[to] {
			reached[to], in[to] = true, s
			return
		}
		in[to] = state{min(in[to].abs, s.abs), min(in[to].xrel, s.xrel), max(in[to].xmax, s.xmax)}
	}
	for pc, ins := range insns {
		s := in[pc]
		if !reached[pc] {
			s = state{xmax: unbounded}
		}
		if g := uint64(p.Guard(pc)); g > s.abs {
			pl.absGuard[pc] = uint32(g)
			s.abs = g
		}
		if end, ok := absLoadEnd(ins); ok && end > s.abs {
			// Not covered by the verifier's facts: check here.
			pl.extra++
			// end < 2^32: packet loads have k < spec.AncillaryBase.
			pl.absGuard[pc] = uint32(end)
			s.abs = end
		}
		if pl.absGuard[pc] != 0 {
			pl.absChecks++
		}
		pl.known[pc] = s.abs
		if end, ok := absLoadEnd(ins); ok {
			s.abs = max(s.abs, end)
		}
		if ins.Class() == spec.ClassLD && ins.Mode() == spec.ModeIND {
			end := uint64(ins.K) + uint64(spec.LoadSize(ins.Op))
			nd := max(need[pc], end)
			switch {
			case s.xrel >= end:
				// covered by an earlier check in this X epoch
			case s.xmax != unbounded && s.xmax+nd <= s.abs:
				s.xrel = nd // X is small enough: the packet length covers it
			default:
				pl.indCheck[pc] = nd
				pl.indChecks++
				s.xrel = nd
			}
		}
		if writesX(ins) {
			s.xrel = 0
			switch ins.Op {
			case spec.OpLdxImm:
				s.xmax = uint64(ins.K)
			case spec.OpLdxMsh:
				s.xmax = 60
			default:
				s.xmax = unbounded
			}
		}
		successors(ins, pc, func(to int) { merge(to, s) })
	}
	return pl
}
