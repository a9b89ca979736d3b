package spec

// Instruction is one classic BPF instruction, laid out exactly as Linux's
// struct sock_filter: a 16-bit opcode, two 8-bit relative jump offsets and a
// 32-bit constant. Its fields have the names and types of
// golang.org/x/net/bpf.RawInstruction, so the two convert into each other
// with a plain Go conversion: bpf.RawInstruction(ins), spec.Instruction(raw).
type Instruction struct {
	Op uint16 // opcode: class | size/op | mode/src
	Jt uint8  // jump offset if true (conditional jumps)
	Jf uint8  // jump offset if false (conditional jumps)
	K  uint32 // generic constant
}

// Program is a sequence of classic BPF instructions. A Program is only data:
// it runs nowhere until verifier.Verify has accepted it.
type Program []Instruction

// Limits of the instruction set, as in Linux.
const (
	// MaxInstructions is the largest program the verifier accepts (BPF_MAXINSNS).
	MaxInstructions = 4096
	// MemWords is the number of 32-bit scratch memory slots (BPF_MEMWORDS).
	MemWords = 16
)

// Instruction classes (code & 0x07).
const (
	ClassLD   = 0x00
	ClassLDX  = 0x01
	ClassST   = 0x02
	ClassSTX  = 0x03
	ClassALU  = 0x04
	ClassJMP  = 0x05
	ClassRET  = 0x06
	ClassMISC = 0x07
)

// Load sizes (code & 0x18).
const (
	SizeW = 0x00 // 32-bit word
	SizeH = 0x08 // 16-bit half word
	SizeB = 0x10 // byte
)

// Load modes (code & 0xe0).
const (
	ModeIMM = 0x00 // constant
	ModeABS = 0x20 // packet at absolute offset k
	ModeIND = 0x40 // packet at offset X+k
	ModeMEM = 0x60 // scratch slot k
	ModeLEN = 0x80 // wire length
	ModeMSH = 0xa0 // 4*(P[k:1]&0xf), LDX only
)

// ALU and jump operations (code & 0xf0).
const (
	ALUAdd = 0x00
	ALUSub = 0x10
	ALUMul = 0x20
	ALUDiv = 0x30
	ALUOr  = 0x40
	ALUAnd = 0x50
	ALULsh = 0x60
	ALURsh = 0x70
	ALUNeg = 0x80
	ALUMod = 0x90
	ALUXor = 0xa0

	JumpJA   = 0x00
	JumpJEQ  = 0x10
	JumpJGT  = 0x20
	JumpJGE  = 0x30
	JumpJSET = 0x40
)

// Operand sources (code & 0x08) for ALU and jumps.
const (
	SrcK = 0x00 // the constant k
	SrcX = 0x08 // the index register X
)

// Return value sources (code & 0x18) for RET.
const (
	RetK = 0x00 // return k
	RetA = 0x10 // return A
)

// MISC operations (code & 0xf8).
const (
	MiscTAX = 0x00 // X = A
	MiscTXA = 0x80 // A = X
)

// Class returns the instruction class of the opcode.
func (i Instruction) Class() uint16 { return i.Op & 0x07 }

// Size returns the load size bits of the opcode.
func (i Instruction) Size() uint16 { return i.Op & 0x18 }

// Mode returns the addressing mode bits of the opcode.
func (i Instruction) Mode() uint16 { return i.Op & 0xe0 }

// Operation returns the ALU or jump operation bits of the opcode.
func (i Instruction) Operation() uint16 { return i.Op & 0xf0 }

// Src returns the operand source bit of the opcode.
func (i Instruction) Src() uint16 { return i.Op & 0x08 }

// Stmt builds a non-jump instruction, like the BPF_STMT macro.
func Stmt(code uint16, k uint32) Instruction { return Instruction{Op: code, K: k} }

// Jump builds a jump instruction, like the BPF_JUMP macro.
func Jump(code uint16, k uint32, jt, jf uint8) Instruction {
	return Instruction{Op: code, Jt: jt, Jf: jf, K: k}
}
