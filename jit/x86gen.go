package jit

import (
	"errors"
	"math/bits"
	"slices"
	"unsafe"

	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
)

// The machine code's contract with the trampoline (trampoline_linux_amd64.s):
//
//	in:  rdi packet pointer, rsi captured length (64-bit), r9d wire length,
//	     r10 the 64-byte scratch area in the trampoline's frame,
//	     r11 the *Meta (never nil)
//	out: eax the result; the code returns with ret.
//
// Inside, eax is A and ebx is X (both zero-extended into the 64-bit
// registers); rcx, rdx and r8 are temporaries. rdi is biased by the
// per-compile key (rdi = packet + bias) so that packet offsets appear in
// the code only as k - bias. The code never touches rsp except through its
// own return address, rbp, r12-r15 or any vector register, never writes
// memory outside the scratch area, and calls nothing.
const (
	regA       = rAX
	regX       = rBX
	regCapLen  = rSI
	regPkt     = rDI
	regWireLen = r9
	regScratch = r10
	regMeta    = r11
	regTmp     = r8
)

// errNeedsPortable reports a program the native backend leaves to the
// portable one (the netlink searches, which loop).
var errNeedsPortable = errors.New("the program needs the portable backend")

// span is a range of code bytes.
type span struct{ at, n int }

// x86Code is the output of the generator.
type x86Code struct {
	code []byte
	// keyed are the fields whose bytes depend on the blinding keys (empty
	// without blinding); jumps are the rel32 fields of jumps.
	keyed, jumps []span
	// checks counts the length checks in the code (of one form), by kind.
	checks checkCount
	// batchAt is the offset of the batch form (0: none).
	batchAt int
}

// checkCount counts the packet length checks of a compiled program.
type checkCount struct {
	Guard    int // hoisted guards of absolute loads (the verifier's, plus any extra)
	Indirect int // checks of X-relative loads
	Other    int // header-relative (SKF_LL_OFF/SKF_NET_OFF) loads, which check each time
}

// Total returns the number of checks.
func (c checkCount) Total() int { return c.Guard + c.Indirect + c.Other }

// gen generates x86-64 code for one program in one layout pass.
type gen struct {
	a     asm
	insns []spec.Instruction
	pl    *plan
	keys  *keySource // nil: no blinding
	bias  int32      // packet pointer bias (0 without blinding)

	// prev[pc] is the code offset of pc in the previous pass (an upper
	// bound of this pass's), prev[n] the offset of the final ret-0 stub;
	// cur[pc] is this pass's.
	prev, cur []int
	// zeroRets lists the pcs that are "ret #0" (their code is xor eax,
	// eax; ret, usable as a target by any check that fails), and last n,
	// the final stub.
	zeroRets []int
	// nearOnly disables short jumps (the fallback layout).
	nearOnly bool
	// batch selects the batch form: the code loops over the packets of a
	// batch itself and every return stores the result and moves to the
	// next packet (see emitBatchLoop); storeAt is where that happens.
	batch   bool
	storeAt int

	keyed, jumps []span
	checks       checkCount
}

// maxPasses bounds the layout passes before falling back to near jumps
// (a variable so that a test can force the fallback).
var maxPasses = 64

