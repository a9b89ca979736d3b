package jit

import (
	"encoding/binary"
	"math"

	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
)

// The portable backend: the program decoded once into an array of
// operations run by one dense switch (a jump table). It decides at compile
// time what vm.Run decides per instruction:
//
//   - One operation per instruction, and a statement followed by a
//     conditional jump is one operation: a packet load with a jump on a
//     constant has a code of its own ("load, compare" is one dispatch),
//     any other statement carries its jump in cond; a jeq whose false
//     target is a jeq on a constant compares twice in one dispatch, and
//     a load and jeq whose false target is a load of the same kind and
//     size and a jeq (libpcap's host and port pairs) loads and compares
//     twice in one dispatch.
//   - Operands are decoded: jump targets are operation indices, and a
//     target that is a ret #k (or a ja to one) is ^k, so a run returns
//     where it decides instead of dispatching the return. Each taken
//     target is checked once, in the loop's shared tail.
//   - Length checks are the plan's and live in the load's operation: an
//     absolute load checks the guard hoisted to it (or its own end, which
//     an earlier guard already covers), an indirect load the coalesced
//     X-relative length. Only a load whose check reaches beyond its own
//     end compares twice: its code is the pG... twin of the plain one,
//     which checks need and falls through into it. A guard the verifier
//     hoisted to a jump on a constant lives in the jump's operation (pGJeqK
//     ...; the second jeq of a chain may be one), to any other instruction
//     that is not a load it is an operation of its own. A load that can
//     only fail is a return of 0.
//   - Scratch memory and the loads above the packet (parse record,
//     ancillary values, header-relative offsets) are statements like any
//     other: there is no hand-over to a second interpreter. The loop calls
//     no function, so it saves no registers on entry: at a load of the
//     parse record or an ancillary value (pLdSpecial) it stops, and the
//     engine of such a program (portableWithState) loads and resumes it.
//
// Every packet load also checks its own end against the captured length:
// a predictable compare that lets the compiler drop its bounds checks, and
// the reason no fact taken from the verifier can make a load read outside
// the packet. Packet reads index the Go slice, so Go's bounds checks stay
// where the compiler cannot prove them. A read is written pkt[k : k+size]
// with k and the compare in uint64: in that form the compiler proves it
// from the compare and emits no check of its own (pkt[k:] left a second
// compare and the clamp of an empty slice's pointer in every load).

// pop is one portable operation (32 bytes).
type pop struct {
	code pcode  // what the operation does first
	cond pcond  // then, for the general statements: the jump to take
	k    uint32 // the constant, load offset or scratch slot
	k2   uint32 // the constant of the jump
	// need is the length to check: the packet length an absolute load or
	// guard needs, the X-relative length of an indirect load; for a load
	// above the packet, its size.
	need   uint32
	jt, jf int64 // operation indices of the targets, or ^v: return v
}

// pcode is a portable operation code.
type pcode uint8

