// This file is a test-only copy of the decoded interpreter vm.New /
// vm.Program as it stood before issue 14's change 90572a9 removed it
// (git show 90572a9^:vm/prepared.go). It is the before-anchor of
// BenchmarkFilter's "before" column: the portable backend took over its
// techniques, and the benchmark shows the two on the same programs and
// packets in one run. It is not used by any production code.
//
// One change from the original: where it handed a run over to vm's
// unexported interpreter at the current instruction (scratch memory and
// the loads above the packet), this copy calls vm.Run from the start,
// which gives the same result (nothing before that instruction has an
// effect) at a cost. TestOldProgramFast checks that the benchmark
// programs never take that path, so their figures are the original's.

package jit

import (
	"encoding/binary"
	"testing"

	"github.com/wringcap/wring/internal/benchdata"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
	"github.com/wringcap/wring/vm"
)

// oldProgram is a verified program decoded once for repeated runs, as
// golang.org/x/net/bpf's NewVM decodes its instructions: Run gives the same
// result as the package-level Run on every packet (the tests and a fuzz
// target hold the two together), with fewer dispatches.
//
// The decoding does three things. A conditional jump on a constant that
// follows a statement is folded into that statement's oldStep, so the common
// "load, compare" pair is one dispatch. Jump targets that are a ret #k
// become that return value, so a run ends where it decides instead of
// dispatching the return. And what the fast loop leaves out (scratch
// memory, loads from the parse record, Linux ancillary values and
// header-relative offsets) hands the run over to the package-level
// interpreter at that instruction; none of these can have happened before,
// so its empty scratch memory is the right state.
type oldProgram struct {
	prog  *verifier.Program
	steps []oldStep
}

// A oldStep is one classic instruction, decoded. Targets are oldStep indices, or,
// when negative, ^value: end the run returning value.
type oldStep struct {
	op     uint8 // what the oldStep does first (a oldStepOp)
	cond   uint8 // then: the jump to take (a oldCondOp)
	k      uint32
	ck     uint32 // the constant of cond
	jt, jf int64
}

// Step operations.
const (
	sNop uint8 = iota // nothing: cond decides
	sRetA
	sLdAbsW
	sLdAbsH
	sLdAbsB
	sLdIndW
	sLdIndH
	sLdIndB
	sLdImm
	sLdLen
	sLdxMsh
	sLdxImm
	sLdxLen
	sTax
	sTxa
	sAddK
	sAddX
	sSubK
	sSubX
	sMulK
	sMulX
	sDivK
	sDivX
	sModK
	sModX
	sAndK
	sAndX
	sOrK
	sOrX
	sXorK
	sXorX
	sLshK
	sLshX
	sRshK
	sRshX
	sNeg
	// a load and the conditional jump on a constant after it
	sLdAbsWJeq
	sLdAbsWJgt
	sLdAbsWJge
	sLdAbsWJset
	sLdAbsHJeq
	sLdAbsHJgt
	sLdAbsHJge
	sLdAbsHJset
	sLdAbsBJeq
	sLdAbsBJgt
	sLdAbsBJge
	sLdAbsBJset
	sLdIndWJeq
	sLdIndWJgt
	sLdIndWJge
	sLdIndWJset
	sLdIndHJeq
	sLdIndHJgt
	sLdIndHJge
	sLdIndHJset
	sLdIndBJeq
	sLdIndBJgt
	sLdIndBJge
	sLdIndBJset
	// a conditional jump alone
	sJeqK
	sJgtK
	sJgeK
	sJsetK
	sJeqX
	sJgtX
	sJgeX
	sJsetX
	sSlow // hand over to the interpreter (run) at this instruction
)

// Conditions that end a oldStep.
const (
	ocNext uint8 = iota // go to jt (the next oldStep, or the return it is)
	ocJeq
	ocJgt
	ocJge
	ocJset
	ocJeqX
	ocJgtX
	ocJgeX
	ocJsetX
)

