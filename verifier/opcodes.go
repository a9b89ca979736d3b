package verifier

import "github.com/wringcap/wring/spec"

// ALU opcodes with constant operands the verifier checks (spec names the
// others).
const (
	opDivK = spec.ClassALU | spec.ALUDiv | spec.SrcK
	opModK = spec.ClassALU | spec.ALUMod | spec.SrcK
	opLshK = spec.ClassALU | spec.ALULsh | spec.SrcK
	opRshK = spec.ClassALU | spec.ALURsh | spec.SrcK
)

// validOps is indexed by opcode; opcodes past its end are invalid. It holds
// exactly the table of Linux's chk_code_allowed (net/core/filter.c). The
// full 16-bit opcode is compared, so unused bits, unknown modes and sizes,
// LDX with an absolute or indirect mode, LD|IMM with a size other than W
// and so on are all invalid.
var validOps = func() [0x100]bool {
	var t [0x100]bool
	for _, op := range []uint16{
		spec.OpLdImm, spec.OpLdMem, spec.OpLdLen, spec.OpLdAbsW, spec.OpLdAbsH, spec.OpLdAbsB, spec.OpLdIndW, spec.OpLdIndH, spec.OpLdIndB,
		spec.OpLdxImm, spec.OpLdxMem, spec.OpLdxLen, spec.OpLdxMsh,
		spec.OpSt, spec.OpStx, spec.OpTax, spec.OpTxa, spec.OpRetK, spec.OpRetA, spec.OpNeg,
		spec.OpJa, spec.OpJeqK, spec.OpJeqX, spec.OpJgtK, spec.OpJgtX, spec.OpJgeK, spec.OpJgeX, spec.OpJsetK, spec.OpJsetX,
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
	case spec.OpJeqK, spec.OpJeqX, spec.OpJgtK, spec.OpJgtX, spec.OpJgeK, spec.OpJgeX, spec.OpJsetK, spec.OpJsetX:
		return true
	}
	return false
}
