package spec

// Canonical returns ins with the fields its opcode does not use set to
// zero: jt and jf of everything but conditional jumps, k of instructions
// without a constant (ld #len, ldx #len, tax, txa, neg, ret a, the x forms
// of ALU operations and jumps). libpcap leaves stray values there (its tax
// often carries a k), and the listing and assembly formats do not write
// them, so a program printed in those formats reads back as its canonical
// form. Opcodes no classic BPF machine knows are returned unchanged.
func (i Instruction) Canonical() Instruction {
	if !i.Known() {
		return i
	}
	out := Instruction{Op: i.Op, K: i.K}
	switch i.Class() {
	case ClassJMP:
		if i.Operation() != JumpJA {
			out.Jt, out.Jf = i.Jt, i.Jf
			if i.Src() == SrcX {
				out.K = 0
			}
		}
	case ClassALU:
		if i.Src() == SrcX || i.Operation() == ALUNeg {
			out.K = 0
		}
	case ClassLD, ClassLDX:
		if i.Mode() == ModeLEN {
			out.K = 0
		}
	case ClassRET:
		if i.Op != ClassRET|RetK {
			out.K = 0
		}
	case ClassMISC:
		out.K = 0
	}
	return out
}

// Canonical returns a copy of p with every instruction in canonical form.
func (p Program) Canonical() Program {
	if p == nil {
		return nil
	}
	out := make(Program, len(p))
	for i, ins := range p {
		out[i] = ins.Canonical()
	}
	return out
}

// Known reports whether the opcode is one of classic BPF's: every opcode
// Linux's classic checker accepts, and BPF_RET|BPF_X (0x0e), which bpf_asm
// writes though Linux rejects it. The verifier decides what may run; Known
// only says what the text formats and typed instructions can name.
func (i Instruction) Known() bool {
	if i.Op > 0xff {
		return false // Linux indexes its opcode table with the whole u16
	}
	switch i.Op {
	case ClassLD | SizeW | ModeABS, ClassLD | SizeH | ModeABS, ClassLD | SizeB | ModeABS,
		ClassLD | SizeW | ModeIND, ClassLD | SizeH | ModeIND, ClassLD | SizeB | ModeIND,
		ClassLD | SizeW | ModeLEN, ClassLD | ModeIMM, ClassLD | ModeMEM,
		ClassLDX | SizeW | ModeLEN, ClassLDX | ModeIMM, ClassLDX | ModeMEM, ClassLDX | ModeMSH | SizeB,
		ClassST, ClassSTX,
		ClassALU | ALUNeg,
		ClassJMP | JumpJA,
		ClassRET | RetK, ClassRET | RetA, ClassRET | 0x08,
		ClassMISC | MiscTAX, ClassMISC | MiscTXA:
		return true
	}
	switch i.Class() {
	case ClassALU:
		_, ok := aluNames[i.Operation()]
		return ok
	case ClassJMP:
		switch i.Operation() {
		case JumpJEQ, JumpJGT, JumpJGE, JumpJSET:
			return true
		}
	}
	return false
}
