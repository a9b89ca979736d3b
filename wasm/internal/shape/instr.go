package shape

import "fmt"

const (
	opBlock    = 0x02
	opLoop     = 0x03
	opIf       = 0x04
	opElse     = 0x05
	opEnd      = 0x0b
	opBrIf     = 0x0d
	opMisc     = 0xfc
	opBrTable  = 0x0e
	blockEmpty = 0x40

	// opMemoryGrow starts a basic block once rewritten: the fuel rewrite
	// charges it in an if.
	opMemoryGrow = 0x40
)

// instr decodes one instruction and skips its immediates, counting a
// br_table's labels against Limits.BrTableTargets. It returns the opcode
// (the prefix byte for prefixed opcodes).
func (c *checker) instr() (byte, error) {
	r := &c.r
	start := r.pos
	op := r.byte()
	switch {
	case op == 0x00, op == 0x01, op == 0x05, op == opEnd, op == 0x0f,
		op == 0x1a, op == 0x1b, op == 0xd1:
	case op == opBlock, op == opLoop, op == opIf:
		r.blockType()
	case op == 0x0c, op == 0x0d, op == 0x10, op == 0xd2:
		r.u32()
	case op == opBrTable:
		n := r.vec(1)
		targets := uint64(n) + 1
		if err := c.exceed("BrTableTargets", "br_table targets", targets, c.lim.BrTableTargets, start); err != nil {
			return op, err
		}
		c.s.BrTableTargets = max(c.s.BrTableTargets, targets)
		for i := uint64(0); i < targets && r.err == nil; i++ {
			r.u32()
		}
	case op == 0x11: // call_indirect
		r.u32()
		r.u32()
	case op == 0x1c: // select with types
		r.bytes(int(r.vec(1)))
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
		if sub := r.u32(); sub == 0x03 { // atomic.fence
			r.byte()
		} else {
			r.memarg()
		}
	default:
		if r.err == nil {
			r.pos = start
			r.fail(fmt.Errorf("unsupported opcode 0x%02x", op))
		}
	}
	if r.err != nil {
		return op, c.malformed(r.err)
	}
	return op, nil
}

// blockType skips a block type: the empty type, a value type, or a signed
// 33-bit type index.
func (r *reader) blockType() {
	if r.err != nil {
		return
	}
	if r.pos >= r.end {
		r.fail(errShort)
		return
	}
	switch r.b[r.pos] {
	case blockEmpty, 0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f:
		r.pos++
	default:
		r.skipLEB(5)
	}
}

// memarg skips a memory immediate: alignment (with the multi-memory bit, an
// index follows) and offset.
func (r *reader) memarg() {
	if align := r.u32(); align&0x40 != 0 {
		r.u32()
	}
	r.skipLEB(10)
}

// miscInstr skips the immediates of a 0xfc-prefixed instruction.
func (r *reader) miscInstr() {
	sub := r.u32()
	switch {
	case sub <= 7: // saturating truncation
	case sub == 8, sub == 10, sub == 12, sub == 14: // memory.init, memory.copy, table.init, table.copy
		r.u32()
		r.u32()
	case sub == 9, sub == 11, sub == 13, sub == 15, sub == 16, sub == 17:
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