// New decodes p for repeated runs.
func newOldProgram(p *verifier.Program) *oldProgram {
	n := p.Len()
	q := &oldProgram{prog: p, steps: make([]oldStep, n)}
	// target resolves a jump target: a ret #k becomes ^k, ja chains are
	// followed.
	var target func(pc int) int64
	target = func(pc int) int64 {
		ins := p.At(pc)
		switch ins.Op {
		case spec.OpRetK:
			return ^int64(ins.K)
		case spec.OpJa:
			return target(pc + 1 + int(ins.K))
		}
		return int64(pc)
	}
	for pc := range n {
		ins := p.At(pc)
		s := &q.steps[pc]
		s.k = ins.K
		s.op = oldStepOp(ins)
		switch ins.Op {
		case spec.OpRetK:
			s.op, s.cond = sNop, ocNext
			s.jt = ^int64(ins.K)
			continue
		case spec.OpRetA:
			continue
		case spec.OpJa:
			s.op, s.cond = sNop, ocNext
			s.jt = target(pc + 1 + int(ins.K))
			continue
		}
		if c := oldCondOp(ins.Op); c != ocNext {
			s.op, s.ck = oldJumpOps[c], ins.K
			s.jt, s.jf = target(pc+1+int(ins.Jt)), target(pc+1+int(ins.Jf))
			continue
		}
		if s.op == sSlow {
			continue
		}
		// A statement: fold a conditional jump that follows (a statement
		// is never last, so pc+1 exists).
		next := p.At(pc + 1)
		c := oldCondOp(next.Op)
		isLoad := s.op >= sLdAbsW && s.op <= sLdIndB
		if c == ocNext || isLoad && c > ocJset { // loads fold jumps on constants only
			c = ocNext
		}
		if c == ocNext {
			s.cond = ocNext
			s.jt = target(pc + 1)
			continue
		}
		s.cond, s.ck = c, next.K
		s.jt, s.jf = target(pc+2+int(next.Jt)), target(pc+2+int(next.Jf))
		if isLoad {
			s.op = sLdAbsWJeq + (s.op-sLdAbsW)*4 + (c - ocJeq)
		}
	}
	return q
}

// oldJumpOps gives the oldStep of a conditional jump standing alone.
var oldJumpOps = [...]uint8{ocJeq: sJeqK, ocJgt: sJgtK, ocJge: sJgeK, ocJset: sJsetK, ocJeqX: sJeqX, ocJgtX: sJgtX, ocJgeX: sJgeX, ocJsetX: sJsetX}

// oldCondOp returns the condition of a conditional jump, or ocNext for any
// other instruction.
func oldCondOp(op uint16) uint8 {
	switch op {
	case spec.OpJeqK:
		return ocJeq
	case spec.OpJgtK:
		return ocJgt
	case spec.OpJgeK:
		return ocJge
	case spec.OpJsetK:
		return ocJset
	case spec.ClassJMP | spec.JumpJEQ | spec.SrcX:
		return ocJeqX
	case spec.ClassJMP | spec.JumpJGT | spec.SrcX:
		return ocJgtX
	case spec.ClassJMP | spec.JumpJGE | spec.SrcX:
		return ocJgeX
	case spec.ClassJMP | spec.JumpJSET | spec.SrcX:
		return ocJsetX
	}
	return ocNext
}

// oldStepOp decodes the statement part of ins.
func oldStepOp(ins spec.Instruction) uint8 {
	switch ins.Op {
	case spec.OpLdAbsW, spec.OpLdAbsH, spec.OpLdAbsB, spec.OpLdxMsh:
		if ins.K >= spec.RecordBase { // record, ancillary or header-relative
			return sSlow
		}
	}
	if s, ok := oldStepOps[ins.Op]; ok {
		return s
	}
	return sSlow // scratch memory and anything else the fast loop leaves out
}

