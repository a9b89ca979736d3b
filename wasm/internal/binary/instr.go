package binary

import (
	"fmt"
	"math"
)

// Opcodes the readers of this package's callers branch on.
const (
	OpUnreachable = 0x00
	OpBlock       = 0x02
	OpLoop        = 0x03
	OpIf          = 0x04
	OpElse        = 0x05
	OpEnd         = 0x0b
	OpBrIf        = 0x0d
	OpBrTable     = 0x0e
	OpGlobalGet   = 0x23
	OpGlobalSet   = 0x24
	OpMemoryGrow  = 0x40
	OpI64Const    = 0x42
	OpMisc        = 0xfc // the prefix of memory.copy, table.grow, ...
	BlockEmpty    = 0x40 // the block type of a block without results
)

// AnyLabels is Instr's bound for a caller that does not limit br_table.
const AnyLabels = math.MaxUint64

// Instr decodes one instruction and skips its immediates. It returns the
// opcode (the prefix byte for prefixed opcodes) and, for br_table, its
// number of labels, the default included (0 for any other instruction).
// A br_table with more than maxLabels labels is returned with its labels
// unread, for the caller to report; an unsupported opcode is an error at
// its offset.
func (r *Reader) Instr(maxLabels uint64) (op byte, labels uint64) {
	start := r.Pos
	op = r.Byte()
	switch {
	case op == OpUnreachable, op == 0x01, op == OpElse, op == OpEnd, op == 0x0f,
		op == 0x1a, op == 0x1b, op == 0xd1:
	case op == OpBlock, op == OpLoop, op == OpIf:
		r.BlockType()
	case op == 0x0c, op == OpBrIf, op == 0x10, op == 0xd2:
		r.U32()
	case op == OpBrTable:
		labels = uint64(r.Vec(1)) + 1
		if r.Err != nil || labels > maxLabels {
			return op, labels
		}
		for i := uint64(0); i < labels && r.Err == nil; i++ {
			r.U32()
		}
	case op == 0x11: // call_indirect
		r.U32()
		r.U32()
	case op == 0x1c: // select with types
		r.Bytes(int(r.Vec(1)))
	case op >= 0x20 && op <= 0x26: // locals, globals, table.get/set
		r.U32()
	case op >= 0x28 && op <= 0x3e: // loads and stores
		r.Memarg()
	case op == 0x3f, op == OpMemoryGrow: // memory.size, memory.grow
		r.U32()
	case op == 0x41:
		r.SkipLEB(5)
	case op == OpI64Const:
		r.SkipLEB(10)
	case op == 0x43:
		r.Bytes(4)
	case op == 0x44:
		r.Bytes(8)
	case op >= 0x45 && op <= 0xc4: // numeric, sign extension
	case op == 0xd0: // ref.null
		r.Byte()
	case op == OpMisc:
		r.miscInstr()
	case op == 0xfd:
		r.simdInstr()
	case op == 0xfe:
		if sub := r.U32(); sub == 0x03 { // atomic.fence
			r.Byte()
		} else {
			r.Memarg()
		}
	default:
		if r.Err == nil {
			r.Pos = start
			r.Fail(fmt.Errorf("unsupported opcode 0x%02x", op))
		}
	}
	return op, labels
}

// BlockType skips a block type: the empty type, a value type, or a signed
// 33-bit type index.
func (r *Reader) BlockType() {
	if r.Err != nil {
		return
	}
	if r.Pos >= r.End {
		r.Fail(ErrShort)
		return
	}
	switch r.B[r.Pos] {
	case BlockEmpty, 0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f:
		r.Pos++
	default:
		r.SkipLEB(5)
	}
}

// Memarg skips a memory immediate: alignment (with the multi-memory bit, an
// index follows) and offset.
func (r *Reader) Memarg() {
	if align := r.U32(); align&0x40 != 0 {
		r.U32()
	}
	r.SkipLEB(10)
}

// miscInstr skips the immediates of a 0xfc-prefixed instruction.
func (r *Reader) miscInstr() {
	sub := r.U32()
	switch {
	case sub <= 7: // saturating truncation
	case sub == 8, sub == 10, sub == 12, sub == 14: // memory.init, memory.copy, table.init, table.copy
		r.U32()
		r.U32()
	case sub == 9, sub == 11, sub == 13, sub == 15, sub == 16, sub == 17:
		r.U32()
	default:
		r.Fail(fmt.Errorf("unsupported opcode 0xfc %d", sub))
	}
}

// simdInstr skips the immediates of a 0xfd-prefixed instruction.
func (r *Reader) simdInstr() {
	sub := r.U32()
	switch {
	case sub <= 11, sub == 92, sub == 93:
		r.Memarg()
	case sub == 12, sub == 13:
		r.Bytes(16)
	case sub >= 21 && sub <= 34:
		r.Byte()
	case sub >= 84 && sub <= 91:
		r.Memarg()
		r.Byte()
	case sub > 0xff:
		r.Fail(fmt.Errorf("unsupported opcode 0xfd %d", sub))
	}
}