// Portable operations. loadCode and jumpCode compute the codes of loads
// and jumps from this order; each pG... code must directly precede its
// plain twin, into whose case it falls through.
const (
	pNop pcode = iota // go to jt (a ret #k, a ja)
	pRetA
	pGuard // if len < need, return 0
	// Packet loads, absolute and then indirect, in size order W, H, B, each
	// plain and then with a jump on a constant (Jeq, Jgt, Jge, Jset); each
	// code comes as pG..., which first checks the length hoisted to it
	// (need), directly before the code that does not.
	pGLdAbsW
	pLdAbsW
	pGLdAbsWJeq
	pLdAbsWJeq
	pGLdAbsWJgt
	pLdAbsWJgt
	pGLdAbsWJge
	pLdAbsWJge
	pGLdAbsWJset
	pLdAbsWJset
	pGLdAbsH
	pLdAbsH
	pGLdAbsHJeq
	pLdAbsHJeq
	pGLdAbsHJgt
	pLdAbsHJgt
	pGLdAbsHJge
	pLdAbsHJge
	pGLdAbsHJset
	pLdAbsHJset
	pGLdAbsB
	pLdAbsB
	pGLdAbsBJeq
	pLdAbsBJeq
	pGLdAbsBJgt
	pLdAbsBJgt
	pGLdAbsBJge
	pLdAbsBJge
	pGLdAbsBJset
	pLdAbsBJset
	pGLdIndW
	pLdIndW
	pGLdIndWJeq
	pLdIndWJeq
	pGLdIndWJgt
	pLdIndWJgt
	pGLdIndWJge
	pLdIndWJge
	pGLdIndWJset
	pLdIndWJset
	pGLdIndH
	pLdIndH
	pGLdIndHJeq
	pLdIndHJeq
	pGLdIndHJgt
	pLdIndHJgt
	pGLdIndHJge
	pLdIndHJge
	pGLdIndHJset
	pLdIndHJset
	pGLdIndB
	pLdIndB
	pGLdIndBJeq
	pLdIndBJeq
	pGLdIndBJgt
	pLdIndBJgt
	pGLdIndBJge
	pLdIndBJge
	pGLdIndBJset
	pLdIndBJset
	// a conditional jump alone, on a constant (with pG... first, as above)
	// and on X
	pGJeqK
	pJeqK
	pGJgtK
	pJgtK
	pGJgeK
	pJgeK
	pGJsetK
	pJsetK
	pJeqX
	pJgtX
	pJgeX
	pJsetX
	pGLdxMsh
	pLdxMsh // followed by an indirect load, not a jump: not fused
	// a jump on a constant whose false target is a pJeqK (...JeqJeq) or
	// a pGJeqK (...JeqGJeq): the second compare runs in the same dispatch
	// (libpcap's EtherType chains)
	pGLdAbsWJeqJeq
	pLdAbsWJeqJeq
	pGLdAbsWJeqGJeq
	pLdAbsWJeqGJeq
	pGLdAbsHJeqJeq
	pLdAbsHJeqJeq
	pGLdAbsHJeqGJeq
	pLdAbsHJeqGJeq
	pGLdAbsBJeqJeq
	pLdAbsBJeqJeq
	pGLdAbsBJeqGJeq
	pLdAbsBJeqGJeq
	pJeqKJeq
	pJeqKGJeq
	// a load with a jeq whose false target is a load of the same kind
	// and size with a jeq that checks only its own end (libpcap's
	// "host" and "port" pairs, source then destination): the second load
	// and compare run in the same dispatch
	pGLdAbsWJeqLd
	pLdAbsWJeqLd
	pGLdAbsHJeqLd
	pLdAbsHJeqLd
	pGLdAbsBJeqLd
	pLdAbsBJeqLd
	pGLdIndWJeqLd
	pLdIndWJeqLd
	pGLdIndHJeqLd
	pLdIndHJeqLd
	pGLdIndBJeqLd
	pLdIndBJeqLd
	// the general statements, each followed by cond
	pLdSpecial  // a record, ancillary or header-relative load into A
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
	pAddK // the K group: add, sub, mul, div, mod, and, or, xor, lsh, rsh
	pSubK
	pMulK
	pDivK
	pModK
	pAndK
	pOrK
	pXorK
	pLshK
	pRshK
	pAddX // the X group, in the same order
	pSubX
	pMulX
	pDivX
	pModX
	pAndX
	pOrX
	pXorX
	pLshX
	pRshX
)

// pGeneral is the first general statement.
const pGeneral = pLdSpecial

// pcond is the jump that ends a general statement.
type pcond uint8

// Conditions, in the order of the fused codes' jumps (K) and then on X.
const (
	cNext pcond = iota // go to jt
	cJeq
	cJgt
	cJge
	cJset
	cJeqX
	cJgtX
	cJgeX
	cJsetX
)

// portable is a compiled program for the portable backend.
type portable struct {
	ops []pop
	// state reports whether the program uses scratch memory or loads
	// above the packet: only then does a run need a portableState.
	state bool
}

// portableState is a run's scratch memory and, when run stops at a load
// above the packet (pLdSpecial), where it resumes.
type portableState struct {
	mem     [spec.MemWords]uint32
	i       int64 // the operation to run next
	a, x    uint32
	stopped bool // run returned at ops[i] without a result
}

// portableWithState is the engine of a portable program that uses scratch
// memory or loads above the packet. It declares the state (Go zeroes it;
// the memory needs no zeroing, as the verifier rejects a read of a slot not
// written on every path) and runs the loop; when the loop stops at a load
// above the packet, it performs the load, the one statement that calls a
// function, and resumes the loop after it. So run's loop calls nothing: it
// saves no registers on entry, which every packet would pay for, and only
// these programs pay for the state.
type portableWithState struct{ *portable }

func (p portableWithState) run(pkt []byte, wirelen uint32, m *Meta, _ *portableState) uint32 {
	var st portableState
	for {
		r := p.portable.run(pkt, wirelen, m, &st)
		if !st.stopped {
			return r
		}
		op := &p.ops[st.i]
		v, ok := m.Load(op.k, op.need, st.a, st.x, pkt)
		if !ok {
			return 0
		}
		if op.jt < 0 { // such a load is never fused with a jump
			return uint32(^op.jt)
		}
		st.i, st.a, st.stopped = op.jt, v, false
	}
}

// engine returns the engine that runs p.
func (p *portable) engine() engine {
	if p.state {
		return portableWithState{p}
	}
	return p
}