var oldStepOps = map[uint16]uint8{
	spec.OpRetA:   sRetA,
	spec.OpLdAbsW: sLdAbsW, spec.OpLdAbsH: sLdAbsH, spec.OpLdAbsB: sLdAbsB, spec.OpLdxMsh: sLdxMsh,
	spec.OpLdIndW: sLdIndW, spec.OpLdIndH: sLdIndH, spec.OpLdIndB: sLdIndB,
	spec.OpLdImm: sLdImm, spec.OpLdLen: sLdLen, spec.OpLdxImm: sLdxImm, spec.OpLdxLen: sLdxLen,
	spec.OpTax: sTax, spec.OpTxa: sTxa, spec.OpNeg: sNeg,
	spec.ClassALU | spec.ALUAdd | spec.SrcK: sAddK, spec.ClassALU | spec.ALUAdd | spec.SrcX: sAddX,
	spec.ClassALU | spec.ALUSub | spec.SrcK: sSubK, spec.ClassALU | spec.ALUSub | spec.SrcX: sSubX,
	spec.ClassALU | spec.ALUMul | spec.SrcK: sMulK, spec.ClassALU | spec.ALUMul | spec.SrcX: sMulX,
	spec.ClassALU | spec.ALUDiv | spec.SrcK: sDivK, spec.ClassALU | spec.ALUDiv | spec.SrcX: sDivX,
	spec.ClassALU | spec.ALUMod | spec.SrcK: sModK, spec.ClassALU | spec.ALUMod | spec.SrcX: sModX,
	spec.ClassALU | spec.ALUAnd | spec.SrcK: sAndK, spec.ClassALU | spec.ALUAnd | spec.SrcX: sAndX,
	spec.ClassALU | spec.ALUOr | spec.SrcK: sOrK, spec.ClassALU | spec.ALUOr | spec.SrcX: sOrX,
	spec.ClassALU | spec.ALUXor | spec.SrcK: sXorK, spec.ClassALU | spec.ALUXor | spec.SrcX: sXorX,
	spec.ClassALU | spec.ALULsh | spec.SrcK: sLshK, spec.ClassALU | spec.ALULsh | spec.SrcX: sLshX,
	spec.ClassALU | spec.ALURsh | spec.SrcK: sRshK, spec.ClassALU | spec.ALURsh | spec.SrcX: sRshX,
}