// genX86 compiles a verified program to x86-64 machine code, in the
// one-packet form or the batch form. keys is nil without blinding.
func genX86(p *verifier.Program, pl *plan, keys *keySource, batch bool) (*x86Code, error) {
	n := p.Len()
	insns := make([]spec.Instruction, n)
	var zeroRets []int
	for pc := range insns {
		insns[pc] = p.At(pc)
		if usesNetlink(insns[pc]) {
			return nil, errNeedsPortable
		}
		if insns[pc].Op == spec.OpRetK && insns[pc].K == 0 {
			zeroRets = append(zeroRets, pc)
		}
	}
	zeroRets = append(zeroRets, n)
	var bias int32
	if keys != nil {
		keys.rewind()
		bias = keys.bias()
	}
	// Pessimistic start: every instruction very far from the next, so the
	// first pass chooses only near jumps; later passes shrink.
	prev := make([]int, n+1)
	for i := range prev {
		prev[i] = i * 1024
	}
	run := func(nearOnly bool) *gen {
		g := &gen{insns: insns, pl: pl, keys: keys, bias: bias, prev: prev, cur: make([]int, n+1),
			zeroRets: zeroRets, nearOnly: nearOnly, batch: batch}
		if keys != nil {
			keys.rewind()
		}
		g.emit()
		return g
	}
	var g *gen
	for pass := 0; ; pass++ {
		if pass == maxPasses {
			// Did not settle: lay out with near jumps only, which does not
			// depend on distances, then emit against that layout.
			g = run(true)
			prev = g.cur
			g = run(true)
			break
		}
		g = run(false)
		if slices.Equal(g.cur, prev) {
			break
		}
		prev = g.cur
	}
	return &x86Code{code: g.a.b, keyed: g.keyed, jumps: g.jumps, checks: g.checks}, nil
}

// genBoth compiles the one-packet form and the batch form into one image:
// the batch form starts at batchAt, 16-byte aligned, after int3 padding.
func genBoth(p *verifier.Program, pl *plan, keys *keySource) (*x86Code, error) {
	one, err := genX86(p, pl, keys, false)
	if err != nil {
		return nil, err
	}
	bat, err := genX86(p, pl, keys, true)
	if err != nil {
		return nil, err
	}
	c := &x86Code{code: one.code, keyed: one.keyed, jumps: one.jumps, checks: one.checks}
	for len(c.code)%16 != 0 {
		c.code = append(c.code, 0xcc)
	}
	c.batchAt = len(c.code)
	c.code = append(c.code, bat.code...)
	for _, s := range bat.keyed {
		c.keyed = append(c.keyed, span{s.at + c.batchAt, s.n})
	}
	for _, s := range bat.jumps {
		c.jumps = append(c.jumps, span{s.at + c.batchAt, s.n})
	}
	return c, nil
}

// usesNetlink reports whether ins is a netlink attribute search.
func usesNetlink(ins spec.Instruction) bool {
	if ins.Class() != spec.ClassLD || ins.Mode() != spec.ModeABS || !spec.IsAncillary(ins.K) {
		return false
	}
	off := ins.K - spec.AncillaryBase
	return off == spec.AncNLAttr || off == spec.AncNLAttrNest
}

// emit lays out the whole program once.
func (g *gen) emit() {
	a := &g.a
	if g.batch {
		g.emitBatchLoop()
	}
	// Prologue: A = X = 0, bias the packet pointer, zero the scratch slots
	// the program reads (the verifier proved each is written first on
	// every path; zeroing keeps stale stack bytes out even so).
	a.aluRegReg32(aluXor, regA, regA)
	a.aluRegReg32(aluXor, regX, regX)
	if g.bias != 0 {
		a.aluRegImm64(aluAdd, regPkt, g.bias)
		g.markImm32()
	}
	for s := range spec.MemWords {
		if g.pl.readSlots&(1<<s) != 0 {
			a.movStore32(mem{base: regScratch, index: noIndex, disp: int32(4 * s)}, regA)
		}
	}
	for pc, ins := range g.insns {
		g.cur[pc] = a.pos()
		g.insn(pc, ins)
	}
	n := len(g.insns)
	g.cur[n] = a.pos()
	g.retZero()
}

// The batch form's contract with enterBatch: r12 points at the next slice
// header of the batch, r13 past the last; r14 at the next wire length,
// whose stride is the qword at [r10+64] (4 in an array of lengths, 24 when
// the lengths are the slice headers' len fields); r15 at the next result;
// r10 and r11 as in the one-packet form. None of these registers is
// written by the code of an instruction.
const (
	regBatchNext   = r12
	regBatchEnd    = r13
	regBatchWire   = r14
	regBatchOut    = r15
	batchStrideOff = 64
)

