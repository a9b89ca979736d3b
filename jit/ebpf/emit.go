package ebpf

import (
	"fmt"
	"math"

	"github.com/cilium/ebpf/asm"
	"github.com/wringcap/wring/spec"
)

// emitAll writes the prologue, the code of every reachable instruction in
// program order, and the match and no-match actions.
func (t *translator) emitAll() error {
	r := t.r
	if t.xdp() {
		t.emit(
			asm.LoadMem(r.Data, r.Ctx, xdpData, asm.Word),
			asm.LoadMem(r.DataEnd, r.Ctx, xdpDataEnd, asm.Word),
		)
	}
	// Classic BPF starts with A = X = 0; the kernel verifier also refuses
	// a read of a register never written.
	t.emit(asm.Mov.Imm32(r.A, 0), asm.Mov.Imm32(r.X, 0))
	prologueEnd := len(t.out)
	if t.o.Annotate {
		what := "prologue: A = X = 0"
		if t.xdp() {
			what = "prologue: data, data_end; A = X = 0"
		}
		t.out[0] = t.out[0].WithSource(asm.Comment(what))
	}

	for pc := 0; pc < t.n; pc++ {
		if !t.reach[pc] {
			continue
		}
		if t.target[pc] {
			t.label(t.pcLabel(pc))
		}
		start := len(t.out)
		if err := t.emitPC(pc); err != nil {
			return err
		}
		t.st.translated++
		if t.o.Annotate && len(t.out) > start {
			ins := t.p.At(pc)
			t.out[start] = t.out[start].WithSource(asm.Comment(spec.ListingLine(ins, pc)))
		}
	}

	// The actions, each only if something jumps to it: the kernel refuses
	// code no path reaches.
	if t.o.NoMatchLabel == "" && t.refs[t.noMatch] > 0 {
		t.label(t.noMatch)
		if len(t.o.OnNoMatch) > 0 {
			t.emit(t.o.OnNoMatch...)
		} else if t.xdp() {
			t.emit(asm.Mov.Imm(asm.R0, XDPPass), asm.Return())
		} else {
			t.emit(asm.Mov.Imm(asm.R0, 0), asm.Return())
		}
	}
	if t.o.MatchLabel == "" && t.refs[t.match] > 0 {
		t.label(t.match)
		t.emit(t.o.OnMatch...)
	}
	if t.pending != "" {
		return fmt.Errorf("label %s placed after the last instruction: %w", t.pending, ErrOptions)
	}

	// A caller's label the filter never jumps to would leave the caller's
	// code unreachable, which the kernel refuses. Reference it with a jump
	// the kernel's verifier proves is never taken (A is 0 here).
	var dummies asm.Instructions
	for _, l := range []string{t.o.NoMatchLabel, t.o.MatchLabel} {
		if l != "" && t.refs[l] == 0 {
			dummies = append(dummies, asm.JNE.Imm(r.A, 0, l))
		}
	}
	if len(dummies) > 0 {
		t.out = append(t.out[:prologueEnd], append(dummies, t.out[prologueEnd:]...)...)
	}

	// Labels that ended up on the same instruction as another one.
	for i := range t.out {
		ref := t.out[i].Reference()
		if ref == "" {
			continue
		}
		to := ref
		for {
			next, ok := t.alias[to]
			if !ok {
				break
			}
			to = next
		}
		if to != ref {
			t.out[i] = t.out[i].WithReference(to)
		}
	}
	return t.checkJumps()
}

// checkJumps makes sure every jump to a label of the filter fits eBPF's
// 16-bit jump offset (a classic program of 4096 instructions can grow past
// it).
func (t *translator) checkJumps() error {
	at := map[string]int{}
	off := 0
	for _, ins := range t.out {
		if s := ins.Symbol(); s != "" {
			at[s] = off
		}
		off += int(ins.Size() / asm.InstructionSize)
	}
	off = 0
	for _, ins := range t.out {
		if to, ok := at[ins.Reference()]; ok {
			if d := to - off - 1; d > math.MaxInt16 || d < math.MinInt16 {
				return fmt.Errorf("the translation is %d instructions long and needs a jump of %d, past eBPF's 16-bit offsets: %w", len(t.out), d, ErrTooLarge)
			}
		}
		off += int(ins.Size() / asm.InstructionSize)
	}
	return nil
}

