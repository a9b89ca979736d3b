package spec

import (
	"bufio"
	"fmt"
	"io"
)

// FormatListing writes p as tcpdump -d prints it (libpcap 1.10.3's
// bpf_image), byte for byte: one line per instruction, jump targets as
// absolute instruction numbers, signed decimal where libpcap uses %d.
// Opcodes bpf_image does not know print as "unimp 0x..". One addition:
// `ldx #pktlen` (0x81), which 1.10.3 prints as unimp, prints as libpcap
// 1.11 does.
func FormatListing(w io.Writer, p Program) error {
	bw := bufio.NewWriter(w)
	for pc, ins := range p {
		bw.WriteString(ListingLine(ins, pc))
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// ListingLine returns the tcpdump -d line of the instruction at pc, without
// a newline.
func ListingLine(ins Instruction, pc int) string {
	op, operand := listingOperand(ins, pc)
	if ins.Class() == ClassJMP && ins.Operation() != JumpJA {
		return fmt.Sprintf("(%03d) %-8s %-16s jt %d\tjf %d", pc, op, operand, pc+1+int(ins.Jt), pc+1+int(ins.Jf))
	}
	return fmt.Sprintf("(%03d) %-8s %s", pc, op, operand)
}

// listingOperand mirrors bpf_image's switch on the exact opcode.
func listingOperand(ins Instruction, pc int) (op, operand string) {
	k := ins.K
	sk := int32(k) // libpcap prints u32 constants with %d
	switch ins.Op {
	case ClassRET | RetK:
		return "ret", fmt.Sprintf("#%d", sk)
	case ClassRET | RetA:
		return "ret", ""
	case ClassLD | SizeW | ModeABS:
		return "ld", absOperand(k)
	case ClassLD | SizeH | ModeABS:
		return "ldh", absOperand(k)
	case ClassLD | SizeB | ModeABS:
		return "ldb", absOperand(k)
	case ClassLD | SizeW | ModeLEN:
		return "ld", "#pktlen"
	case ClassLDX | SizeW | ModeLEN:
		return "ldx", "#pktlen"
	case ClassLD | SizeW | ModeIND:
		return "ld", fmt.Sprintf("[x + %d]", sk)
	case ClassLD | SizeH | ModeIND:
		return "ldh", fmt.Sprintf("[x + %d]", sk)
	case ClassLD | SizeB | ModeIND:
		return "ldb", fmt.Sprintf("[x + %d]", sk)
	case ClassLD | ModeIMM:
		return "ld", fmt.Sprintf("#0x%x", k)
	case ClassLDX | ModeIMM:
		return "ldx", fmt.Sprintf("#0x%x", k)
	case ClassLDX | ModeMSH | SizeB:
		return "ldxb", fmt.Sprintf("4*([%d]&0xf)", sk)
	case ClassLD | ModeMEM:
		return "ld", fmt.Sprintf("M[%d]", sk)
	case ClassLDX | ModeMEM:
		return "ldx", fmt.Sprintf("M[%d]", sk)
	case ClassST:
		return "st", fmt.Sprintf("M[%d]", sk)
	case ClassSTX:
		return "stx", fmt.Sprintf("M[%d]", sk)
	case ClassJMP | JumpJA:
		return "ja", fmt.Sprintf("%d", int32(uint32(pc+1)+k))
	case ClassJMP | JumpJGT | SrcK:
		return "jgt", fmt.Sprintf("#0x%x", k)
	case ClassJMP | JumpJGE | SrcK:
		return "jge", fmt.Sprintf("#0x%x", k)
	case ClassJMP | JumpJEQ | SrcK:
		return "jeq", fmt.Sprintf("#0x%x", k)
	case ClassJMP | JumpJSET | SrcK:
		return "jset", fmt.Sprintf("#0x%x", k)
	case ClassJMP | JumpJGT | SrcX:
		return "jgt", "x"
	case ClassJMP | JumpJGE | SrcX:
		return "jge", "x"
	case ClassJMP | JumpJEQ | SrcX:
		return "jeq", "x"
	case ClassJMP | JumpJSET | SrcX:
		return "jset", "x"
	case ClassALU | ALUNeg:
		return "neg", ""
	case ClassMISC | MiscTAX:
		return "tax", ""
	case ClassMISC | MiscTXA:
		return "txa", ""
	}
	if ins.Class() == ClassALU && ins.Operation() != ALUNeg {
		if name, ok := aluNames[ins.Operation()]; ok {
			if ins.Src() == SrcX {
				if ins.Op == ClassALU|ins.Operation()|SrcX {
					return name, "x"
				}
			} else if ins.Op == ClassALU|ins.Operation()|SrcK {
				switch ins.Operation() {
				case ALUAnd, ALUOr, ALUXor:
					return name, fmt.Sprintf("#0x%x", k)
				}
				return name, fmt.Sprintf("#%d", sk)
			}
		}
	}
	return "unimp", fmt.Sprintf("0x%x", ins.Op)
}

// absOperand prints an absolute load's operand: the ancillary name when
// libpcap knows one, else the signed offset.
func absOperand(k uint32) string {
	if k >= AncillaryBase && k < AncillaryBase+AncMax {
		if name, ok := ListingAncillaryName(k - AncillaryBase); ok {
			return "[" + name + "]"
		}
	}
	return fmt.Sprintf("[%d]", int32(k))
}

// aluNames are the mnemonics of the binary ALU operations.
var aluNames = map[uint16]string{
	ALUAdd: "add", ALUSub: "sub", ALUMul: "mul", ALUDiv: "div", ALUMod: "mod",
	ALUAnd: "and", ALUOr: "or", ALUXor: "xor", ALULsh: "lsh", ALURsh: "rsh",
}
