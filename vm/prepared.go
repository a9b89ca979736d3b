package vm

import (
	"encoding/binary"

	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
)

// Program is a verified program decoded once for repeated runs, as
// golang.org/x/net/bpf's NewVM decodes its instructions: Run gives the same
// result as the package-level Run on every packet (the tests and a fuzz
// target hold the two together), with fewer dispatches.
//
// The decoding does three things. A conditional jump on a constant that
// follows a statement is folded into that statement's step, so the common
// "load, compare" pair is one dispatch. Jump targets that are a ret #k
// become that return value, so a run ends where it decides instead of
// dispatching the return. And what the fast loop leaves out (scratch
// memory, loads from the parse record, Linux ancillary values and
// header-relative offsets) hands the run over to the package-level
// interpreter at that instruction; none of these can have happened before,
// so its empty scratch memory is the right state.
type Program struct {
	prog  *verifier.Program
	steps []step
}

// A step is one classic instruction, decoded. Targets are step indices, or,
// when negative, ^value: end the run returning value.
type step struct {
	op     uint8 // what the step does first (a stepOp)
	cond   uint8 // then: the jump to take (a condOp)
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

// Conditions that end a step.
const (
	cNext uint8 = iota // go to jt (the next step, or the return it is)
	cJeq
	cJgt
	cJge
	cJset
	cJeqX
	cJgtX
	cJgeX
	cJsetX
)

// New decodes p for repeated runs.
func New(p *verifier.Program) *Program {
	n := p.Len()
	q := &Program{prog: p, steps: make([]step, n)}
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
		s.op = stepOp(ins)
		switch ins.Op {
		case spec.OpRetK:
			s.op, s.cond = sNop, cNext
			s.jt = ^int64(ins.K)
			continue
		case spec.OpRetA:
			continue
		case spec.OpJa:
			s.op, s.cond = sNop, cNext
			s.jt = target(pc + 1 + int(ins.K))
			continue
		}
		if c := condOp(ins.Op); c != cNext {
			s.op, s.ck = jumpOps[c], ins.K
			s.jt, s.jf = target(pc+1+int(ins.Jt)), target(pc+1+int(ins.Jf))
			continue
		}
		if s.op == sSlow {
			continue
		}
		// A statement: fold a conditional jump that follows (a statement
		// is never last, so pc+1 exists).
		next := p.At(pc + 1)
		c := condOp(next.Op)
		isLoad := s.op >= sLdAbsW && s.op <= sLdIndB
		if c == cNext || isLoad && c > cJset { // loads fold jumps on constants only
			c = cNext
		}
		if c == cNext {
			s.cond = cNext
			s.jt = target(pc + 1)
			continue
		}
		s.cond, s.ck = c, next.K
		s.jt, s.jf = target(pc+2+int(next.Jt)), target(pc+2+int(next.Jf))
		if isLoad {
			s.op = sLdAbsWJeq + (s.op-sLdAbsW)*4 + (c - cJeq)
		}
	}
	return q
}

// jumpOps gives the step of a conditional jump standing alone.
var jumpOps = [...]uint8{cJeq: sJeqK, cJgt: sJgtK, cJge: sJgeK, cJset: sJsetK, cJeqX: sJeqX, cJgtX: sJgtX, cJgeX: sJgeX, cJsetX: sJsetX}

// condOp returns the condition of a conditional jump, or cNext for any
// other instruction.
func condOp(op uint16) uint8 {
	switch op {
	case spec.OpJeqK:
		return cJeq
	case spec.OpJgtK:
		return cJgt
	case spec.OpJgeK:
		return cJge
	case spec.OpJsetK:
		return cJset
	case jmp | spec.JumpJEQ | srcX:
		return cJeqX
	case jmp | spec.JumpJGT | srcX:
		return cJgtX
	case jmp | spec.JumpJGE | srcX:
		return cJgeX
	case jmp | spec.JumpJSET | srcX:
		return cJsetX
	}
	return cNext
}

