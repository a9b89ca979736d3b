package spec

import (
	"bufio"
	"fmt"
	"io"
)

// FormatAsm writes p in bpf_asm assembly, with a label "L<pc>" on every
// jump target. Linux's bpf_asm assembles the output to the same program,
// except for the fields an instruction does not use (k of tax, jt and jf
// of non-jumps), which are not written. A jump target outside the program
// or an opcode bpf_asm has no mnemonic for is an error naming the PC.
func FormatAsm(w io.Writer, p Program) error {
	targets := make([]bool, len(p)+1)
	mark := func(pc int, t int64) error {
		if t < 0 || t >= int64(len(p)) {
			return fmt.Errorf("format asm: pc %d: jump target %d is outside the program", pc, t)
		}
		targets[t] = true
		return nil
	}
	lines := make([]string, len(p))
	for pc, ins := range p {
		if ins.Class() == ClassJMP {
			if ins.Operation() == JumpJA {
				if err := mark(pc, int64(uint32(pc+1)+ins.K)); err != nil {
					return err
				}
			} else if _, ok := asmText(ins, pc); ok {
				// Mark only the targets the printed form names.
				jt, jf := int64(pc)+1+int64(ins.Jt), int64(pc)+1+int64(ins.Jf)
				switch {
				case ins.Jf == 0:
					err := mark(pc, jt)
					if err != nil {
						return err
					}
				case ins.Jt == 0 && ins.Operation() != JumpJSET:
					if err := mark(pc, jf); err != nil {
						return err
					}
				default:
					if err := mark(pc, jt); err != nil {
						return err
					}
					if err := mark(pc, jf); err != nil {
						return err
					}
				}
			}
		}
		s, ok := asmText(ins, pc)
		if !ok {
			return fmt.Errorf("format asm: pc %d: opcode 0x%02x has no bpf_asm mnemonic", pc, ins.Op)
		}
		lines[pc] = s
	}
	bw := bufio.NewWriter(w)
	for pc, s := range lines {
		if targets[pc] {
			fmt.Fprintf(bw, "L%d:", pc)
		}
		bw.WriteByte('\t')
		bw.WriteString(s)
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// asmNumber prints a load offset: decimal, or hexadecimal when it is
// large (negative as a signed number).
func asmNumber(k uint32) string {
	if k >= 1<<31 {
		return fmt.Sprintf("0x%x", k)
	}
	return fmt.Sprintf("%d", k)
}

// asmText returns the bpf_asm text of one instruction (labels "L<pc>").
func asmText(ins Instruction, pc int) (string, bool) {
	if !ins.Known() {
		return "", false
	}
	k := ins.K
	label := func(off int64) string { return fmt.Sprintf("L%d", int64(pc)+1+off) }
	switch ins.Op {
	case ClassLD | SizeW | ModeABS, ClassLD | SizeH | ModeABS, ClassLD | SizeB | ModeABS:
		op := map[uint16]string{SizeW: "ld", SizeH: "ldh", SizeB: "ldb"}[ins.Size()]
		if k >= AncillaryBase {
			if name, ok := AncillaryNames[k-AncillaryBase]; ok {
				return op + " #" + name, true
			}
		}
		return fmt.Sprintf("%s [%s]", op, asmNumber(k)), true
	case ClassLD | SizeW | ModeIND, ClassLD | SizeH | ModeIND, ClassLD | SizeB | ModeIND:
		op := map[uint16]string{SizeW: "ld", SizeH: "ldh", SizeB: "ldb"}[ins.Size()]
		return fmt.Sprintf("%s [x + %s]", op, asmNumber(k)), true
	case ClassLD | SizeW | ModeLEN:
		return "ld #len", true
	case ClassLDX | SizeW | ModeLEN:
		return "ldx #len", true
	case ClassLD | ModeIMM:
		return fmt.Sprintf("ld #0x%x", k), true
	case ClassLDX | ModeIMM:
		return fmt.Sprintf("ldx #0x%x", k), true
	case ClassLD | ModeMEM:
		return fmt.Sprintf("ld M[%d]", k), true
	case ClassLDX | ModeMEM:
		return fmt.Sprintf("ldx M[%d]", k), true
	case ClassST:
		return fmt.Sprintf("st M[%d]", k), true
	case ClassSTX:
		return fmt.Sprintf("stx M[%d]", k), true
	case ClassLDX | ModeMSH | SizeB:
		return fmt.Sprintf("ldxb 4*([%s]&0xf)", asmNumber(k)), true
	case ClassJMP | JumpJA:
		return "ja " + label(int64(int32(k))), true
	case ClassRET | RetK:
		return fmt.Sprintf("ret #%d", k), true
	case ClassRET | RetA:
		return "ret a", true
	case ClassRET | 0x08:
		return "ret x", true
	case ClassALU | ALUNeg:
		return "neg", true
	case ClassMISC | MiscTAX:
		return "tax", true
	case ClassMISC | MiscTXA:
		return "txa", true
	}
	switch ins.Class() {
	case ClassJMP:
		name := map[uint16]string{JumpJEQ: "jeq", JumpJGT: "jgt", JumpJGE: "jge", JumpJSET: "jset"}[ins.Operation()]
		if name == "" {
			return "", false
		}
		operand := fmt.Sprintf("#0x%x", k)
		if ins.Src() == SrcX {
			operand = "x"
		}
		jt, jf := int64(ins.Jt), int64(ins.Jf)
		switch {
		case jf == 0:
			return fmt.Sprintf("%s %s, %s", name, operand, label(jt)), true
		case jt == 0 && ins.Operation() != JumpJSET:
			neg := map[uint16]string{JumpJEQ: "jneq", JumpJGT: "jle", JumpJGE: "jlt"}[ins.Operation()]
			return fmt.Sprintf("%s %s, %s", neg, operand, label(jf)), true
		}
		return fmt.Sprintf("%s %s, %s, %s", name, operand, label(jt), label(jf)), true
	case ClassALU:
		name, ok := aluNames[ins.Operation()]
		if !ok {
			return "", false
		}
		if ins.Src() == SrcX {
			return name + " x", true
		}
		switch ins.Operation() {
		case ALUAnd, ALUOr, ALUXor:
			return fmt.Sprintf("%s #0x%x", name, k), true
		}
		return fmt.Sprintf("%s #%d", name, k), true
	}
	return "", false
}