// emitBatchLoop emits the head of the batch form:
//
//	    jmp loop
//	exit:
//	    ret
//	store:                     every return of a packet's run lands here
//	    mov [r15], eax
//	    add r12, 24
//	    add r14, [r10+64]
//	    add r15, 4
//	loop:
//	    cmp r12, r13
//	    jae exit
//	    mov rdi, [r12]         packet pointer
//	    mov rsi, [r12+8]       captured length
//	    mov r9d, [r14]         wire length
//
// and the one-packet prologue follows, run for every packet.
func (g *gen) emitBatchLoop() {
	a := &g.a
	a.byte1(0xeb, 0) // jmp loop, patched below
	jmpAt := a.pos()
	exit := a.pos()
	a.ret()
	g.storeAt = a.pos()
	a.movStore32(mem{base: regBatchOut, index: noIndex}, regA)
	a.aluRegImm8x64(aluAdd, regBatchNext, 24)
	a.addRegMem64(regBatchWire, mem{base: regScratch, index: noIndex, disp: batchStrideOff})
	a.aluRegImm8x64(aluAdd, regBatchOut, 4)
	a.b[jmpAt-1] = byte(a.pos() - jmpAt)
	a.aluRegReg64(aluCmp, regBatchNext, regBatchEnd)
	a.jcc(ccAE, exit, true)
	a.movLoad64(regPkt, mem{base: regBatchNext, index: noIndex})
	a.movLoad64(regCapLen, mem{base: regBatchNext, index: noIndex, disp: 8})
	a.movLoad32(regWireLen, mem{base: regBatchWire, index: noIndex})
}

// leave ends the run with the result in eax: ret in the one-packet form,
// a jump back to the store sequence in the batch form.
func (g *gen) leave() {
	if !g.batch {
		g.a.ret()
		return
	}
	short := g.storeAt-(g.a.pos()+jmpShortLen) >= -128 && !g.nearOnly
	g.a.jmp(g.storeAt, short)
	if !short {
		g.jumps = append(g.jumps, span{g.a.pos() - 4, 4})
	}
}

// markImm32 records the last four bytes as a keyed field.
func (g *gen) markImm32() {
	if g.keys != nil {
		g.keyed = append(g.keyed, span{g.a.pos() - 4, 4})
	}
}

// markDisp records the displacement of the last memory operand as keyed.
func (g *gen) markDisp() {
	if g.keys != nil && g.a.dispLen > 0 {
		g.keyed = append(g.keyed, span{g.a.dispAt, g.a.dispLen})
	}
}

// imm sets r (32 bits, zero-extended) to v. With blinding v never appears
// in the code: mov r, v^key; xor r, key, with a fresh key per constant.
func (g *gen) imm(r reg, v uint32) {
	a := &g.a
	if g.keys == nil {
		if v == 0 {
			a.aluRegReg32(aluXor, r, r)
			return
		}
		a.movRegImm32(r, v)
		return
	}
	key := g.keys.next()
	for key == 0 {
		key = g.keys.next()
	}
	a.movRegImm32(r, v^key)
	g.markImm32()
	a.aluRegImm32(aluXor, r, key)
	g.markImm32()
}

// retZero emits xor eax, eax and leaves.
func (g *gen) retZero() {
	g.a.aluRegReg32(aluXor, regA, regA)
	g.leave()
}

// shortTo reports whether a jump from instruction self (emitted now, of
// length l) to the code at pc can use an 8-bit displacement in the final
// layout. Forward distances are bounded by the previous pass's layout (no
// size ever grows from one pass to the next, so neither does a distance);
// backward ones are exact in this pass.
func (g *gen) shortTo(self, pc, l int) bool {
	if g.nearOnly {
		return false
	}
	if pc > self {
		return g.prev[pc]-g.prev[self] <= 127
	}
	return g.cur[pc]-(g.a.pos()+l) >= -128
}

// addr returns the code offset of pc for a jump emitted now by self: this
// pass's for pcs already emitted, the previous pass's for later ones (the
// same, once the layout has settled).
func (g *gen) addr(self, pc int) int {
	if pc > self {
		return g.prev[pc]
	}
	return g.cur[pc]
}