// newPortable compiles p with the plan's checks.
func newPortable(p *verifier.Program, pl *plan) *portable {
	n := p.Len()
	// Operation index of each instruction: a guard of its own comes first.
	first := make([]int64, n)
	cnt := int64(0)
	for pc := range n {
		if ownGuard(p.At(pc), pl.absGuard[pc]) {
			cnt++
		}
		first[pc] = cnt
		cnt++
	}
	// target resolves a jump to pc: a ret #k becomes ^k, ja chains are
	// followed, unless a guard stands first.
	var target func(pc int) int64
	target = func(pc int) int64 {
		ins := p.At(pc)
		if pl.absGuard[pc] == 0 {
			switch ins.Op {
			case spec.OpRetK:
				return ^int64(ins.K)
			case spec.OpJa:
				return target(pc + 1 + int(ins.K))
			}
		}
		if ownGuard(ins, pl.absGuard[pc]) {
			return first[pc] - 1
		}
		return first[pc]
	}
	ops := make([]pop, 0, cnt)
	for pc := range n {
		ins := p.At(pc)
		if g := pl.absGuard[pc]; ownGuard(ins, g) {
			ops = append(ops, pop{code: pGuard, need: g, jt: first[pc]})
		}
		ops = append(ops, decode(p, pl, pc, target))
	}
	// A guard before a jump on a constant checks in the jump's operation,
	// which takes the guard's place (nothing jumps past the guard to it).
	for i := range len(ops) - 1 {
		if ops[i].code == pGuard && isJumpK(ops[i+1].code) {
			g := ops[i].need
			ops[i] = ops[i+1]
			ops[i].code, ops[i].need = ops[i].code-1, g
		}
	}
	// A jeq whose false target is a jeq on a constant: one dispatch.
	for i := range ops {
		op := &ops[i]
		if op.jf < 0 {
			continue
		}
		second := ops[op.jf].code
		if second != pJeqK && second != pGJeqK {
			continue
		}
		var to pcode // the code if the second jeq checks no guard
		switch op.code {
		case pGLdAbsWJeq, pLdAbsWJeq:
			to = pGLdAbsWJeqJeq + op.code - pGLdAbsWJeq
		case pGLdAbsHJeq, pLdAbsHJeq:
			to = pGLdAbsHJeqJeq + op.code - pGLdAbsHJeq
		case pGLdAbsBJeq, pLdAbsBJeq:
			to = pGLdAbsBJeqJeq + op.code - pGLdAbsBJeq
		case pJeqK:
			op.code = pJeqKJeq
			if second == pGJeqK {
				op.code = pJeqKGJeq
			}
			continue
		default:
			continue
		}
		if second == pGJeqK {
			to += 2 // ...JeqGJeq follows ...JeqJeq by two
		}
		op.code = to
	}
	// A load and jeq whose false target is a load and jeq that checks only
	// its own end, of the same kind and size: one dispatch. The codes
	// follow the JeqJeq pass, which takes a chain of jeqs first.
	for i := range ops {
		op := &ops[i]
		if op.jf < 0 {
			continue
		}
		second := ops[op.jf].code
		for _, f := range elseLoads {
			if (op.code == f.first || op.code == f.first-1) && second == f.first {
				op.code = f.fused + op.code - f.first
			}
		}
	}
	q := &portable{ops: ops}
	for _, op := range ops {
		switch op.code {
		case pLdMem, pLdxMem, pSt, pStx, pLdSpecial:
			q.state = true
		}
	}
	return q
}

// ownGuard reports whether the guard g hoisted to ins needs an operation
// of its own: it does unless ins is an absolute packet load, which checks
// it.
func ownGuard(ins spec.Instruction, g uint32) bool {
	_, load := absLoadEnd(ins)
	return g != 0 && !load
}

