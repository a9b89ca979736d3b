package fuel

import "github.com/wringcap/wring/wasm/internal/binary"

// Opcodes the rewriter emits beyond those binary names.
const (
	opI64LtS = 0x53
	opI64Sub = 0x7d
)

// isValType reports whether c is a one-byte value type.
func isValType(c byte) bool {
	switch c {
	case 0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f:
		return true
	}
	return false
}

// instr decodes one instruction and skips its immediates, with no bound of
// its own on a br_table's labels. It returns the opcode (the prefix byte
// for prefixed opcodes) and the reader's error.
func instr(r *binary.Reader) (byte, error) {
	op, _ := r.Instr(binary.AnyLabels)
	return op, r.Err
}