// jumpTo emits a jump from instruction self to instruction target:
// unconditional when always is set, else taken when cc holds.
func (g *gen) jumpTo(self, target int, cc cond, always bool) {
	t := g.addr(self, target)
	if always {
		short := g.shortTo(self, target, jmpShortLen)
		g.a.jmp(t, short)
		if !short {
			g.jumps = append(g.jumps, span{g.a.pos() - 4, 4})
		}
		return
	}
	short := g.shortTo(self, target, jccShortLen)
	g.a.jcc(cc, t, short)
	if !short {
		g.jumps = append(g.jumps, span{g.a.pos() - 4, 4})
	}
}

// failIf emits "if cc, return 0" at the current position of instruction
// self: a short jump to a nearby xor eax, eax; ret (a ret #0 instruction or
// the final stub), or the sequence inline behind the inverse condition.
func (g *gen) failIf(self int, cc cond) {
	for _, pc := range g.zeroRets {
		if pc != self && g.shortTo(self, pc, jccShortLen) {
			g.a.jcc(cc, g.addr(self, pc), true)
			return
		}
	}
	// jncc over "xor eax, eax; leave".
	g.a.byte1(0x70|byte(cc.not()), 0)
	at := g.a.pos()
	g.retZero()
	g.a.b[at-1] = byte(g.a.pos() - at)
}

// checkLen emits "if length < need, return 0" for a 64-bit length in
// regCapLen and a constant need.
func (g *gen) checkLen(self int, need uint32) {
	a := &g.a
	if g.keys == nil && need < 1<<31 {
		a.rex(true, 0, 0, regCapLen)
		a.byte1(0x81)
		a.modrmReg(byte(aluCmp), regCapLen)
		a.imm32(need)
	} else {
		g.imm(regTmp, need)
		a.aluRegReg64(aluCmp, regCapLen, regTmp)
	}
	g.failIf(self, ccB)
}

// checkEnd emits "if off + size > length, return 0" for a 64-bit packet
// offset in rdx.
func (g *gen) checkEnd(self int, size uint32) {
	g.a.lea64(rCX, mem{base: rDX, index: noIndex, disp: int32(size)})
	g.a.aluRegReg64(aluCmp, rCX, regCapLen)
	g.failIf(self, ccA)
}

// pktMem returns the memory operand of packet offset k (a constant), or
// false when k - bias does not fit a displacement.
func (g *gen) pktMem(k uint32, index reg) (mem, bool) {
	d := int64(k) - int64(g.bias)
	if d < -1<<31 || d >= 1<<31 {
		return mem{}, false
	}
	return mem{base: regPkt, index: index, disp: int32(d)}, true
}

// loadPkt emits dst = big-endian value of size bytes at m.
func (g *gen) loadPkt(dst reg, size uint32, m mem) {
	a := &g.a
	a.movzxSized(dst, size, m)
	g.markDisp()
	switch size {
	case 2:
		a.rol16by8(dst)
	case 4:
		a.bswap32(dst)
	}
}

// loadAbs emits dst = packet[k:k+size], covered by a guard.
func (g *gen) loadAbs(dst reg, k, size uint32) {
	if m, ok := g.pktMem(k, noIndex); ok {
		g.loadPkt(dst, size, m)
		return
	}
	g.imm(rDX, k)
	g.loadPkt(dst, size, mem{base: regPkt, index: rDX, disp: -g.bias})
}

// loadAtRDX emits dst = packet[rdx:rdx+size] after checking the end.
func (g *gen) loadAtRDX(self int, dst reg, size uint32) {
	g.checkEnd(self, size)
	g.checks.Other++
	g.loadPkt(dst, size, mem{base: regPkt, index: rDX, disp: -g.bias})
}

