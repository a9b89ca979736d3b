package spec

import "fmt"

// ALUOp is a binary arithmetic or logic operation; the values are the
// opcode bits (and x/net/bpf's).
type ALUOp uint16

// The binary ALU operations.
const (
	ALUOpAdd        ALUOp = ALUAdd
	ALUOpSub        ALUOp = ALUSub
	ALUOpMul        ALUOp = ALUMul
	ALUOpDiv        ALUOp = ALUDiv
	ALUOpOr         ALUOp = ALUOr
	ALUOpAnd        ALUOp = ALUAnd
	ALUOpShiftLeft  ALUOp = ALULsh
	ALUOpShiftRight ALUOp = ALURsh
	ALUOpMod        ALUOp = ALUMod
	ALUOpXor        ALUOp = ALUXor
)

func (op ALUOp) check() error {
	if op == ALUNeg {
		return assembleErr("neg is NegateA, not an ALUOp")
	}
	if _, ok := aluNames[uint16(op)]; !ok || uint16(op)&^0xf0 != 0 {
		return assembleErr("ALU operation 0x%x", uint16(op))
	}
	return nil
}

// ALUOpConstant computes A = A <Op> Val.
type ALUOpConstant struct {
	Op  ALUOp
	Val uint32
}

// Assemble implements Insn.
func (a ALUOpConstant) Assemble() (Instruction, error) {
	if err := a.Op.check(); err != nil {
		return Instruction{}, err
	}
	return Instruction{Op: ClassALU | uint16(a.Op) | SrcK, K: a.Val}, nil
}

// String returns the instruction in bpf_asm syntax.
func (a ALUOpConstant) String() string {
	s, _ := asmText(Instruction{Op: ClassALU | uint16(a.Op), K: a.Val}, 0)
	return s
}

// ALUOpX computes A = A <Op> X.
type ALUOpX struct {
	Op ALUOp
}

// Assemble implements Insn.
func (a ALUOpX) Assemble() (Instruction, error) {
	if err := a.Op.check(); err != nil {
		return Instruction{}, err
	}
	return Instruction{Op: ClassALU | uint16(a.Op) | SrcX}, nil
}

// String returns the instruction in bpf_asm syntax.
func (a ALUOpX) String() string { return aluNames[uint16(a.Op)] + " x" }

// NegateA computes A = -A.
type NegateA struct{}

// Assemble implements Insn.
func (NegateA) Assemble() (Instruction, error) { return Instruction{Op: ClassALU | ALUNeg}, nil }

// String returns the instruction in bpf_asm syntax.
func (NegateA) String() string { return "neg" }

// JumpTest is the comparison of a conditional jump; the values are
// x/net/bpf's. The negated tests assemble to the positive opcode with the
// targets swapped; Disassemble produces only the four positive ones.
type JumpTest uint16

// The comparisons of conditional jumps (A against k or X).
const (
	JumpEqual          JumpTest = iota // A == k
	JumpNotEqual                       // A != k
	JumpGreaterThan                    // A > k
	JumpLessThan                       // A < k
	JumpGreaterOrEqual                 // A >= k
	JumpLessOrEqual                    // A <= k
	JumpBitsSet                        // A & k != 0
	JumpBitsNotSet                     // A & k == 0
)

var jumpTests = map[uint16]JumpTest{
	JumpJEQ: JumpEqual, JumpJGT: JumpGreaterThan, JumpJGE: JumpGreaterOrEqual, JumpJSET: JumpBitsSet,
}

// encode returns the jump opcode bits and whether the targets swap.
func (t JumpTest) encode() (op uint16, swap bool, err error) {
	switch t {
	case JumpEqual:
		return JumpJEQ, false, nil
	case JumpNotEqual:
		return JumpJEQ, true, nil
	case JumpGreaterThan:
		return JumpJGT, false, nil
	case JumpLessOrEqual:
		return JumpJGT, true, nil
	case JumpGreaterOrEqual:
		return JumpJGE, false, nil
	case JumpLessThan:
		return JumpJGE, true, nil
	case JumpBitsSet:
		return JumpJSET, false, nil
	case JumpBitsNotSet:
		return JumpJSET, true, nil
	}
	return 0, false, assembleErr("jump test %d", t)
}