// decode returns the operation of the instruction at pc.
func decode(p *verifier.Program, pl *plan, pc int, target func(int) int64) pop {
	ins := p.At(pc)
	op := pop{k: ins.K}
	switch ins.Op {
	case spec.OpRetK:
		op.jt = ^int64(ins.K)
		return op
	case spec.OpRetA:
		op.code = pRetA
		return op
	case spec.OpJa:
		op.jt = target(pc + 1 + int(ins.K))
		return op
	}
	if c := condOf(ins); c != cNext {
		op.code, op.k2 = jumpCode(c), ins.K
		op.jt, op.jf = target(pc+1+int(ins.Jt)), target(pc+1+int(ins.Jf))
		return op
	}
	// A statement (never last, so pc+1 exists), then the jump that follows
	// it when nothing has to run between them.
	op.jt = target(pc + 1)
	next := p.At(pc + 1)
	c := condOf(next)
	if pl.absGuard[pc+1] != 0 {
		c = cNext
	}
	if c != cNext {
		op.k2 = next.K
		op.jt, op.jf = target(pc+2+int(next.Jt)), target(pc+2+int(next.Jf))
	}
	size := spec.LoadSize(ins.Op)
	switch ins.Op {
	case spec.OpLdAbsW, spec.OpLdAbsH, spec.OpLdAbsB:
		if !isPacketAbs(ins.K) {
			op.code, op.need = pLdSpecial, size
			break
		}
		op.need = max(pl.absGuard[pc], ins.K+size) // k < RecordBase: no overflow
		op.code = loadCode(pGLdAbsW, size, c, op.need > ins.K+size)
		if c != cNext && c <= cJset { // loads fuse jumps on constants
			return op
		}
	case spec.OpLdIndW, spec.OpLdIndH, spec.OpLdIndB:
		need := max(pl.indCheck[pc], uint64(ins.K)+uint64(size))
		if need > math.MaxUint32 {
			// X + need exceeds every packet length: the load fails.
			return pop{jt: ^int64(0)}
		}
		op.need = uint32(need)
		op.code = loadCode(pGLdIndW, size, c, need > uint64(ins.K)+uint64(size))
		if c != cNext && c <= cJset {
			return op
		}
	case spec.OpLdxMsh:
		op.code = pLdxSpecial
		if isPacketAbs(ins.K) {
			op.need = max(pl.absGuard[pc], ins.K+1)
			op.code = pLdxMsh
			if op.need > ins.K+1 {
				op.code = pGLdxMsh
			}
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
	default: // ALU
		op.code = aluCode(ins)
	}
	if c == cNext || op.code < pGeneral || op.code == pLdSpecial {
		// A plain load (a jump on X stays an operation of its own), or a
		// load above the packet, which resume runs without a jump.
		op.jt, op.jf, op.k2 = target(pc+1), 0, 0
		return op
	}
	op.cond = c
	return op
}

// elseLoads pairs each unguarded load-and-jeq code with its fused
// ...JeqLd code (each pG... code is one less).
var elseLoads = [...]struct{ first, fused pcode }{
	{pLdAbsWJeq, pLdAbsWJeqLd}, {pLdAbsHJeq, pLdAbsHJeqLd}, {pLdAbsBJeq, pLdAbsBJeqLd},
	{pLdIndWJeq, pLdIndWJeqLd}, {pLdIndHJeq, pLdIndHJeqLd}, {pLdIndBJeq, pLdIndBJeqLd},
}

// loadCode returns the code of a packet load of size bytes; base is
// pGLdAbsW or pGLdIndW, c the jump that follows (fused if it is on a
// constant), guarded whether the load checks a length hoisted to it
// (need) beyond its own end.
func loadCode(base pcode, size uint32, c pcond, guarded bool) pcode {
	code := base + pcode(sizeIndex(size)*10)
	if c != cNext && c <= cJset {
		code += pcode(c-cJeq+1) * 2
	}
	if !guarded {
		code++
	}
	return code
}

// jumpCode returns the code of a conditional jump standing alone (on a
// constant: the code without a guard).
func jumpCode(c pcond) pcode {
	if c <= cJset {
		return pJeqK + pcode(c-cJeq)*2
	}
	return pJeqX + pcode(c-cJeqX)
}

// isJumpK reports whether code is a conditional jump on a constant that
// checks no guard.
func isJumpK(code pcode) bool {
	switch code {
	case pJeqK, pJgtK, pJgeK, pJsetK:
		return true
	}
	return false
}

// sizeIndex numbers the load sizes 4, 2, 1 as 0, 1, 2.
func sizeIndex(size uint32) int {
	switch size {
	case 2:
		return 1
	case 1:
		return 2
	}
	return 0
}

// condOf returns the condition of a conditional jump, or cNext for any
// other instruction.
func condOf(ins spec.Instruction) pcond {
	if !isCondJump(ins) {
		return cNext
	}
	c := cJeq
	switch ins.Operation() {
	case spec.JumpJGT:
		c = cJgt
	case spec.JumpJGE:
		c = cJge
	case spec.JumpJSET:
		c = cJset
	}
	if ins.Src() == spec.SrcX {
		c += cJeqX - cJeq
	}
	return c
}

// aluCode returns the code of an ALU instruction (the K and X groups list
// the operations in the same order).
func aluCode(ins spec.Instruction) pcode {
	base := pAddK
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

// pick returns the operation's target for the outcome c.
func pick(c bool, op *pop) int64 {
	if c {
		return op.jt
	}
	return op.jf
}

// elseJeq returns the target of a jeq on a constant whose false target
// is another jeq on a constant, with A = a.
func elseJeq(a uint32, op *pop, ops []pop) int64 {
	if a == op.k2 {
		return op.jt
	}
	nb := &ops[op.jf]
	return pick(a == nb.k2, nb)
}

// elseJeqG is elseJeq where the second jeq first checks the packet length
// hoisted to it (n is the packet length; ^0 returns 0).
func elseJeqG(a uint32, op *pop, ops []pop, n uint64) int64 {
	if a == op.k2 {
		return op.jt
	}
	nb := &ops[op.jf]
	if n < uint64(nb.need) {
		return ^int64(0)
	}
	return pick(a == nb.k2, nb)
}

// run executes the program on one packet, from the start or, with a state,
// from st.i with st's registers and scratch memory; st is nil for a program
// without scratch memory or loads above the packet (portableWithState
// supplies it to one with). At a load of the parse record or an ancillary
// value it stops: it sets st.stopped and returns 0 (see portableWithState).
func (p *portable) run(pkt []byte, wirelen uint32, m *Meta, st *portableState) uint32 {
	var a, x uint32
	var i int64
	if st != nil {
		i, a, x = st.i, st.a, st.x
	}
	ops := p.ops
	n := uint64(len(pkt))
	for {
		op := &ops[i]
		var t int64
		switch op.code {
		case pNop:
			t = op.jt
		case pRetA:
			return a
		case pGuard:
			if n < uint64(op.need) {
				return 0
			}
			t = op.jt
		case pGLdAbsW:
			if n < uint64(op.need) {
				return 0
			}
			fallthrough
		case pLdAbsW:
			if uint64(op.k)+4 > n {
				return 0
			}
			a = binary.BigEndian.Uint32(pkt[uint64(op.k) : uint64(op.k)+4])
			t = op.jt
		case pGLdAbsWJeq:
			if n < uint64(op.need) {
				return 0
			}
			fallthrough
		case pLdAbsWJeq:
			if uint64(op.k)+4 > n {
				return 0
			}
			a = binary.BigEndian.Uint32(pkt[uint64(op.k) : uint64(op.k)+4])
			t = pick(a == op.k2, op)
		case pGLdAbsWJgt:
			if n < uint64(op.need) {
				return 0
			}
			fallthrough
		case pLdAbsWJgt:
			if uint64(op.k)+4 > n {
				return 0
			}
			a = binary.BigEndian.Uint32(pkt[uint64(op.k) : uint64(op.k)+4])
			t = pick(a > op.k2, op)
		case pGLdAbsWJge:
			if n < uint64(op.need) {
				return 0
			}
			fallthrough
		case pLdAbsWJge:
			if uint64(op.k)+4 > n {
				return 0
			}
			a = binary.BigEndian.Uint32(pkt[uint64(op.k) : uint64(op.k)+4])
			t = pick(a >= op.k2, op)
		case pGLdAbsWJset:
			if n < uint64(op.need) {
				return 0
			}
			fallthrough
		case pLdAbsWJset:
			if uint64(op.k)+4 > n {
				return 0
			}
			a = binary.BigEndian.Uint32(pkt[uint64(op.k) : uint64(op.k)+4])
			t = pick(a&op.k2 != 0, op)
		case pGLdAbsH:
			if n < uint64(op.need) {
				return 0
			}
			fallthrough
		case pLdAbsH:
			if uint64(op.k)+2 > n {
				return 0
			}
			a = uint32(binary.BigEndian.Uint16(pkt[uint64(op.k) : uint64(op.k)+2]))
			t = op.jt
		case pGLdAbsHJeq:
			if n < uint64(op.need) {
				return 0
			}
			fallthrough
		case pLdAbsHJeq:
			if uint64(op.k)+2 > n {
				return 0
			}
			a = uint32(binary.BigEndian.Uint16(pkt[uint64(op.k) : uint64(op.k)+2]))
			t = pick(a == op.k2, op)
		case pGLdAbsHJgt:
			if n < uint64(op.need) {
				return 0
			}
			fallthrough
		case pLdAbsHJgt:
			if uint64(op.k)+2 > n {
				return 0
			}
			a = uint32(binary.BigEndian.Uint16(pkt[uint64(op.k) : uint64(op.k)+2]))
			t = pick(a > op.k2, op)
		case pGLdAbsHJge:
			if n < uint64(op.need) {
				return 0
			}
			fallthrough
		case pLdAbsHJge:
			if uint64(op.k)+2 > n {
				return 0
			}
			a = uint32(binary.BigEndian.Uint16(pkt[uint64(op.k) : uint64(op.k)+2]))
			t = pick(a >= op.k2, op)
		case pGLdAbsHJset:
			if n < uint64(op.need) {
				return 0
			}
			fallthrough
		case pLdAbsHJset:
			if uint64(op.k)+2 > n {
				return 0
			}
			a = uint32(binary.BigEndian.Uint16(pkt[uint64(op.k) : uint64(op.k)+2]))
			t = pick(a&op.k2 != 0, op)
		case pGLdAbsB:
			if n < uint64(op.need) {
				return 0
			}
			fallthrough
		case pLdAbsB:
			if uint64(op.k)+1 > n {
				return 0
			}
			a = uint32(pkt[uint64(op.k)])
			t = op.jt
		case pGLdAbsBJeq:
			if n < uint64(op.need) {
				return 0
			}
			fallthrough
		case pLdAbsBJeq:
			if uint64(op.k)+1 > n {
				return 0
			}
			a = uint32(pkt[uint64(op.k)])
			t = pick(a == op.k2, op)
		case pGLdAbsBJgt:
			if n < uint64(op.need) {
				return 0
			}
			fallthrough
		case pLdAbsBJgt:
			if uint64(op.k)+1 > n {
				return 0
			}
			a = uint32(pkt[uint64(op.k)])
			t = pick(a > op.k2, op)
		case pGLdAbsBJge:
			if n < uint64(op.need) {
				return 0
			}
			fallthrough
		case pLdAbsBJge:
			if uint64(op.k)+1 > n {
				return 0
			}
			a = uint32(pkt[uint64(op.k)])
			t = pick(a >= op.k2, op)
		case pGLdAbsBJset:
			if n < uint64(op.need) {
				return 0
			}
			fallthrough
		case pLdAbsBJset:
			if uint64(op.k)+1 > n {
				return 0
			}
			a = uint32(pkt[uint64(op.k)])
			t = pick(a&op.k2 != 0, op)
		case pGLdIndW:
			if uint64(x)+uint64(op.need) > n {
				return 0
			}
			fallthrough
		case pLdIndW:
			off := uint64(x) + uint64(op.k)
			if off+4 > n {
				return 0
			}
			a = binary.BigEndian.Uint32(pkt[off : off+4])
			t = op.jt
		case pGLdIndWJeq:
			if uint64(x)+uint64(op.need) > n {
				return 0
			}
			fallthrough
		case pLdIndWJeq:
			off := uint64(x) + uint64(op.k)
			if off+4 > n {
				return 0
			}
			a = binary.BigEndian.Uint32(pkt[off : off+4])
			t = pick(a == op.k2, op)
		case pGLdIndWJgt:
			if uint64(x)+uint64(op.need) > n {
				return 0
			}
			fallthrough
		case pLdIndWJgt:
			off := uint64(x) + uint64(op.k)
			if off+4 > n {
				return 0
			}
			a = binary.BigEndian.Uint32(pkt[off : off+4])
			t = pick(a > op.k2, op)
		case pGLdIndWJge:
			if uint64(x)+uint64(op.need) > n {
				return 0
			}
			fallthrough
		case pLdIndWJge:
			off := uint64(x) + uint64(op.k)
			if off+4 > n {
				return 0
			}
			a = binary.BigEndian.Uint32(pkt[off : off+4])
			t = pick(a >= op.k2, op)
		case pGLdIndWJset:
			if uint64(x)+uint64(op.need) > n {
				return 0
			}
			fallthrough
		case pLdIndWJset:
			off := uint64(x) + uint64(op.k)
			if off+4 > n {
				return 0
			}
			a = binary.BigEndian.Uint32(pkt[off : off+4])
			t = pick(a&op.k2 != 0, op)
		case pGLdIndH:
			if uint64(x)+uint64(op.need) > n {
				return 0
			}
			fallthrough
		case pLdIndH:
			off := uint64(x) + uint64(op.k)
			if off+2 > n {
				return 0
			}
			a = uint32(binary.BigEndian.Uint16(pkt[off : off+2]))
			t = op.jt
		case pGLdIndHJeq:
			if uint64(x)+uint64(op.need) > n {
				return 0
			}
			fallthrough
		case pLdIndHJeq:
			off := uint64(x) + uint64(op.k)
			if off+2 > n {
				return 0
			}
			a = uint32(binary.BigEndian.Uint16(pkt[off : off+2]))
			t = pick(a == op.k2, op)
		case pGLdIndHJgt:
			if uint64(x)+uint64(op.need) > n {
				return 0
			}
			fallthrough
		case pLdIndHJgt:
			off := uint64(x) + uint64(op.k)
			if off+2 > n {
				return 0
			}
			a = uint32(binary.BigEndian.Uint16(pkt[off : off+2]))
			t = pick(a > op.k2, op)
		case pGLdIndHJge:
			if uint64(x)+uint64(op.need) > n {
				return 0
			}
			fallthrough
		case pLdIndHJge:
			off := uint64(x) + uint64(op.k)
			if off+2 > n {
				return 0
			}
			a = uint32(binary.BigEndian.Uint16(pkt[off : off+2]))
			t = pick(a >= op.k2, op)
		case pGLdIndHJset:
			if uint64(x)+uint64(op.need) > n {
				return 0
			}
			fallthrough
		case pLdIndHJset:
			off := uint64(x) + uint64(op.k)
			if off+2 > n {
				return 0
			}
			a = uint32(binary.BigEndian.Uint16(pkt[off : off+2]))
			t = pick(a&op.k2 != 0, op)
		case pGLdIndB:
			if uint64(x)+uint64(op.need) > n {
				return 0
			}
			fallthrough
		case pLdIndB:
			off := uint64(x) + uint64(op.k)
			if off+1 > n {
				return 0
			}
			a = uint32(pkt[off])
			t = op.jt
		case pGLdIndBJeq:
			if uint64(x)+uint64(op.need) > n {
				return 0
			}
			fallthrough
		case pLdIndBJeq:
			off := uint64(x) + uint64(op.k)
			if off+1 > n {
				return 0
			}
			a = uint32(pkt[off])
			t = pick(a == op.k2, op)
		case pGLdIndBJgt:
			if uint64(x)+uint64(op.need) > n {
				return 0
			}
			fallthrough
		case pLdIndBJgt:
			off := uint64(x) + uint64(op.k)
			if off+1 > n {
				return 0
			}
			a = uint32(pkt[off])
			t = pick(a > op.k2, op)
		case pGLdIndBJge:
			if uint64(x)+uint64(op.need) > n {
				return 0
			}
			fallthrough
		case pLdIndBJge:
			off := uint64(x) + uint64(op.k)
			if off+1 > n {
				return 0
			}
			a = uint32(pkt[off])
			t = pick(a >= op.k2, op)
		case pGLdIndBJset:
			if uint64(x)+uint64(op.need) > n {
				return 0
			}
			fallthrough
		case pLdIndBJset:
			off := uint64(x) + uint64(op.k)
			if off+1 > n {
				return 0
			}
			a = uint32(pkt[off])
			t = pick(a&op.k2 != 0, op)
		case pGLdxMsh:
			if n < uint64(op.need) {
				return 0
			}
			fallthrough
		case pLdxMsh:
			if uint64(op.k)+1 > n {
				return 0
			}
			x = uint32(pkt[uint64(op.k)]&0xf) << 2
			t = op.jt
		case pGJeqK:
			if n < uint64(op.need) {
				return 0
			}
			fallthrough
		case pJeqK:
			t = pick(a == op.k2, op)
		case pGJgtK:
			if n < uint64(op.need) {
				return 0
			}
			fallthrough
		case pJgtK:
			t = pick(a > op.k2, op)
		case pGJgeK:
			if n < uint64(op.need) {
				return 0
			}
			fallthrough
		case pJgeK:
			t = pick(a >= op.k2, op)
		case pGJsetK:
			if n < uint64(op.need) {
				return 0
			}
			fallthrough
		case pJsetK:
			t = pick(a&op.k2 != 0, op)
		case pGLdAbsWJeqJeq:
			if n < uint64(op.need) {
				return 0
			}
			fallthrough
		case pLdAbsWJeqJeq:
			if uint64(op.k)+4 > n {
				return 0
			}
			a = binary.BigEndian.Uint32(pkt[uint64(op.k) : uint64(op.k)+4])
			t = elseJeq(a, op, ops)
		case pGLdAbsWJeqGJeq:
			if n < uint64(op.need) {
				return 0
			}
			fallthrough
		case pLdAbsWJeqGJeq:
			if uint64(op.k)+4 > n {
				return 0
			}
			a = binary.BigEndian.Uint32(pkt[uint64(op.k) : uint64(op.k)+4])
			t = elseJeqG(a, op, ops, n)
		case pGLdAbsHJeqJeq:
			if n < uint64(op.need) {
				return 0
			}
			fallthrough
		case pLdAbsHJeqJeq:
			if uint64(op.k)+2 > n {
				return 0
			}
			a = uint32(binary.BigEndian.Uint16(pkt[uint64(op.k) : uint64(op.k)+2]))
			t = elseJeq(a, op, ops)
		case pGLdAbsHJeqGJeq:
			if n < uint64(op.need) {
				return 0
			}
			fallthrough
		case pLdAbsHJeqGJeq:
			if uint64(op.k)+2 > n {
				return 0
			}
			a = uint32(binary.BigEndian.Uint16(pkt[uint64(op.k) : uint64(op.k)+2]))
			t = elseJeqG(a, op, ops, n)
		case pGLdAbsBJeqJeq:
			if n < uint64(op.need) {
				return 0
			}
			fallthrough
		case pLdAbsBJeqJeq:
			if uint64(op.k)+1 > n {
				return 0
			}
			a = uint32(pkt[uint64(op.k)])
			t = elseJeq(a, op, ops)
		case pGLdAbsBJeqGJeq:
			if n < uint64(op.need) {
				return 0
			}
			fallthrough
		case pLdAbsBJeqGJeq:
			if uint64(op.k)+1 > n {
				return 0
			}
			a = uint32(pkt[uint64(op.k)])
			t = elseJeqG(a, op, ops, n)
		case pGLdAbsWJeqLd:
			if n < uint64(op.need) {
				return 0
			}
			fallthrough
		case pLdAbsWJeqLd:
			if uint64(op.k)+4 > n {
				return 0
			}
			a = binary.BigEndian.Uint32(pkt[uint64(op.k) : uint64(op.k)+4])
			if a == op.k2 {
				t = op.jt
				break
			}
			nb := &ops[op.jf]
			if uint64(nb.k)+4 > n {
				return 0
			}
			a = binary.BigEndian.Uint32(pkt[uint64(nb.k) : uint64(nb.k)+4])
			t = pick(a == nb.k2, nb)
		case pGLdAbsHJeqLd:
			if n < uint64(op.need) {
				return 0
			}
			fallthrough
		case pLdAbsHJeqLd:
			if uint64(op.k)+2 > n {
				return 0
			}
			a = uint32(binary.BigEndian.Uint16(pkt[uint64(op.k) : uint64(op.k)+2]))
			if a == op.k2 {
				t = op.jt
				break
			}
			nb := &ops[op.jf]
			if uint64(nb.k)+2 > n {
				return 0
			}
			a = uint32(binary.BigEndian.Uint16(pkt[uint64(nb.k) : uint64(nb.k)+2]))
			t = pick(a == nb.k2, nb)
		case pGLdAbsBJeqLd:
			if n < uint64(op.need) {
				return 0
			}
			fallthrough
		case pLdAbsBJeqLd:
			if uint64(op.k)+1 > n {
				return 0
			}
			a = uint32(pkt[uint64(op.k)])
			if a == op.k2 {
				t = op.jt
				break
			}
			nb := &ops[op.jf]
			if uint64(nb.k)+1 > n {
				return 0
			}
			a = uint32(pkt[uint64(nb.k)])
			t = pick(a == nb.k2, nb)
		case pGLdIndWJeqLd:
			if uint64(x)+uint64(op.need) > n {
				return 0
			}
			fallthrough
		case pLdIndWJeqLd:
			off := uint64(x) + uint64(op.k)
			if off+4 > n {
				return 0
			}
			a = binary.BigEndian.Uint32(pkt[off : off+4])
			if a == op.k2 {
				t = op.jt
				break
			}
			nb := &ops[op.jf]
			off = uint64(x) + uint64(nb.k)
			if off+4 > n {
				return 0
			}
			a = binary.BigEndian.Uint32(pkt[off : off+4])
			t = pick(a == nb.k2, nb)
		case pGLdIndHJeqLd:
			if uint64(x)+uint64(op.need) > n {
				return 0
			}
			fallthrough
		case pLdIndHJeqLd:
			off := uint64(x) + uint64(op.k)
			if off+2 > n {
				return 0
			}
			a = uint32(binary.BigEndian.Uint16(pkt[off : off+2]))
			if a == op.k2 {
				t = op.jt
				break
			}
			nb := &ops[op.jf]
			off = uint64(x) + uint64(nb.k)
			if off+2 > n {
				return 0
			}
			a = uint32(binary.BigEndian.Uint16(pkt[off : off+2]))
			t = pick(a == nb.k2, nb)
		case pGLdIndBJeqLd:
			if uint64(x)+uint64(op.need) > n {
				return 0
			}
			fallthrough
		case pLdIndBJeqLd:
			off := uint64(x) + uint64(op.k)
			if off+1 > n {
				return 0
			}
			a = uint32(pkt[off])
			if a == op.k2 {
				t = op.jt
				break
			}
			nb := &ops[op.jf]
			off = uint64(x) + uint64(nb.k)
			if off+1 > n {
				return 0
			}
			a = uint32(pkt[off])
			t = pick(a == nb.k2, nb)
		case pJeqKJeq:
			t = elseJeq(a, op, ops)
		case pJeqKGJeq:
			t = elseJeqG(a, op, ops, n)
		case pJeqX:
			t = pick(a == x, op)
		case pJgtX:
			t = pick(a > x, op)
		case pJgeX:
			t = pick(a >= x, op)
		case pJsetX:
			t = pick(a&x != 0, op)
		default:
			// A general statement, then its jump.
			switch op.code {
			case pLdSpecial:
				// Only a program with a state has this operation
				// (engine): its engine performs the load.
				st.i, st.a, st.x, st.stopped = i, a, x, true
				return 0
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
				a = st.mem[op.k&(spec.MemWords-1)]
			case pLdxMem:
				x = st.mem[op.k&(spec.MemWords-1)]
			case pSt:
				st.mem[op.k&(spec.MemWords-1)] = a
			case pStx:
				st.mem[op.k&(spec.MemWords-1)] = x
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
				a %= op.k // and mod #0
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
			}
			switch op.cond {
			case cNext:
				t = op.jt
			case cJeq:
				t = pick(a == op.k2, op)
			case cJgt:
				t = pick(a > op.k2, op)
			case cJge:
				t = pick(a >= op.k2, op)
			case cJset:
				t = pick(a&op.k2 != 0, op)
			case cJeqX:
				t = pick(a == x, op)
			case cJgtX:
				t = pick(a > x, op)
			case cJgeX:
				t = pick(a >= x, op)
			case cJsetX:
				t = pick(a&x != 0, op)
			}
		}
		if t < 0 {
			return uint32(^t)
		}
		i = t
	}
}