// loadSpecial emits an absolute load at k >= spec.RecordBase into dst
// (A, or X for ldx msh with a size of 1).
func (g *gen) loadSpecial(self int, ins spec.Instruction, size uint32) {
	a := &g.a
	k := ins.K
	var m Meta
	switch {
	case spec.IsAncillary(k):
		off := k - spec.AncillaryBase
		switch off {
		case spec.AncAluXorX:
			a.aluRegReg32(aluXor, regA, regX)
		case spec.AncVLANTagPresent:
			a.movzxByte(regA, mem{base: regMeta, index: noIndex, disp: int32(unsafe.Offsetof(m.VLANPresent))})
		default:
			fo, ok := metaField(off)
			if !ok { // not reached: the verifier admits only known offsets
				a.aluRegReg32(aluXor, regA, regA)
				return
			}
			a.movLoad32(regA, mem{base: regMeta, index: noIndex, disp: int32(fo)})
		}
	case spec.IsRecordLoad(k):
		off := int32(k - spec.RecordBase)
		a.movLoad64(rDX, mem{base: regMeta, index: noIndex, disp: int32(unsafe.Offsetof(m.Record))})
		a.testRegReg64(rDX, rDX)
		g.failIf(self, ccE)
		a.movzxSized(regA, size, mem{base: rDX, index: noIndex, disp: off})
	case k >= spec.NetOff:
		g.netOffset(self, k)
		g.loadAtRDX(self, regA, size)
	case k >= spec.LLOff:
		g.imm(rDX, k-spec.LLOff)
		g.loadAtRDX(self, regA, size)
	default:
		// Between the record and SKF_LL_OFF: no meaning, the run fails.
		g.retZero()
	}
}

// insn emits one instruction, its guard first.
func (g *gen) insn(pc int, ins spec.Instruction) {
	a := &g.a
	if need := g.pl.absGuard[pc]; need != 0 {
		g.checkLen(pc, need)
		g.checks.Guard++
	}
	switch ins.Op {
	case spec.OpRetK:
		if ins.K == 0 {
			g.retZero()
			return
		}
		g.imm(regA, ins.K)
		g.leave()
	case spec.OpRetA:
		g.leave()

	case spec.OpLdAbsW, spec.OpLdAbsH, spec.OpLdAbsB:
		if isPacketAbs(ins.K) {
			g.loadAbs(regA, ins.K, spec.LoadSize(ins.Op))
			return
		}
		g.loadSpecial(pc, ins, spec.LoadSize(ins.Op))
	case spec.OpLdIndW, spec.OpLdIndH, spec.OpLdIndB:
		g.loadInd(pc, ins)
	case spec.OpLdxMsh:
		g.loadMsh(pc, ins)

	case spec.OpLdImm:
		g.imm(regA, ins.K)
	case spec.OpLdxImm:
		g.imm(regX, ins.K)
	case spec.OpLdLen:
		a.movRegReg32(regA, regWireLen)
	case spec.OpLdxLen:
		a.movRegReg32(regX, regWireLen)
	case spec.OpLdMem:
		a.movLoad32(regA, scratchMem(ins.K))
	case spec.OpLdxMem:
		a.movLoad32(regX, scratchMem(ins.K))
	case spec.OpSt:
		a.movStore32(scratchMem(ins.K), regA)
	case spec.OpStx:
		a.movStore32(scratchMem(ins.K), regX)
	case spec.OpTax:
		a.movRegReg32(regX, regA)
	case spec.OpTxa:
		a.movRegReg32(regA, regX)
	case spec.OpNeg:
		a.negReg32(regA)
	case spec.OpJa:
		if ins.K != 0 {
			g.jumpTo(pc, pc+1+int(ins.K), 0, true)
		}
	default:
		switch ins.Class() {
		case spec.ClassALU:
			g.alu(pc, ins)
		case spec.ClassJMP:
			g.branch(pc, ins)
		}
	}
}

// scratchMem returns the operand of scratch slot k.
func scratchMem(k uint32) mem {
	return mem{base: regScratch, index: noIndex, disp: int32(4 * (k & (spec.MemWords - 1)))}
}

// loadInd emits ld [x + k].
func (g *gen) loadInd(pc int, ins spec.Instruction) {
	a := &g.a
	size := spec.LoadSize(ins.Op)
	if need := g.pl.indCheck[pc]; need != 0 {
		g.checks.Indirect++
		if need > 1<<32-1 {
			// X + need exceeds every possible length: the run returns 0.
			g.retZero()
			return
		}
		g.imm(rCX, uint32(need))
		a.aluRegReg64(aluAdd, rCX, regX)
		a.aluRegReg64(aluCmp, rCX, regCapLen)
		g.failIf(pc, ccA)
	}
	if m, ok := g.pktMem(ins.K, regX); ok {
		g.loadPkt(regA, size, m)
		return
	}
	a.movRegReg32(rDX, regX)
	g.imm(regTmp, ins.K)
	a.aluRegReg64(aluAdd, rDX, regTmp)
	g.loadPkt(regA, size, mem{base: regPkt, index: rDX, disp: -g.bias})
}