// Instruction opcodes, spelled out.
const (
	opLdImm  = spec.ClassLD | spec.ModeIMM
	opLdLen  = spec.ClassLD | spec.ModeLEN | spec.SizeW
	opLdMem  = spec.ClassLD | spec.ModeMEM
	opLdxImm = spec.ClassLDX | spec.ModeIMM
	opLdxLen = spec.ClassLDX | spec.ModeLEN | spec.SizeW
	opLdxMem = spec.ClassLDX | spec.ModeMEM
	opLdxMsh = spec.ClassLDX | spec.ModeMSH | spec.SizeB
	opSt     = spec.ClassST
	opStx    = spec.ClassSTX
	opTax    = spec.ClassMISC | spec.MiscTAX
	opTxa    = spec.ClassMISC | spec.MiscTXA
	opNeg    = spec.ClassALU | spec.ALUNeg
)

// emitPC writes the code for the classic instruction at pc.
func (t *translator) emitPC(pc int) error {
	r := t.r
	ins := t.p.At(pc)
	if t.dead[pc] {
		// Needs more bytes than an XDP frame can have: always fails.
		t.emit(asm.Ja.Label(t.ref(t.noMatch)))
		return nil
	}

	// Bounds guard hoisted by the verifier (XDP).
	known, knownX := t.in[pc], t.inX[pc]
	if pc == 0 {
		known, knownX = 0, 0
	}
	if g := t.guard(pc); g > known {
		t.packetGuard(g)
		t.st.guards++
		known = g
	}
	if end, ok := packetEnd(ins); ok && t.xdp() && end > known {
		// The facts should always cover an absolute load; stay safe if
		// they do not, and count it so tests notice.
		t.packetGuard(end)
		t.st.extraGuards++
		known = end
	}
	defer func() {
		if writesX(ins) {
			knownX = 0
		}
		fall, jumps := t.edges(pc)
		t.flow(fall, known, knownX)
		for _, j := range jumps {
			t.flow(j, known, knownX)
		}
	}()

	switch ins.Class() {
	case spec.ClassLD:
		return t.emitLoad(pc, ins, r.A, &knownX)
	case spec.ClassLDX:
		if ins.Op == opLdxMsh {
			switch {
			case t.xdp() && ins.K >= spec.NetOff:
				return &Error{PC: pc, Target: t.o.Target, What: fmt.Sprintf("ldx msh relative to the network header (k 0x%x)", ins.K), Err: ErrUnsupported}
			case t.xdp() && ins.K >= spec.LLOff:
				t.packetGuard(ins.K - spec.LLOff + 1)
				t.loadPacket(r.X, ins.K-spec.LLOff, asm.Byte)
			case t.xdp():
				t.loadPacket(r.X, ins.K, asm.Byte)
			default:
				t.emit(asm.LoadAbs(int32(ins.K), asm.Byte), asm.Mov.Reg32(r.X, asm.R0))
			}
			t.emit(asm.And.Imm32(r.X, 0xf), asm.LSh.Imm32(r.X, 2))
			return nil
		}
		return t.emitLoad(pc, ins, r.X, &knownX)
	case spec.ClassST:
		t.emit(asm.StoreMem(asm.RFP, t.slot(ins.K), r.A, asm.Word))
	case spec.ClassSTX:
		t.emit(asm.StoreMem(asm.RFP, t.slot(ins.K), r.X, asm.Word))
	case spec.ClassALU:
		t.emitALU(pc, ins)
	case spec.ClassJMP:
		t.emitJump(pc, ins)
	case spec.ClassRET:
		if ins.Op == opRetA {
			t.emit(asm.JEq.Imm32(r.A, 0, t.ref(t.noMatch)), asm.Ja.Label(t.ref(t.match)))
		} else if ins.K == 0 {
			t.emit(asm.Ja.Label(t.ref(t.noMatch)))
		} else {
			t.emit(asm.Mov.Imm32(r.A, int32(ins.K)), asm.Ja.Label(t.ref(t.match)))
		}
	case spec.ClassMISC:
		if ins.Op == opTax {
			t.emit(asm.Mov.Reg32(r.X, r.A))
		} else {
			t.emit(asm.Mov.Reg32(r.A, r.X))
		}
	default:
		return &Error{PC: pc, Target: t.o.Target, What: fmt.Sprintf("opcode 0x%04x", ins.Op), Err: ErrUnsupported}
	}
	return nil
}

