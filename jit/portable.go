package jit

import (
	"encoding/binary"

	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
)

// The portable backend: the program pre-decoded into an array of
// specialised operations run by one dense switch (a jump table). Compared
// with the reference interpreter it decides at compile time what vm.Run
// decides per instruction: jump targets are op indices, the length checks
// are the plan's (hoisted guards, coalesced indirect checks) instead of one
// per load, special loads are classified once, and an absolute load
// followed by a conditional jump on a constant is one operation.
//
// Packet reads index the Go slice, so Go's own bounds checks stay as a
// backstop: they never fire for a verified program (the plan covers every
// load), and if a fact were ever wrong the result would be a panic, not a
// read outside the packet.

// pop is one portable operation.
type pop struct {
	code   pcode
	jt, jf uint16 // op indices of the branch targets
	k      uint32 // the constant, load offset or needed length
	k2     uint32 // the compare constant of a fused load-and-branch
}

// pcode is a portable operation code.
type pcode uint8

// Portable operations. The ldJ group fuses an absolute load of size W, H or
// B with a conditional jump on a constant.
const (
	pRetK pcode = iota
	pRetA
	pGuard    // if len < k, return 0
	pIndCheck // if X + k > len, return 0
	pFail     // return 0
	pLdAbsW
	pLdAbsH
	pLdAbsB
	pLdIndW
	pLdIndH
	pLdIndB
	pLdxMsh
	pLdSpecial  // a record, ancillary or header-relative load into A (size in k2)
	pLdxSpecial // a header-relative ldx msh
	pLdImm
	pLdxImm
	pLdLen
	pLdxLen
	pLdMem
	pLdxMem
	pSt
	pStx
	pTax
	pTxa
	pNeg
	pAddK
	pSubK
	pMulK
	pDivK
	pModK
	pAndK
	pOrK
	pXorK
	pLshK
	pRshK
	pAddX
	pSubX
	pMulX
	pDivX
	pModX
	pAndX
	pOrX
	pXorX
	pLshX
	pRshX
	pJa
	pJeqK
	pJgtK
	pJgeK
	pJsetK
	pJeqX
	pJgtX
	pJgeX
	pJsetX
	pLdWJeq
	pLdWJgt
	pLdWJge
	pLdWJset
	pLdHJeq
	pLdHJgt
	pLdHJge
	pLdHJset
	pLdBJeq
	pLdBJgt
	pLdBJge
	pLdBJset
)

// portable is a compiled program for the portable backend.
type portable struct {
	ops []pop
}