// netOffset emits rDX = the packet offset of a load at k >= spec.NetOff
// (Meta.NetOffset + k - spec.NetOff, as spec.Meta.HeaderOffset computes
// it), failing the run at pc when the Meta has no network offset.
func (g *gen) netOffset(pc int, k uint32) {
	a := &g.a
	var m Meta
	a.movzxByte(rCX, mem{base: regMeta, index: noIndex, disp: int32(unsafe.Offsetof(m.NetOffsetValid))})
	a.testRegReg32(rCX, rCX)
	g.failIf(pc, ccE)
	a.movLoad32(rDX, mem{base: regMeta, index: noIndex, disp: int32(unsafe.Offsetof(m.NetOffset))})
	if d := k - spec.NetOff; d != 0 {
		g.imm(regTmp, d)
		a.aluRegReg64(aluAdd, rDX, regTmp)
	}
}

// loadMsh emits ldx 4*([k]&0xf).
func (g *gen) loadMsh(pc int, ins spec.Instruction) {
	a := &g.a
	k := ins.K
	switch {
	case isPacketAbs(k):
		g.loadAbs(regX, k, 1)
	case k >= spec.NetOff: // up to 0xffffffff, as vm reads it
		g.netOffset(pc, k)
		g.loadAtRDX(pc, regX, 1)
	case k >= spec.LLOff && k < spec.NetOff:
		g.imm(rDX, k-spec.LLOff)
		g.loadAtRDX(pc, regX, 1)
	default:
		g.retZero() // no packet byte there: the run returns 0
		return
	}
	a.aluRegImm8(aluAnd, regX, 0xf)
	a.shiftRegImm(shiftLeft, regX, 2)
}

// alu emits an ALU instruction.
func (g *gen) alu(pc int, ins spec.Instruction) {
	a := &g.a
	op := ins.Operation()
	if ins.Src() == spec.SrcX {
		switch op {
		case spec.ALUAdd:
			a.aluRegReg32(aluAdd, regA, regX)
		case spec.ALUSub:
			a.aluRegReg32(aluSub, regA, regX)
		case spec.ALUAnd:
			a.aluRegReg32(aluAnd, regA, regX)
		case spec.ALUOr:
			a.aluRegReg32(aluOr, regA, regX)
		case spec.ALUXor:
			a.aluRegReg32(aluXor, regA, regX)
		case spec.ALUMul:
			a.imulRegReg32(regA, regX)
		case spec.ALUDiv, spec.ALUMod:
			a.testRegReg32(regX, regX)
			g.failIf(pc, ccE)
			a.aluRegReg32(aluXor, rDX, rDX)
			a.divReg32(regX)
			if op == spec.ALUMod {
				a.movRegReg32(regA, rDX)
			}
		case spec.ALULsh, spec.ALURsh:
			// x86 masks the count to 5 bits; the ISA says 32 or more gives 0.
			kind := shiftLeft
			if op == spec.ALURsh {
				kind = shiftRight
			}
			a.movRegReg32(rCX, regX)
			a.shiftRegCL(kind, regA)
			a.aluRegReg32(aluXor, rDX, rDX)
			a.aluRegImm8(aluCmp, regX, 31)
			a.cmov32(ccA, regA, rDX)
		}
		return
	}
	k := ins.K
	switch op {
	case spec.ALUAdd, spec.ALUSub, spec.ALUOr, spec.ALUXor:
		if k == 0 {
			return
		}
		g.aluK(aluOps[op>>4], k)
	case spec.ALUAnd:
		if k == 0 {
			a.aluRegReg32(aluXor, regA, regA)
			return
		}
		g.aluK(aluAnd, k)
	case spec.ALUMul:
		if g.keys == nil {
			a.imulRegRegImm32(regA, regA, k)
			return
		}
		g.imm(regTmp, k)
		a.imulRegReg32(regA, regTmp)
	case spec.ALUDiv:
		if k&(k-1) == 0 { // a power of two (the verifier rejects div #0)
			if s := bits.TrailingZeros32(k); s != 0 {
				a.shiftRegImm(shiftRight, regA, uint8(s))
			}
			return
		}
		g.imm(regTmp, k)
		a.aluRegReg32(aluXor, rDX, rDX)
		a.divReg32(regTmp)
	case spec.ALUMod:
		if k&(k-1) == 0 {
			if k == 1 {
				a.aluRegReg32(aluXor, regA, regA)
				return
			}
			g.aluK(aluAnd, k-1)
			return
		}
		g.imm(regTmp, k)
		a.aluRegReg32(aluXor, rDX, rDX)
		a.divReg32(regTmp)
		a.movRegReg32(regA, rDX)
	case spec.ALULsh, spec.ALURsh:
		kind := shiftLeft
		if op == spec.ALURsh {
			kind = shiftRight
		}
		switch {
		case k >= 32: // not reached: the verifier rejects it
			a.aluRegReg32(aluXor, regA, regA)
		case k != 0:
			a.shiftRegImm(kind, regA, uint8(k))
		}
	}
}