// slot returns the stack offset of scratch slot k.
func (t *translator) slot(k uint32) int16 {
	return -(t.o.StackOffset + 4*int16(k+1))
}

// packetGuard checks that the XDP frame has at least n bytes, going to the
// no-match action otherwise. The kernel verifier then allows loads from
// Data up to offset n.
func (t *translator) packetGuard(n uint32) {
	r := t.r
	t.emit(
		asm.Mov.Reg(r.Tmp, r.Data),
		asm.Add.Imm(r.Tmp, int32(n)),
		asm.JGT.Reg(r.Tmp, r.DataEnd, t.ref(t.noMatch)),
	)
}

// size returns the eBPF size of a classic load.
func size(ins spec.Instruction) (asm.Size, uint32) {
	switch ins.Size() {
	case spec.SizeH:
		return asm.Half, 2
	case spec.SizeB:
		return asm.Byte, 1
	}
	return asm.Word, 4
}

// loadPacket loads the big-endian value at offset k of the XDP frame into
// dst; a guard has already shown the frame long enough.
func (t *translator) loadPacket(dst asm.Register, k uint32, sz asm.Size) {
	r := t.r
	if k <= 0x7fff {
		t.emit(asm.LoadMem(dst, r.Data, int16(k), sz))
	} else {
		t.emit(asm.Mov.Reg(r.Tmp, r.Data), asm.Add.Imm(r.Tmp, int32(k)), asm.LoadMem(dst, r.Tmp, 0, sz))
	}
	t.toHost(dst, sz)
}

// toHost converts a value loaded in network byte order to host order.
func (t *translator) toHost(dst asm.Register, sz asm.Size) {
	switch sz {
	case asm.Half:
		t.emit(asm.HostTo(asm.BE, dst, asm.Half))
	case asm.Word:
		t.emit(asm.HostTo(asm.BE, dst, asm.Word))
	}
}

// emitLoad writes ld/ldx: immediate, length, scratch, packet (absolute or
// indirect) and extension loads.
func (t *translator) emitLoad(pc int, ins spec.Instruction, dst asm.Register, knownX *uint32) error {
	r := t.r
	switch ins.Op {
	case opLdImm, opLdxImm:
		t.emit(asm.Mov.Imm32(dst, int32(ins.K)))
		return nil
	case opLdLen, opLdxLen:
		if t.xdp() {
			// The linear frame's length: data_end - data.
			t.emit(asm.Mov.Reg(dst, r.DataEnd), asm.Sub.Reg(dst, r.Data))
		} else {
			t.emit(asm.LoadMem(dst, r.Ctx, skbLen, asm.Word))
		}
		return nil
	case opLdMem, opLdxMem:
		t.emit(asm.LoadMem(dst, asm.RFP, t.slot(ins.K), asm.Word))
		return nil
	}
	sz, n := size(ins)
	switch ins.Mode() {
	case spec.ModeABS:
		switch {
		case spec.IsRecordLoad(ins.K):
			return &Error{PC: pc, Target: t.o.Target, What: fmt.Sprintf("parse record load at offset %d", ins.K-spec.RecordBase), Err: ErrUnsupported}
		case spec.IsAncillary(ins.K):
			return t.emitAncillary(pc, ins.K-spec.AncillaryBase)
		case !t.xdp():
			// The kernel's LD_ABS: past the end (or at an offset Linux
			// gives no meaning) it ends the program with 0; SKF_NET_OFF
			// and SKF_LL_OFF offsets read relative to the sk_buff's
			// network and link-layer headers.
			t.emit(asm.LoadAbs(int32(ins.K), sz), asm.Mov.Reg32(dst, asm.R0))
			return nil
		case ins.K >= spec.NetOff:
			return &Error{PC: pc, Target: t.o.Target, What: fmt.Sprintf("load relative to the network header (k 0x%x)", ins.K), Err: ErrUnsupported}
		case ins.K >= spec.LLOff:
			// The frame starts with the link-layer header. The verifier's
			// facts do not cover these loads: check here.
			off := ins.K - spec.LLOff
			t.packetGuard(off + n)
			t.loadPacket(dst, off, sz)
			return nil
		}
		t.loadPacket(dst, ins.K, sz)
		return nil
	case spec.ModeIND:
		if t.xdp() {
			*knownX = t.loadIndirectXDP(pc, ins.K, sz, n, *knownX)
		} else {
			t.loadIndirect(ins.K, sz, n)
		}
		return nil
	}
	return &Error{PC: pc, Target: t.o.Target, What: fmt.Sprintf("load opcode 0x%04x", ins.Op), Err: ErrUnsupported}
}