// newPortable compiles p with the plan's checks.
func newPortable(p *verifier.Program, pl *plan) *portable {
	n := p.Len()
	// Op index of each instruction: its check (if any) comes first.
	first := make([]int, n+1)
	cnt := 0
	for pc := range n {
		first[pc] = cnt
		cnt++
		if pl.absGuard[pc] != 0 {
			cnt++
		}
		if pl.indCheck[pc] != 0 {
			cnt++
		}
	}
	first[n] = cnt
	ops := make([]pop, 0, cnt)
	at := func(pc int) uint16 { return uint16(first[pc]) }
	for pc := range n {
		ins := p.At(pc)
		if g := pl.absGuard[pc]; g != 0 {
			ops = append(ops, pop{code: pGuard, k: g})
		}
		if c := pl.indCheck[pc]; c != 0 {
			if c > 1<<32-1 {
				ops = append(ops, pop{code: pFail})
			} else {
				ops = append(ops, pop{code: pIndCheck, k: uint32(c)})
			}
		}
		op := pop{k: ins.K}
		next := pc + 1
		switch ins.Op {
		case spec.OpRetK:
			op.code = pRetK
		case spec.OpRetA:
			op.code = pRetA
		case spec.OpLdAbsW, spec.OpLdAbsH, spec.OpLdAbsB:
			size := spec.LoadSize(ins.Op)
			if !isPacketAbs(ins.K) {
				op.code, op.k2 = pLdSpecial, size
				break
			}
			op.code = bySize(size, pLdAbsW, pLdAbsH, pLdAbsB)
			// Fuse with a following conditional jump on a constant when
			// nothing has to run between them.
			if next < n && pl.absGuard[next] == 0 {
				if j := p.At(next); isCondJump(j) && j.Src() == spec.SrcK {
					op.code = fusedCode(size, j.Operation())
					op.k2 = j.K
					op.jt, op.jf = at(next+1+int(j.Jt)), at(next+1+int(j.Jf))
				}
			}
		case spec.OpLdIndW:
			op.code = pLdIndW
		case spec.OpLdIndH:
			op.code = pLdIndH
		case spec.OpLdIndB:
			op.code = pLdIndB
		case spec.OpLdxMsh:
			op.code = pLdxMsh
			if !isPacketAbs(ins.K) {
				op.code = pLdxSpecial
			}
		case spec.OpLdImm:
			op.code = pLdImm
		case spec.OpLdxImm:
			op.code = pLdxImm
		case spec.OpLdLen:
			op.code = pLdLen
		case spec.OpLdxLen:
			op.code = pLdxLen
		case spec.OpLdMem:
			op.code, op.k = pLdMem, ins.K&(spec.MemWords-1)
		case spec.OpLdxMem:
			op.code, op.k = pLdxMem, ins.K&(spec.MemWords-1)
		case spec.OpSt:
			op.code, op.k = pSt, ins.K&(spec.MemWords-1)
		case spec.OpStx:
			op.code, op.k = pStx, ins.K&(spec.MemWords-1)
		case spec.OpTax:
			op.code = pTax
		case spec.OpTxa:
			op.code = pTxa
		case spec.OpNeg:
			op.code = pNeg
		case spec.OpJa:
			op.code, op.jt = pJa, at(next+int(ins.K))
		default:
			switch ins.Class() {
			case spec.ClassALU:
				op.code = aluCode(ins)
			case spec.ClassJMP:
				op.code = jumpCode(ins)
				op.jt, op.jf = at(next+int(ins.Jt)), at(next+int(ins.Jf))
			}
		}
		ops = append(ops, op)
	}
	// Branches to a ret #k return from the branch.
	for i := range ops {
		op := &ops[i]
		switch {
		case op.code == pJa:
			op.jt = retMark(ops, op.jt)
		case op.code >= pJeqK:
			op.jt, op.jf = retMark(ops, op.jt), retMark(ops, op.jf)
		}
	}
	return &portable{ops: ops}
}

// retMark returns target with retTarget set when the operation there is a
// ret #k.
func retMark(ops []pop, target uint16) uint16 {
	if ops[target].code == pRetK {
		return target | retTarget
	}
	return target
}

// bySize picks the code for a load of 4, 2 or 1 bytes.
func bySize(size uint32, w, h, b pcode) pcode {
	switch size {
	case 2:
		return h
	case 1:
		return b
	}
	return w
}

// fusedCode returns the fused load-and-branch code.
func fusedCode(size uint32, jop uint16) pcode {
	base := bySize(size, pLdWJeq, pLdHJeq, pLdBJeq)
	switch jop {
	case spec.JumpJGT:
		return base + 1
	case spec.JumpJGE:
		return base + 2
	case spec.JumpJSET:
		return base + 3
	}
	return base
}

// aluCode returns the code of an ALU instruction (the K and X groups list
// the operations in the same order).
func aluCode(ins spec.Instruction) pcode {
	var base pcode = pAddK
	if ins.Src() == spec.SrcX {
		base = pAddX
	}
	switch ins.Operation() {
	case spec.ALUSub:
		return base + 1
	case spec.ALUMul:
		return base + 2
	case spec.ALUDiv:
		return base + 3
	case spec.ALUMod:
		return base + 4
	case spec.ALUAnd:
		return base + 5
	case spec.ALUOr:
		return base + 6
	case spec.ALUXor:
		return base + 7
	case spec.ALULsh:
		return base + 8
	case spec.ALURsh:
		return base + 9
	}
	return base
}