// stepOp decodes the statement part of ins.
func stepOp(ins spec.Instruction) uint8 {
	switch ins.Op {
	case spec.OpLdAbsW, spec.OpLdAbsH, spec.OpLdAbsB, spec.OpLdxMsh:
		if ins.K >= spec.RecordBase { // record, ancillary or header-relative
			return sSlow
		}
	}
	if s, ok := stepOps[ins.Op]; ok {
		return s
	}
	return sSlow // scratch memory and anything else the fast loop leaves out
}

var stepOps = map[uint16]uint8{
	spec.OpRetA:   sRetA,
	spec.OpLdAbsW: sLdAbsW, spec.OpLdAbsH: sLdAbsH, spec.OpLdAbsB: sLdAbsB, spec.OpLdxMsh: sLdxMsh,
	spec.OpLdIndW: sLdIndW, spec.OpLdIndH: sLdIndH, spec.OpLdIndB: sLdIndB,
	spec.OpLdImm: sLdImm, spec.OpLdLen: sLdLen, spec.OpLdxImm: sLdxImm, spec.OpLdxLen: sLdxLen,
	spec.OpTax: sTax, spec.OpTxa: sTxa, spec.OpNeg: sNeg,
	alu | spec.ALUAdd | srcK: sAddK, alu | spec.ALUAdd | srcX: sAddX,
	alu | spec.ALUSub | srcK: sSubK, alu | spec.ALUSub | srcX: sSubX,
	alu | spec.ALUMul | srcK: sMulK, alu | spec.ALUMul | srcX: sMulX,
	alu | spec.ALUDiv | srcK: sDivK, alu | spec.ALUDiv | srcX: sDivX,
	alu | spec.ALUMod | srcK: sModK, alu | spec.ALUMod | srcX: sModX,
	alu | spec.ALUAnd | srcK: sAndK, alu | spec.ALUAnd | srcX: sAndX,
	alu | spec.ALUOr | srcK: sOrK, alu | spec.ALUOr | srcX: sOrX,
	alu | spec.ALUXor | srcK: sXorK, alu | spec.ALUXor | srcX: sXorX,
	alu | spec.ALULsh | srcK: sLshK, alu | spec.ALULsh | srcX: sLshX,
	alu | spec.ALURsh | srcK: sRshK, alu | spec.ALURsh | srcX: sRshX,
}