// loadIndirect writes A = P[X+k:n] for the socket filter target. X+k does
// not wrap at 32 bits (as in libpcap and the vm); plan has already sent a
// k too large for any packet to the no-match action, so k fits an eBPF
// immediate here. The offset is kept a non-negative int, so the kernel
// never reads it as SKF_NET_OFF/SKF_LL_OFF-relative; past the end, LD_IND
// ends the program with 0.
func (t *translator) loadIndirect(k uint32, sz asm.Size, n uint32) {
	r := t.r
	t.st.indirectGuards++
	t.st.indirectLoads++
	t.emit(asm.Mov.Reg32(r.Tmp, r.X))
	if k != 0 {
		t.emit(asm.Add.Imm(r.Tmp, int32(k)))
	}
	t.emit(
		asm.JGT.Imm(r.Tmp, int32(0x7fffffff-n), t.ref(t.noMatch)),
		asm.LoadInd(asm.R0, r.Tmp, 0, sz),
		asm.Mov.Reg32(r.A, asm.R0),
	)
}

// loadIndirectXDP writes A = P[X+k:n] in XDP and returns the number of
// bytes past data+X now checked. XPtr holds data+X from the last check
// until X changes. When the checked length does not cover this load, the
// check is made for needX (every later X+k load on the way to a non-zero
// return), after bounding X so the kernel verifier can track data+X.
func (t *translator) loadIndirectXDP(pc int, k uint32, sz asm.Size, n, knownX uint32) uint32 {
	r := t.r
	t.st.indirectLoads++
	if k+n > knownX {
		g := max(t.needX[pc], k+n) // plan made needX[pc] <= maxLinear
		t.st.indirectGuards++
		t.emit(
			asm.Mov.Reg32(r.XPtr, r.X),
			asm.JGT.Imm(r.XPtr, int32(maxLinear-g), t.ref(t.noMatch)),
			asm.Add.Reg(r.XPtr, r.Data),
			asm.Mov.Reg(r.Tmp, r.XPtr),
			asm.Add.Imm(r.Tmp, int32(g)),
			asm.JGT.Reg(r.Tmp, r.DataEnd, t.ref(t.noMatch)),
		)
		knownX = g
	}
	if k <= 0x7fff {
		t.emit(asm.LoadMem(r.A, r.XPtr, int16(k), sz))
	} else {
		t.emit(asm.Mov.Reg(r.Tmp, r.XPtr), asm.Add.Imm(r.Tmp, int32(k)), asm.LoadMem(r.A, r.Tmp, 0, sz))
	}
	t.toHost(r.A, sz)
	return knownX
}