// aluOps maps a classic ALU operation (op>>4) to its x86 group.
var aluOps = [16]alu{spec.ALUAdd >> 4: aluAdd, spec.ALUSub >> 4: aluSub, spec.ALUOr >> 4: aluOr, spec.ALUXor >> 4: aluXor}

// aluK emits A = A op k.
func (g *gen) aluK(op alu, k uint32) {
	if g.keys == nil {
		if int32(k) >= -128 && int32(k) <= 127 {
			g.a.aluRegImm8(op, regA, int8(k))
			return
		}
		g.a.aluRegImm32(op, regA, k)
		return
	}
	g.imm(regTmp, k)
	g.a.aluRegReg32(op, regA, regTmp)
}

// branch emits a conditional jump.
func (g *gen) branch(pc int, ins spec.Instruction) {
	a := &g.a
	tt, tf := pc+1+int(ins.Jt), pc+1+int(ins.Jf)
	if tt == tf {
		if ins.Jt != 0 {
			g.jumpTo(pc, tt, 0, true)
		}
		return
	}
	var cc cond
	switch ins.Operation() {
	case spec.JumpJEQ:
		cc = ccE
	case spec.JumpJGT:
		cc = ccA
	case spec.JumpJGE:
		cc = ccAE
	case spec.JumpJSET:
		cc = ccNE
	}
	switch {
	case ins.Src() == spec.SrcX && ins.Operation() == spec.JumpJSET:
		a.testRegReg32(regA, regX)
	case ins.Src() == spec.SrcX:
		a.aluRegReg32(aluCmp, regA, regX)
	case ins.K == 0:
		switch ins.Operation() {
		case spec.JumpJGE: // A >= 0 always
			g.jumpTo(pc, tt, 0, tt != pc+1)
			return
		case spec.JumpJSET: // A & 0 never
			if tf != pc+1 {
				g.jumpTo(pc, tf, 0, true)
			}
			return
		case spec.JumpJGT: // A > 0 is A != 0
			cc = ccNE
		}
		a.testRegReg32(regA, regA)
	case ins.Operation() == spec.JumpJSET:
		if g.keys == nil {
			a.testRegImm32(regA, ins.K)
		} else {
			g.imm(regTmp, ins.K)
			a.testRegReg32(regA, regTmp)
		}
	default:
		g.aluK(aluCmp, ins.K)
	}
	switch {
	case tt == pc+1:
		g.jumpTo(pc, tf, cc.not(), false)
	case tf == pc+1:
		g.jumpTo(pc, tt, cc, false)
	default:
		g.jumpTo(pc, tt, cc, false)
		g.jumpTo(pc, tf, 0, true)
	}
}