var jumpTestNames = [...]string{"jeq", "jne", "jgt", "jlt", "jge", "jle", "jset", "jnset"}

func (t JumpTest) String() string {
	if int(t) < len(jumpTestNames) {
		return jumpTestNames[t]
	}
	return fmt.Sprintf("JumpTest(%d)", uint16(t))
}

// JumpAlways skips Skip instructions (ja).
type JumpAlways struct {
	Skip uint32
}

// Assemble implements Insn.
func (a JumpAlways) Assemble() (Instruction, error) {
	return Instruction{Op: ClassJMP | JumpJA, K: a.Skip}, nil
}

// String returns the instruction with its relative offset ("ja +3").
func (a JumpAlways) String() string { return fmt.Sprintf("ja +%d", a.Skip) }

// JumpIf skips SkipTrue instructions if A <Cond> Val holds, SkipFalse
// otherwise.
type JumpIf struct {
	Cond      JumpTest
	Val       uint32
	SkipTrue  uint8
	SkipFalse uint8
}

// Assemble implements Insn.
func (a JumpIf) Assemble() (Instruction, error) {
	return assembleJump(a.Cond, SrcK, a.Val, a.SkipTrue, a.SkipFalse)
}

// String returns the instruction with relative offsets
// ("jeq #0x800, +0, +3").
func (a JumpIf) String() string {
	return fmt.Sprintf("%v #0x%x, +%d, +%d", a.Cond, a.Val, a.SkipTrue, a.SkipFalse)
}

// JumpIfX skips SkipTrue instructions if A <Cond> X holds, SkipFalse
// otherwise.
type JumpIfX struct {
	Cond      JumpTest
	SkipTrue  uint8
	SkipFalse uint8
}

// Assemble implements Insn.
func (a JumpIfX) Assemble() (Instruction, error) {
	return assembleJump(a.Cond, SrcX, 0, a.SkipTrue, a.SkipFalse)
}

// String returns the instruction with relative offsets ("jgt x, +1, +0").
func (a JumpIfX) String() string {
	return fmt.Sprintf("%v x, +%d, +%d", a.Cond, a.SkipTrue, a.SkipFalse)
}

func assembleJump(t JumpTest, src uint16, k uint32, jt, jf uint8) (Instruction, error) {
	op, swap, err := t.encode()
	if err != nil {
		return Instruction{}, err
	}
	if swap {
		jt, jf = jf, jt
	}
	return Instruction{Op: ClassJMP | op | src, Jt: jt, Jf: jf, K: k}, nil
}

// ReturnA ends the program, returning A (x/net/bpf's RetA; spec.RetA is
// the opcode bit).
type ReturnA struct{}

// Assemble implements Insn.
func (ReturnA) Assemble() (Instruction, error) { return Instruction{Op: ClassRET | RetA}, nil }

// String returns the instruction in bpf_asm syntax.
func (ReturnA) String() string { return "ret a" }

// RetConstant ends the program, returning Val.
type RetConstant struct {
	Val uint32
}

// Assemble implements Insn.
func (a RetConstant) Assemble() (Instruction, error) {
	return Instruction{Op: ClassRET | RetK, K: a.Val}, nil
}

// String returns the instruction in bpf_asm syntax.
func (a RetConstant) String() string { return fmt.Sprintf("ret #%d", a.Val) }

// TAX copies A into X.
type TAX struct{}

// Assemble implements Insn.
func (TAX) Assemble() (Instruction, error) { return Instruction{Op: ClassMISC | MiscTAX}, nil }

// String returns the instruction in bpf_asm syntax.
func (TAX) String() string { return "tax" }

// TXA copies X into A.
type TXA struct{}

// Assemble implements Insn.
func (TXA) Assemble() (Instruction, error) { return Instruction{Op: ClassMISC | MiscTXA}, nil }

// String returns the instruction in bpf_asm syntax.
func (TXA) String() string { return "txa" }