// emitALU writes an arithmetic instruction on the 32-bit A.
func (t *translator) emitALU(pc int, ins spec.Instruction) {
	r := t.r
	if ins.Op == opNeg {
		t.emit(asm.Neg.Imm32(r.A, 0))
		return
	}
	var op asm.ALUOp
	switch ins.Operation() {
	case spec.ALUAdd:
		op = asm.Add
	case spec.ALUSub:
		op = asm.Sub
	case spec.ALUMul:
		op = asm.Mul
	case spec.ALUDiv:
		op = asm.Div
	case spec.ALUMod:
		op = asm.Mod
	case spec.ALUOr:
		op = asm.Or
	case spec.ALUAnd:
		op = asm.And
	case spec.ALUXor:
		op = asm.Xor
	case spec.ALULsh:
		op = asm.LSh
	case spec.ALURsh:
		op = asm.RSh
	}
	if ins.Src() == spec.SrcK {
		// The verifier has rejected division by 0 and shifts by 32 or more.
		t.emit(op.Imm32(r.A, int32(ins.K)))
		return
	}
	switch op {
	case asm.Div, asm.Mod:
		// Classic BPF returns 0 on division by zero; eBPF would go on.
		t.emit(asm.JEq.Imm(r.X, 0, t.ref(t.noMatch)), op.Reg32(r.A, r.X))
	case asm.LSh, asm.RSh:
		// eBPF masks the shift count; classic BPF (as wring defines it)
		// gives 0 for a shift by 32 or more.
		shift := t.newLabel()
		next := t.pcLabel(pc + 1)
		t.target[pc+1] = true
		t.emit(
			asm.JLT.Imm(r.X, 32, shift),
			asm.Mov.Imm32(r.A, 0),
			asm.Ja.Label(next),
			op.Reg32(r.A, r.X).WithSymbol(shift),
		)
	default:
		t.emit(op.Reg32(r.A, r.X))
	}
}

// jumpOps maps a classic conditional jump to the eBPF jump taken when the
// condition holds and, except for jset, the one taken when it does not.
func jumpOps(operation uint16) (yes, no asm.JumpOp) {
	switch operation {
	case spec.JumpJEQ:
		return asm.JEq, asm.JNE
	case spec.JumpJGT:
		return asm.JGT, asm.JLE
	case spec.JumpJGE:
		return asm.JGE, asm.JLT
	}
	return asm.JSet, asm.InvalidJumpOp
}

// emitJump writes ja and the conditional jumps, comparing the 32-bit A
// with 32-bit jumps so constants of 2^31 and more need no register.
func (t *translator) emitJump(pc int, ins spec.Instruction) {
	r := t.r
	fall, jumps := t.edges(pc)
	if ins.Op == opJa || len(jumps) == 0 || (fall < 0 && len(jumps) == 1) {
		if len(jumps) == 1 {
			t.emit(asm.Ja.Label(t.jumpLabel(jumps[0])))
		}
		return
	}
	yes, no := jumpOps(ins.Operation())
	cond := func(op asm.JumpOp, label string) asm.Instruction {
		if ins.Src() == spec.SrcX {
			return op.Reg32(r.A, r.X, label)
		}
		return op.Imm32(r.A, int32(ins.K), label)
	}
	tt, tf := t.resolve(pc+1+int(ins.Jt)), t.resolve(pc+1+int(ins.Jf))
	switch {
	case fall == pc+1 && tt == pc+1:
		// Jump when the condition does not hold.
		if no != asm.InvalidJumpOp {
			t.emit(cond(no, t.jumpLabel(tf)))
			return
		}
		// jset has no negation: test A & k (or A & X) for zero.
		t.emit(asm.Mov.Reg32(r.Tmp, r.A))
		if ins.Src() == spec.SrcX {
			t.emit(asm.And.Reg32(r.Tmp, r.X))
		} else {
			t.emit(asm.And.Imm32(r.Tmp, int32(ins.K)))
		}
		t.emit(asm.JEq.Imm(r.Tmp, 0, t.jumpLabel(tf)))
	case fall == pc+1:
		t.emit(cond(yes, t.jumpLabel(tt)))
	default:
		t.emit(cond(yes, t.jumpLabel(tt)), asm.Ja.Label(t.jumpLabel(tf)))
	}
}

// jumpLabel returns the label of a resolved jump target.
func (t *translator) jumpLabel(pc int) string {
	if pc == noMatch {
		return t.ref(t.noMatch)
	}
	return t.pcLabel(pc)
}
