package verifier

import "github.com/wringcap/wring/spec"

// Opcodes the verifier accepts: exactly the table of Linux's
// chk_code_allowed (net/core/filter.c). The full 16-bit opcode is compared,
// so unused bits, unknown modes and sizes, LDX with an absolute or indirect
// mode, LD|IMM with a size other than W and so on are all invalid.
const (
	opLdImm  = spec.ClassLD | spec.ModeIMM
	opLdMem  = spec.ClassLD | spec.ModeMEM
	opLdLen  = spec.ClassLD | spec.SizeW | spec.ModeLEN
	opLdAbsW = spec.ClassLD | spec.SizeW | spec.ModeABS
	opLdAbsH = spec.ClassLD | spec.SizeH | spec.ModeABS
	opLdAbsB = spec.ClassLD | spec.SizeB | spec.ModeABS
	opLdIndW = spec.ClassLD | spec.SizeW | spec.ModeIND
	opLdIndH = spec.ClassLD | spec.SizeH | spec.ModeIND
	opLdIndB = spec.ClassLD | spec.SizeB | spec.ModeIND

	opLdxImm = spec.ClassLDX | spec.ModeIMM
	opLdxMem = spec.ClassLDX | spec.ModeMEM
	opLdxLen = spec.ClassLDX | spec.SizeW | spec.ModeLEN
	opLdxMsh = spec.ClassLDX | spec.SizeB | spec.ModeMSH

	opSt  = spec.ClassST
	opStx = spec.ClassSTX

	opTax = spec.ClassMISC | spec.MiscTAX
	opTxa = spec.ClassMISC | spec.MiscTXA

	opRetK = spec.ClassRET | spec.RetK
	opRetA = spec.ClassRET | spec.RetA

	opJa    = spec.ClassJMP | spec.JumpJA
	opNeg   = spec.ClassALU | spec.ALUNeg
	opDivK  = spec.ClassALU | spec.ALUDiv | spec.SrcK
	opModK  = spec.ClassALU | spec.ALUMod | spec.SrcK
	opLshK  = spec.ClassALU | spec.ALULsh | spec.SrcK
	opRshK  = spec.ClassALU | spec.ALURsh | spec.SrcK
	opJeqK  = spec.ClassJMP | spec.JumpJEQ | spec.SrcK
	opJeqX  = spec.ClassJMP | spec.JumpJEQ | spec.SrcX
	opJgtK  = spec.ClassJMP | spec.JumpJGT | spec.SrcK
	opJgtX  = spec.ClassJMP | spec.JumpJGT | spec.SrcX
	opJgeK  = spec.ClassJMP | spec.JumpJGE | spec.SrcK
	opJgeX  = spec.ClassJMP | spec.JumpJGE | spec.SrcX
	opJsetK = spec.ClassJMP | spec.JumpJSET | spec.SrcK
	opJsetX = spec.ClassJMP | spec.JumpJSET | spec.SrcX
)

// validOps is indexed by opcode; opcodes past its end are invalid.
var validOps = func() [0x100]bool {
	var t [0x100]bool
	for _, op := range []uint16{
		opLdImm, opLdMem, opLdLen, opLdAbsW, opLdAbsH, opLdAbsB, opLdIndW, opLdIndH, opLdIndB,
		opLdxImm, opLdxMem, opLdxLen, opLdxMsh,
		opSt, opStx, opTax, opTxa, opRetK, opRetA, opNeg,
		opJa, opJeqK, opJeqX, opJgtK, opJgtX, opJgeK, opJgeX, opJsetK, opJsetX,
	} {
		t[op] = true
	}
	for _, alu := range []uint16{spec.ALUAdd, spec.ALUSub, spec.ALUMul, spec.ALUDiv, spec.ALUMod,
		spec.ALUAnd, spec.ALUOr, spec.ALUXor, spec.ALULsh, spec.ALURsh} {
		t[spec.ClassALU|alu|spec.SrcK] = true
		t[spec.ClassALU|alu|spec.SrcX] = true
	}
	return t
}()

// ValidOpcode reports whether Linux's classic checker (and so Verify)
// accepts the opcode.
func ValidOpcode(op uint16) bool { return int(op) < len(validOps) && validOps[op] }

// isCondJump reports whether op is a conditional jump (with jt and jf).
func isCondJump(op uint16) bool {
	switch op {
	case opJeqK, opJeqX, opJgtK, opJgtX, opJgeK, opJgeX, opJsetK, opJsetX:
		return true
	}
	return false
}

// loadSize returns the size in bytes of an LD ABS/IND opcode.
func loadSize(op uint16) uint32 {
	switch op & 0x18 {
	case spec.SizeH:
		return 2
	case spec.SizeB:
		return 1
	}
	return 4
}
