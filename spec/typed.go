package spec

import (
	"errors"
	"fmt"
)

// Insn is a typed classic BPF instruction: one small struct per kind
// (LoadAbsolute, JumpIf, RetConstant, ...), in the style of
// golang.org/x/net/bpf. Assemble encodes it; Disassemble decodes an
// Instruction back into its typed form. Instruction itself implements Insn
// and stands for every encoding without a typed form, so decoding never
// loses anything.
//
// Typed kinds whose fields are plain integers (LoadAbsolute, LoadIndirect,
// LoadMemShift, JumpAlways, RetConstant, ReturnA, NegateA, TAX, TXA) convert to
// and from their x/net/bpf namesakes with a plain Go conversion. The others
// carry named enums (Register, ALUOp, JumpTest, Extension) and go through
// the raw form: bpf.RawInstruction(ins).Disassemble().
type Insn interface {
	// Assemble encodes the instruction, or reports why it cannot be
	// encoded (an operand out of range, an unknown operation).
	Assemble() (Instruction, error)
}

// ErrAssemble is wrapped by every error of an Insn's Assemble method.
var ErrAssemble = errors.New("cannot assemble instruction")

func assembleErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrAssemble, fmt.Sprintf(format, args...))
}

// Assemble returns the instruction itself: a raw Instruction is already
// encoded.
func (i Instruction) Assemble() (Instruction, error) { return i, nil }

// Disassemble returns the typed form of the instruction, or the
// Instruction itself when it has none (unknown opcodes, scratch slots past
// 15, ret x). Assemble on the result gives back ins exactly, except for the
// fields the opcode does not use (see Canonical).
func (i Instruction) Disassemble() Insn { return Disassemble(i) }

// Disassemble returns the typed form of ins; see Instruction.Disassemble.
func Disassemble(ins Instruction) Insn {
	if !ins.Known() {
		return ins
	}
	k := ins.K
	switch ins.Op {
	case ClassLD | ModeIMM:
		return LoadConstant{Dst: RegA, Val: k}
	case ClassLDX | ModeIMM:
		return LoadConstant{Dst: RegX, Val: k}
	case ClassLD | ModeMEM, ClassLDX | ModeMEM:
		if k >= MemWords {
			return ins
		}
		return LoadScratch{Dst: Register(ins.Class()), N: int(k)}
	case ClassST, ClassSTX:
		if k >= MemWords {
			return ins
		}
		return StoreScratch{Src: Register(ins.Class() - ClassST), N: int(k)}
	case ClassLD | SizeW | ModeLEN:
		return LoadExtension{Num: ExtLen}
	case ClassLDX | SizeW | ModeLEN:
		return LoadLengthX{}
	case ClassLDX | ModeMSH | SizeB:
		return LoadMemShift{Off: k}
	case ClassALU | ALUNeg:
		return NegateA{}
	case ClassJMP | JumpJA:
		return JumpAlways{Skip: k}
	case ClassRET | RetK:
		return RetConstant{Val: k}
	case ClassRET | RetA:
		return ReturnA{}
	case ClassMISC | MiscTAX:
		return TAX{}
	case ClassMISC | MiscTXA:
		return TXA{}
	}
	switch ins.Class() {
	case ClassLD:
		size, ok := sizeBytes[ins.Size()]
		if !ok {
			return ins
		}
		switch ins.Mode() {
		case ModeABS:
			if IsRecordLoad(k) {
				return LoadRecord{Off: k - RecordBase, Size: size}
			}
			if IsAncillary(k) {
				if _, known := AncillaryNames[k-AncillaryBase]; known {
					return LoadExtension{Num: Extension(k - AncillaryBase), Size: size}
				}
			}
			return LoadAbsolute{Off: k, Size: size}
		case ModeIND:
			return LoadIndirect{Off: k, Size: size}
		}
	case ClassALU:
		if _, ok := aluNames[ins.Operation()]; ok {
			if ins.Src() == SrcX {
				return ALUOpX{Op: ALUOp(ins.Operation())}
			}
			return ALUOpConstant{Op: ALUOp(ins.Operation()), Val: k}
		}
	case ClassJMP:
		cond, ok := jumpTests[ins.Operation()]
		if !ok {
			return ins
		}
		if ins.Src() == SrcX {
			return JumpIfX{Cond: cond, SkipTrue: ins.Jt, SkipFalse: ins.Jf}
		}
		return JumpIf{Cond: cond, Val: k, SkipTrue: ins.Jt, SkipFalse: ins.Jf}
	}
	return ins
}

// AssembleAll encodes typed instructions into a Program; the error names
// the index of the first instruction that cannot be encoded.
func AssembleAll(insns []Insn) (Program, error) {
	p := make(Program, len(insns))
	for i, in := range insns {
		if in == nil {
			return nil, fmt.Errorf("instruction %d: %w: nil", i, ErrAssemble)
		}
		raw, err := in.Assemble()
		if err != nil {
			return nil, fmt.Errorf("instruction %d: %w", i, err)
		}
		p[i] = raw
	}
	return p, nil
}

// Disassemble decodes every instruction of p; allDecoded is false when
// some have no typed form and stay Instructions.
func (p Program) Disassemble() (insns []Insn, allDecoded bool) {
	insns = make([]Insn, len(p))
	allDecoded = true
	for i, ins := range p {
		insns[i] = Disassemble(ins)
		if _, raw := insns[i].(Instruction); raw {
			allDecoded = false
		}
	}
	return insns, allDecoded
}

// sizeBytes maps load size bits to bytes.
var sizeBytes = map[uint16]int{SizeW: 4, SizeH: 2, SizeB: 1}

// sizeBits returns the opcode size bits of a load of n bytes.
func sizeBits(n int) (uint16, error) {
	switch n {
	case 4:
		return SizeW, nil
	case 2:
		return SizeH, nil
	case 1:
		return SizeB, nil
	}
	return 0, assembleErr("load size %d (want 1, 2 or 4)", n)
}