// jumpCode returns the code of a conditional jump.
func jumpCode(ins spec.Instruction) pcode {
	var base pcode = pJeqK
	if ins.Src() == spec.SrcX {
		base = pJeqX
	}
	switch ins.Operation() {
	case spec.JumpJGT:
		return base + 1
	case spec.JumpJGE:
		return base + 2
	case spec.JumpJSET:
		return base + 3
	}
	return base
}

// retTarget marks a branch target that is a ret #k: the branch returns k
// at once instead of dispatching one more operation.
const retTarget = 0x8000

// branch returns jt when c holds, else jf.
func branch(c bool, op *pop) uint16 {
	if c {
		return op.jt
	}
	return op.jf
}

// run executes the program on one packet.
func (p *portable) run(pkt []byte, wirelen uint32, m *Meta) uint32 {
	var (
		a, x uint32
		mem  [spec.MemWords]uint32
	)
	ops := p.ops
	n := uint64(len(pkt))
	for i := 0; ; {
		op := &ops[i]
		i++
		switch op.code {
		case pRetK:
			return op.k
		case pRetA:
			return a
		case pGuard:
			if n < uint64(op.k) {
				return 0
			}
		case pIndCheck:
			if uint64(x)+uint64(op.k) > n {
				return 0
			}
		case pFail:
			return 0

		case pLdAbsW:
			a = binary.BigEndian.Uint32(pkt[op.k:])
		case pLdAbsH:
			a = uint32(binary.BigEndian.Uint16(pkt[op.k:]))
		case pLdAbsB:
			a = uint32(pkt[op.k])
		case pLdIndW:
			a = binary.BigEndian.Uint32(pkt[uint64(x)+uint64(op.k):])
		case pLdIndH:
			a = uint32(binary.BigEndian.Uint16(pkt[uint64(x)+uint64(op.k):]))
		case pLdIndB:
			a = uint32(pkt[uint64(x)+uint64(op.k)])
		case pLdxMsh:
			x = uint32(pkt[op.k]&0xf) << 2
		case pLdSpecial:
			v, ok := m.Load(op.k, op.k2, a, x, pkt)
			if !ok {
				return 0
			}
			a = v
		case pLdxSpecial:
			off, ok := m.HeaderOffset(op.k)
			if !ok || off >= n {
				return 0
			}
			x = uint32(pkt[off]&0xf) << 2

		case pLdImm:
			a = op.k
		case pLdxImm:
			x = op.k
		case pLdLen:
			a = wirelen
		case pLdxLen:
			x = wirelen
		case pLdMem:
			a = mem[op.k&(spec.MemWords-1)]
		case pLdxMem:
			x = mem[op.k&(spec.MemWords-1)]
		case pSt:
			mem[op.k&(spec.MemWords-1)] = a
		case pStx:
			mem[op.k&(spec.MemWords-1)] = x
		case pTax:
			x = a
		case pTxa:
			a = x
		case pNeg:
			a = -a

		case pAddK:
			a += op.k
		case pSubK:
			a -= op.k
		case pMulK:
			a *= op.k
		case pDivK:
			a /= op.k // the verifier rejects div #0
		case pModK:
			a %= op.k
		case pAndK:
			a &= op.k
		case pOrK:
			a |= op.k
		case pXorK:
			a ^= op.k
		case pLshK:
			a <<= op.k
		case pRshK:
			a >>= op.k
		case pAddX:
			a += x
		case pSubX:
			a -= x
		case pMulX:
			a *= x
		case pDivX:
			if x == 0 {
				return 0
			}
			a /= x
		case pModX:
			if x == 0 {
				return 0
			}
			a %= x
		case pAndX:
			a &= x
		case pOrX:
			a |= x
		case pXorX:
			a ^= x
		case pLshX:
			a <<= x // Go gives 0 for 32 or more, as the ISA says
		case pRshX:
			a >>= x

		case pJa:
			if op.jt&retTarget != 0 {
				return ops[op.jt&^retTarget].k
			}
			i = int(op.jt)
		case pJeqK:
			t := branch(a == op.k, op)
			if t&retTarget != 0 {
				return ops[t&^retTarget].k
			}
			i = int(t)
		case pJgtK:
			t := branch(a > op.k, op)
			if t&retTarget != 0 {
				return ops[t&^retTarget].k
			}
			i = int(t)
		case pJgeK:
			t := branch(a >= op.k, op)
			if t&retTarget != 0 {
				return ops[t&^retTarget].k
			}
			i = int(t)
		case pJsetK:
			t := branch(a&op.k != 0, op)
			if t&retTarget != 0 {
				return ops[t&^retTarget].k
			}
			i = int(t)
		case pJeqX:
			t := branch(a == x, op)
			if t&retTarget != 0 {
				return ops[t&^retTarget].k
			}
			i = int(t)
		case pJgtX:
			t := branch(a > x, op)
			if t&retTarget != 0 {
				return ops[t&^retTarget].k
			}
			i = int(t)
		case pJgeX:
			t := branch(a >= x, op)
			if t&retTarget != 0 {
				return ops[t&^retTarget].k
			}
			i = int(t)
		case pJsetX:
			t := branch(a&x != 0, op)
			if t&retTarget != 0 {
				return ops[t&^retTarget].k
			}
			i = int(t)

		case pLdWJeq:
			a = binary.BigEndian.Uint32(pkt[op.k:])
			t := branch(a == op.k2, op)
			if t&retTarget != 0 {
				return ops[t&^retTarget].k
			}
			i = int(t)
		case pLdWJgt:
			a = binary.BigEndian.Uint32(pkt[op.k:])
			t := branch(a > op.k2, op)
			if t&retTarget != 0 {
				return ops[t&^retTarget].k
			}
			i = int(t)
		case pLdWJge:
			a = binary.BigEndian.Uint32(pkt[op.k:])
			t := branch(a >= op.k2, op)
			if t&retTarget != 0 {
				return ops[t&^retTarget].k
			}
			i = int(t)
		case pLdWJset:
			a = binary.BigEndian.Uint32(pkt[op.k:])
			t := branch(a&op.k2 != 0, op)
			if t&retTarget != 0 {
				return ops[t&^retTarget].k
			}
			i = int(t)
		case pLdHJeq:
			a = uint32(binary.BigEndian.Uint16(pkt[op.k:]))
			t := branch(a == op.k2, op)
			if t&retTarget != 0 {
				return ops[t&^retTarget].k
			}
			i = int(t)
		case pLdHJgt:
			a = uint32(binary.BigEndian.Uint16(pkt[op.k:]))
			t := branch(a > op.k2, op)
			if t&retTarget != 0 {
				return ops[t&^retTarget].k
			}
			i = int(t)
		case pLdHJge:
			a = uint32(binary.BigEndian.Uint16(pkt[op.k:]))
			t := branch(a >= op.k2, op)
			if t&retTarget != 0 {
				return ops[t&^retTarget].k
			}
			i = int(t)
		case pLdHJset:
			a = uint32(binary.BigEndian.Uint16(pkt[op.k:]))
			t := branch(a&op.k2 != 0, op)
			if t&retTarget != 0 {
				return ops[t&^retTarget].k
			}
			i = int(t)
		case pLdBJeq:
			a = uint32(pkt[op.k])
			t := branch(a == op.k2, op)
			if t&retTarget != 0 {
				return ops[t&^retTarget].k
			}
			i = int(t)
		case pLdBJgt:
			a = uint32(pkt[op.k])
			t := branch(a > op.k2, op)
			if t&retTarget != 0 {
				return ops[t&^retTarget].k
			}
			i = int(t)
		case pLdBJge:
			a = uint32(pkt[op.k])
			t := branch(a >= op.k2, op)
			if t&retTarget != 0 {
				return ops[t&^retTarget].k
			}
			i = int(t)
		case pLdBJset:
			a = uint32(pkt[op.k])
			t := branch(a&op.k2 != 0, op)
			if t&retTarget != 0 {
				return ops[t&^retTarget].k
			}
			i = int(t)
		}
	}
}
