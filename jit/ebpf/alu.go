package ebpf

import (
	"github.com/cilium/ebpf/asm"
	"github.com/wringcap/wring/spec"
)

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