// Run executes the program on one packet, with the package-level Run's
// arguments and result.
func (q *Program) Run(pkt []byte, wirelen uint32, meta *Meta) uint32 {
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
			t = pick(a == s.ck, s)
		case sLdAbsWJgt:
			if uint64(s.k)+4 > n {
				return 0
			}
			a = binary.BigEndian.Uint32(pkt[s.k:])
			t = pick(a > s.ck, s)
		case sLdAbsWJge:
			if uint64(s.k)+4 > n {
				return 0
			}
			a = binary.BigEndian.Uint32(pkt[s.k:])
			t = pick(a >= s.ck, s)
		case sLdAbsWJset:
			if uint64(s.k)+4 > n {
				return 0
			}
			a = binary.BigEndian.Uint32(pkt[s.k:])
			t = pick(a&s.ck != 0, s)
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
			t = pick(a == s.ck, s)
		case sLdAbsHJgt:
			if uint64(s.k)+2 > n {
				return 0
			}
			a = uint32(binary.BigEndian.Uint16(pkt[s.k:]))
			t = pick(a > s.ck, s)
		case sLdAbsHJge:
			if uint64(s.k)+2 > n {
				return 0
			}
			a = uint32(binary.BigEndian.Uint16(pkt[s.k:]))
			t = pick(a >= s.ck, s)
		case sLdAbsHJset:
			if uint64(s.k)+2 > n {
				return 0
			}
			a = uint32(binary.BigEndian.Uint16(pkt[s.k:]))
			t = pick(a&s.ck != 0, s)
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
			t = pick(a == s.ck, s)
		case sLdAbsBJgt:
			if uint64(s.k) >= n {
				return 0
			}
			a = uint32(pkt[s.k])
			t = pick(a > s.ck, s)
		case sLdAbsBJge:
			if uint64(s.k) >= n {
				return 0
			}
			a = uint32(pkt[s.k])
			t = pick(a >= s.ck, s)
		case sLdAbsBJset:
			if uint64(s.k) >= n {
				return 0
			}
			a = uint32(pkt[s.k])
			t = pick(a&s.ck != 0, s)
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
			t = pick(a == s.ck, s)
		case sLdIndWJgt:
			off := uint64(x) + uint64(s.k)
			if off+4 > n {
				return 0
			}
			a = binary.BigEndian.Uint32(pkt[off:])
			t = pick(a > s.ck, s)
		case sLdIndWJge:
			off := uint64(x) + uint64(s.k)
			if off+4 > n {
				return 0
			}
			a = binary.BigEndian.Uint32(pkt[off:])
			t = pick(a >= s.ck, s)
		case sLdIndWJset:
			off := uint64(x) + uint64(s.k)
			if off+4 > n {
				return 0
			}
			a = binary.BigEndian.Uint32(pkt[off:])
			t = pick(a&s.ck != 0, s)
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
			t = pick(a == s.ck, s)
		case sLdIndHJgt:
			off := uint64(x) + uint64(s.k)
			if off+2 > n {
				return 0
			}
			a = uint32(binary.BigEndian.Uint16(pkt[off:]))
			t = pick(a > s.ck, s)
		case sLdIndHJge:
			off := uint64(x) + uint64(s.k)
			if off+2 > n {
				return 0
			}
			a = uint32(binary.BigEndian.Uint16(pkt[off:]))
			t = pick(a >= s.ck, s)
		case sLdIndHJset:
			off := uint64(x) + uint64(s.k)
			if off+2 > n {
				return 0
			}
			a = uint32(binary.BigEndian.Uint16(pkt[off:]))
			t = pick(a&s.ck != 0, s)
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
			t = pick(a == s.ck, s)
		case sLdIndBJgt:
			off := uint64(x) + uint64(s.k)
			if off >= n {
				return 0
			}
			a = uint32(pkt[off])
			t = pick(a > s.ck, s)
		case sLdIndBJge:
			off := uint64(x) + uint64(s.k)
			if off >= n {
				return 0
			}
			a = uint32(pkt[off])
			t = pick(a >= s.ck, s)
		case sLdIndBJset:
			off := uint64(x) + uint64(s.k)
			if off >= n {
				return 0
			}
			a = uint32(pkt[off])
			t = pick(a&s.ck != 0, s)
		case sJeqK:
			t = pick(a == s.ck, s)
		case sJgtK:
			t = pick(a > s.ck, s)
		case sJgeK:
			t = pick(a >= s.ck, s)
		case sJsetK:
			t = pick(a&s.ck != 0, s)
		case sJeqX:
			t = pick(a == x, s)
		case sJgtX:
			t = pick(a > x, s)
		case sJgeX:
			t = pick(a >= x, s)
		case sJsetX:
			t = pick(a&x != 0, s)
		case sNop:
			t = s.jt
		case sRetA:
			return a
		case sSlow:
			return run(q.prog, pc, pkt, wirelen, meta, a, x)
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
			case cNext:
				t = s.jt
			case cJeq:
				t = pick(a == s.ck, s)
			case cJgt:
				t = pick(a > s.ck, s)
			case cJge:
				t = pick(a >= s.ck, s)
			case cJset:
				t = pick(a&s.ck != 0, s)
			case cJeqX:
				t = pick(a == x, s)
			case cJgtX:
				t = pick(a > x, s)
			case cJgeX:
				t = pick(a >= x, s)
			case cJsetX:
				t = pick(a&x != 0, s)
			}
		}
		if t < 0 {
			return uint32(^t)
		}
		pc = int(t)
	}
}

// pick returns the step's true or false target.
func pick(c bool, s *step) int64 {
	if c {
		return s.jt
	}
	return s.jf
}
