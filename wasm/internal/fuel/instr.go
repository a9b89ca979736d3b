package fuel

import "fmt"

// Opcodes the rewriter treats specially.
const (
	opUnreachable = 0x00
	opBlock       = 0x02
	opLoop        = 0x03
	opIf          = 0x04
	opElse        = 0x05
	opEnd         = 0x0b
	opGlobalGet   = 0x23
	opGlobalSet   = 0x24
	opI64Const    = 0x42
	opI64LtS      = 0x53
	opI64Sub      = 0x7d
	blockEmpty    = 0x40
)

// isValType reports whether c is a one-byte value type.
func isValType(c byte) bool {
	switch c {
	case 0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f:
		return true
	}
	return false
}

// blockType skips a block type: the empty type, a value type, or a signed
// 33-bit type index.
func (r *reader) blockType() {
	if r.err != nil {
		return
	}
	if r.pos >= len(r.b) {
		r.fail(errShort)
		return
	}
	switch c := r.b[r.pos]; c {
	case blockEmpty, 0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f:
		r.pos++
	default:
		r.skipLEB(5)
	}
}

// memarg skips a memory immediate: alignment (with the multi-memory bit, an
// index follows) and offset.
func (r *reader) memarg() {
	align := r.u32()
	if align&0x40 != 0 {
		r.u32()
	}
	r.skipLEB(10)
}

// instr decodes one instruction and skips its immediates. It returns the
// opcode (prefixed opcodes return the prefix byte).
func (r *reader) instr() (byte, error) {
	start := r.pos
	op := r.byte()
	switch {
	case op == opUnreachable, op == 0x01, op == opElse, op == opEnd, op == 0x0f,
		op == 0x1a, op == 0x1b, op == 0xd1:
	case op == opBlock, op == opLoop, op == opIf:
		r.blockType()
	case op == 0x0c, op == 0x0d, op == 0x10, op == 0xd2:
		r.u32()
	case op == 0x0e: // br_table
		n := r.u32()
		for i := uint32(0); i <= n && r.err == nil; i++ {
			r.u32()
		}
	case op == 0x11: // call_indirect
		r.u32()
		r.u32()
	case op == 0x1c: // select with types
		n := r.u32()
		r.bytes(int(n))
	case op >= 0x20 && op <= 0x26: // locals, globals, table.get/set
		r.u32()
	case op >= 0x28 && op <= 0x3e: // loads and stores
		r.memarg()
	case op == 0x3f, op == 0x40: // memory.size, memory.grow
		r.u32()
	case op == 0x41:
		r.skipLEB(5)
	case op == 0x42:
		r.skipLEB(10)
	case op == 0x43:
		r.bytes(4)
	case op == 0x44:
		r.bytes(8)
	case op >= 0x45 && op <= 0xc4: // numeric, sign extension
	case op == 0xd0: // ref.null
		r.byte()
	case op == 0xfc:
		r.miscInstr()
	case op == 0xfd:
		r.simdInstr()
	case op == 0xfe:
		sub := r.u32()
		if sub == 0x03 { // atomic.fence
			r.byte()
		} else {
			r.memarg()
		}
	default:
		if r.err == nil {
			return op, fmt.Errorf("offset %d: unsupported opcode 0x%02x", start, op)
		}
	}
	return op, r.err
}

// miscInstr skips the immediates of a 0xfc-prefixed instruction.
func (r *reader) miscInstr() {
	sub := r.u32()
	switch {
	case sub <= 7: // saturating truncation
	case sub == 8: // memory.init
		r.u32()
		r.u32()
	case sub == 9, sub == 13, sub == 15, sub == 16, sub == 17:
		r.u32()
	case sub == 10, sub == 12, sub == 14:
		r.u32()
		r.u32()
	case sub == 11:
		r.u32()
	default:
		r.fail(fmt.Errorf("unsupported opcode 0xfc %d", sub))
	}
}

// simdInstr skips the immediates of a 0xfd-prefixed instruction.
func (r *reader) simdInstr() {
	sub := r.u32()
	switch {
	case sub <= 11, sub == 92, sub == 93:
		r.memarg()
	case sub == 12, sub == 13:
		r.bytes(16)
	case sub >= 21 && sub <= 34:
		r.byte()
	case sub >= 84 && sub <= 91:
		r.memarg()
		r.byte()
	case sub > 0xff:
		r.fail(fmt.Errorf("unsupported opcode 0xfd %d", sub))
	}
}
