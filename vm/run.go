package vm

import (
	"encoding/binary"

	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
)

// Opcode parts, for the ALU and jump cases (spec names the full opcodes).
const (
	alu  = spec.ClassALU
	jmp  = spec.ClassJMP
	srcK = spec.SrcK
	srcX = spec.SrcX
)

// Run executes p on one packet and returns the filter's result: the number
// of bytes to keep, 0 to reject. pkt holds the captured bytes, wirelen the
// packet's length on the wire (what len and ld #pktlen read; callers pass
// at least len(pkt)). meta may be nil.
func Run(p *verifier.Program, pkt []byte, wirelen uint32, meta *Meta) uint32 {
	return run(p, 0, pkt, wirelen, meta, 0, 0)
}

// run executes p from pc with registers a and x and an empty scratch
// memory, one dispatch per instruction.
func run(p *verifier.Program, pc int, pkt []byte, wirelen uint32, meta *Meta, a, x uint32) uint32 {
	if meta == nil {
		meta = &zeroMeta
	}
	var mem [spec.MemWords]uint32
	n := uint64(len(pkt))
	for ; pc < p.Len(); pc++ {
		ins := p.At(pc)
		switch ins.Op {
		case spec.OpRetK:
			return ins.K
		case spec.OpRetA:
			return a

		case spec.OpLdAbsW:
			if ins.K < spec.RecordBase {
				if uint64(ins.K)+4 > n {
					return 0
				}
				a = binary.BigEndian.Uint32(pkt[ins.K:])
				continue
			}
			v, ok := meta.Load(ins.K, 4, a, x, pkt)
			if !ok {
				return 0
			}
			a = v
		case spec.OpLdAbsH:
			if ins.K < spec.RecordBase {
				if uint64(ins.K)+2 > n {
					return 0
				}
				a = uint32(binary.BigEndian.Uint16(pkt[ins.K:]))
				continue
			}
			v, ok := meta.Load(ins.K, 2, a, x, pkt)
			if !ok {
				return 0
			}
			a = v
		case spec.OpLdAbsB:
			if ins.K < spec.RecordBase {
				if uint64(ins.K) >= n {
					return 0
				}
				a = uint32(pkt[ins.K])
				continue
			}
			v, ok := meta.Load(ins.K, 1, a, x, pkt)
			if !ok {
				return 0
			}
			a = v
		case spec.OpLdIndW:
			off := uint64(x) + uint64(ins.K)
			if off+4 > n {
				return 0
			}
			a = binary.BigEndian.Uint32(pkt[off:])
		case spec.OpLdIndH:
			off := uint64(x) + uint64(ins.K)
			if off+2 > n {
				return 0
			}
			a = uint32(binary.BigEndian.Uint16(pkt[off:]))
		case spec.OpLdIndB:
			off := uint64(x) + uint64(ins.K)
			if off >= n {
				return 0
			}
			a = uint32(pkt[off])
		case spec.OpLdxMsh:
			off := uint64(ins.K)
			if ins.K >= spec.RecordBase {
				o, ok := meta.HeaderOffset(ins.K)
				if !ok {
					return 0
				}
				off = o
			}
			if off >= n {
				return 0
			}
			x = uint32(pkt[off]&0xf) << 2
		case spec.OpLdImm:
			a = ins.K
		case spec.OpLdxImm:
			x = ins.K
		case spec.OpLdLen:
			a = wirelen
		case spec.OpLdxLen:
			x = wirelen
		case spec.OpLdMem:
			a = mem[ins.K&(spec.MemWords-1)]
		case spec.OpLdxMem:
			x = mem[ins.K&(spec.MemWords-1)]
		case spec.OpSt:
			mem[ins.K&(spec.MemWords-1)] = a
		case spec.OpStx:
			mem[ins.K&(spec.MemWords-1)] = x
		case spec.OpTax:
			x = a
		case spec.OpTxa:
			a = x

		case alu | spec.ALUAdd | srcK:
			a += ins.K
		case alu | spec.ALUAdd | srcX:
			a += x
		case alu | spec.ALUSub | srcK:
			a -= ins.K
		case alu | spec.ALUSub | srcX:
			a -= x
		case alu | spec.ALUMul | srcK:
			a *= ins.K
		case alu | spec.ALUMul | srcX:
			a *= x
		case alu | spec.ALUDiv | srcK:
			a /= ins.K // the verifier rejects div #0
		case alu | spec.ALUDiv | srcX:
			if x == 0 {
				return 0
			}
			a /= x
		case alu | spec.ALUMod | srcK:
			a %= ins.K // the verifier rejects mod #0
		case alu | spec.ALUMod | srcX:
			if x == 0 {
				return 0
			}
			a %= x
		case alu | spec.ALUAnd | srcK:
			a &= ins.K
		case alu | spec.ALUAnd | srcX:
			a &= x
		case alu | spec.ALUOr | srcK:
			a |= ins.K
		case alu | spec.ALUOr | srcX:
			a |= x
		case alu | spec.ALUXor | srcK:
			a ^= ins.K
		case alu | spec.ALUXor | srcX:
			a ^= x
		case alu | spec.ALULsh | srcK:
			a <<= ins.K // k < 32 (verified)
		case alu | spec.ALULsh | srcX:
			a <<= x // Go gives 0 for x >= 32, as the ISA says
		case alu | spec.ALURsh | srcK:
			a >>= ins.K
		case alu | spec.ALURsh | srcX:
			a >>= x
		case spec.OpNeg:
			a = -a

		case spec.OpJa:
			pc += int(ins.K)
		case jmp | spec.JumpJEQ | srcK:
			pc += cond(a == ins.K, ins)
		case jmp | spec.JumpJEQ | srcX:
			pc += cond(a == x, ins)
		case jmp | spec.JumpJGT | srcK:
			pc += cond(a > ins.K, ins)
		case jmp | spec.JumpJGT | srcX:
			pc += cond(a > x, ins)
		case jmp | spec.JumpJGE | srcK:
			pc += cond(a >= ins.K, ins)
		case jmp | spec.JumpJGE | srcX:
			pc += cond(a >= x, ins)
		case jmp | spec.JumpJSET | srcK:
			pc += cond(a&ins.K != 0, ins)
		case jmp | spec.JumpJSET | srcX:
			pc += cond(a&x != 0, ins)
		}
	}
	return 0 // not reached: the verifier proved the last instruction returns
}

func cond(c bool, ins spec.Instruction) int {
	if c {
		return int(ins.Jt)
	}
	return int(ins.Jf)
}