// Run executes the program on one packet, with the package-level Run's
// arguments and result.
func (q *oldProgram) Run(pkt []byte, wirelen uint32, meta *Meta) uint32 {
	var a, x uint32
	n := uint64(len(pkt))
	steps := q.steps
	pc := 0
	for {
		s := &steps[pc]
		var t int64
		switch s.op {
		case sLdAbsW:
			if uint64(s.k)+4 > n {
				return 0
			}
			a = binary.BigEndian.Uint32(pkt[s.k:])
			t = s.jt
		case sLdAbsWJeq:
			if uint64(s.k)+4 > n {
				return 0
			}
			a = binary.BigEndian.Uint32(pkt[s.k:])
			t = oldPick(a == s.ck, s)
		case sLdAbsWJgt:
			if uint64(s.k)+4 > n {
				return 0
			}
			a = binary.BigEndian.Uint32(pkt[s.k:])
			t = oldPick(a > s.ck, s)
		case sLdAbsWJge:
			if uint64(s.k)+4 > n {
				return 0
			}
			a = binary.BigEndian.Uint32(pkt[s.k:])
			t = oldPick(a >= s.ck, s)
		case sLdAbsWJset:
			if uint64(s.k)+4 > n {
				return 0
			}
			a = binary.BigEndian.Uint32(pkt[s.k:])
			t = oldPick(a&s.ck != 0, s)
		case sLdAbsH:
			if uint64(s.k)+2 > n {
				return 0
			}
			a = uint32(binary.BigEndian.Uint16(pkt[s.k:]))
			t = s.jt
		case sLdAbsHJeq:
			if uint64(s.k)+2 > n {
				return 0
			}
			a = uint32(binary.BigEndian.Uint16(pkt[s.k:]))
			t = oldPick(a == s.ck, s)
		case sLdAbsHJgt:
			if uint64(s.k)+2 > n {
				return 0
			}
			a = uint32(binary.BigEndian.Uint16(pkt[s.k:]))
			t = oldPick(a > s.ck, s)
		case sLdAbsHJge:
			if uint64(s.k)+2 > n {
				return 0
			}
			a = uint32(binary.BigEndian.Uint16(pkt[s.k:]))
			t = oldPick(a >= s.ck, s)
		case sLdAbsHJset:
			if uint64(s.k)+2 > n {
				return 0
			}
			a = uint32(binary.BigEndian.Uint16(pkt[s.k:]))
			t = oldPick(a&s.ck != 0, s)
		case sLdAbsB:
			if uint64(s.k) >= n {
				return 0
			}
			a = uint32(pkt[s.k])
			t = s.jt
		case sLdAbsBJeq:
			if uint64(s.k) >= n {
				return 0
			}
			a = uint32(pkt[s.k])
			t = oldPick(a == s.ck, s)
		case sLdAbsBJgt:
			if uint64(s.k) >= n {
				return 0
			}
			a = uint32(pkt[s.k])
			t = oldPick(a > s.ck, s)
		case sLdAbsBJge:
			if uint64(s.k) >= n {
				return 0
			}
			a = uint32(pkt[s.k])
			t = oldPick(a >= s.ck, s)
		case sLdAbsBJset:
			if uint64(s.k) >= n {
				return 0
			}
			a = uint32(pkt[s.k])
			t = oldPick(a&s.ck != 0, s)
		case sLdIndW:
			off := uint64(x) + uint64(s.k)
			if off+4 > n {
				return 0
			}
			a = binary.BigEndian.Uint32(pkt[off:])
			t = s.jt
		case sLdIndWJeq:
			off := uint64(x) + uint64(s.k)
			if off+4 > n {
				return 0
			}
			a = binary.BigEndian.Uint32(pkt[off:])
			t = oldPick(a == s.ck, s)
		case sLdIndWJgt:
			off := uint64(x) + uint64(s.k)
			if off+4 > n {
				return 0
			}
			a = binary.BigEndian.Uint32(pkt[off:])
			t = oldPick(a > s.ck, s)
		case sLdIndWJge:
			off := uint64(x) + uint64(s.k)
			if off+4 > n {
				return 0
			}
			a = binary.BigEndian.Uint32(pkt[off:])
			t = oldPick(a >= s.ck, s)
		case sLdIndWJset:
			off := uint64(x) + uint64(s.k)
			if off+4 > n {
				return 0
			}
			a = binary.BigEndian.Uint32(pkt[off:])
			t = oldPick(a&s.ck != 0, s)
		case sLdIndH:
			off := uint64(x) + uint64(s.k)
			if off+2 > n {
				return 0
			}
			a = uint32(binary.BigEndian.Uint16(pkt[off:]))
			t = s.jt
		case sLdIndHJeq:
			off := uint64(x) + uint64(s.k)
			if off+2 > n {
				return 0
			}
			a = uint32(binary.BigEndian.Uint16(pkt[off:]))
			t = oldPick(a == s.ck, s)
		case sLdIndHJgt:
			off := uint64(x) + uint64(s.k)
			if off+2 > n {
				return 0
			}
			a = uint32(binary.BigEndian.Uint16(pkt[off:]))
			t = oldPick(a > s.ck, s)
		case sLdIndHJge:
			off := uint64(x) + uint64(s.k)
			if off+2 > n {
				return 0
			}
			a = uint32(binary.BigEndian.Uint16(pkt[off:]))
			t = oldPick(a >= s.ck, s)
		case sLdIndHJset:
			off := uint64(x) + uint64(s.k)
			if off+2 > n {
				return 0
			}
			a = uint32(binary.BigEndian.Uint16(pkt[off:]))
			t = oldPick(a&s.ck != 0, s)
		case sLdIndB:
			off := uint64(x) + uint64(s.k)
			if off >= n {
				return 0
			}
			a = uint32(pkt[off])
			t = s.jt
		case sLdIndBJeq:
			off := uint64(x) + uint64(s.k)
			if off >= n {
				return 0
			}
			a = uint32(pkt[off])
			t = oldPick(a == s.ck, s)
		case sLdIndBJgt:
			off := uint64(x) + uint64(s.k)
			if off >= n {
				return 0
			}
			a = uint32(pkt[off])
			t = oldPick(a > s.ck, s)
		case sLdIndBJge:
			off := uint64(x) + uint64(s.k)
			if off >= n {
				return 0
			}
			a = uint32(pkt[off])
			t = oldPick(a >= s.ck, s)
		case sLdIndBJset:
			off := uint64(x) + uint64(s.k)
			if off >= n {
				return 0
			}
			a = uint32(pkt[off])
			t = oldPick(a&s.ck != 0, s)
		case sJeqK:
			t = oldPick(a == s.ck, s)
		case sJgtK:
			t = oldPick(a > s.ck, s)
		case sJgeK:
			t = oldPick(a >= s.ck, s)
		case sJsetK:
			t = oldPick(a&s.ck != 0, s)
		case sJeqX:
			t = oldPick(a == x, s)
		case sJgtX:
			t = oldPick(a > x, s)
		case sJgeX:
			t = oldPick(a >= x, s)
		case sJsetX:
			t = oldPick(a&x != 0, s)
		case sNop:
			t = s.jt
		case sRetA:
			return a
		case sSlow:
			return vm.Run(q.prog, pkt, wirelen, meta) // see the file comment
		default:
			// Any other statement, then its condition.
			switch s.op {
			case sLdxMsh:
				if uint64(s.k) >= n {
					return 0
				}
				x = uint32(pkt[s.k]&0xf) << 2
			case sLdImm:
				a = s.k
			case sLdLen:
				a = wirelen
			case sLdxImm:
				x = s.k
			case sLdxLen:
				x = wirelen
			case sTax:
				x = a
			case sTxa:
				a = x
			case sAddK:
				a += s.k
			case sAddX:
				a += x
			case sSubK:
				a -= s.k
			case sSubX:
				a -= x
			case sMulK:
				a *= s.k
			case sMulX:
				a *= x
			case sDivK:
				a /= s.k // the verifier rejects div #0
			case sDivX:
				if x == 0 {
					return 0
				}
				a /= x
			case sModK:
				a %= s.k // the verifier rejects mod #0
			case sModX:
				if x == 0 {
					return 0
				}
				a %= x
			case sAndK:
				a &= s.k
			case sAndX:
				a &= x
			case sOrK:
				a |= s.k
			case sOrX:
				a |= x
			case sXorK:
				a ^= s.k
			case sXorX:
				a ^= x
			case sLshK:
				a <<= s.k
			case sLshX:
				a <<= x
			case sRshK:
				a >>= s.k
			case sRshX:
				a >>= x
			case sNeg:
				a = -a
			}
			switch s.cond {
			case ocNext:
				t = s.jt
			case ocJeq:
				t = oldPick(a == s.ck, s)
			case ocJgt:
				t = oldPick(a > s.ck, s)
			case ocJge:
				t = oldPick(a >= s.ck, s)
			case ocJset:
				t = oldPick(a&s.ck != 0, s)
			case ocJeqX:
				t = oldPick(a == x, s)
			case ocJgtX:
				t = oldPick(a > x, s)
			case ocJgeX:
				t = oldPick(a >= x, s)
			case ocJsetX:
				t = oldPick(a&x != 0, s)
			}
		}
		if t < 0 {
			return uint32(^t)
		}
		pc = int(t)
	}
}

// oldPick returns the oldStep's true or false target.
func oldPick(c bool, s *oldStep) int64 {
	if c {
		return s.jt
	}
	return s.jf
}

// TestOldProgramFast checks that the benchmark programs run wholly in the
// before-anchor's fast loop (no hand-over, which this copy does
// differently), and that the anchor agrees with vm.Run on the working set.
func TestOldProgramFast(t *testing.T) {
	ws := benchdata.WorkingSet(t)
	for _, bf := range benchdata.Filters() {
		p, err := verifier.Verify(bf.Program, verifier.Options{})
		if err != nil {
			t.Fatalf("%s: %v", bf.Name, err)
		}
		q := newOldProgram(p)
		for pc, s := range q.steps {
			if s.op == sSlow {
				t.Errorf("%s: pc %d hands over to vm.Run", bf.Name, pc)
			}
		}
		for i, pk := range ws {
			if got, want := q.Run(pk.Data, pk.WireLen, nil), vm.Run(p, pk.Data, pk.WireLen, nil); got != want {
				t.Fatalf("%s packet %d: before %d, vm %d", bf.Name, i, got, want)
			}
		}
	}
}
