package vm

import (
	"encoding/binary"

	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
)

// Opcodes, spelled as in Linux's chk_code_allowed table.
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
	opSt     = spec.ClassST
	opStx    = spec.ClassSTX
	opTax    = spec.ClassMISC | spec.MiscTAX
	opTxa    = spec.ClassMISC | spec.MiscTXA
	opRetK   = spec.ClassRET | spec.RetK
	opRetA   = spec.ClassRET | spec.RetA
	opJa     = spec.ClassJMP | spec.JumpJA
	opNeg    = spec.ClassALU | spec.ALUNeg
	opJeqK   = spec.ClassJMP | spec.JumpJEQ | spec.SrcK
	opJgtK   = spec.ClassJMP | spec.JumpJGT | spec.SrcK
	opJgeK   = spec.ClassJMP | spec.JumpJGE | spec.SrcK
	opJsetK  = spec.ClassJMP | spec.JumpJSET | spec.SrcK

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
		case opRetK:
			return ins.K
		case opRetA:
			return a

		case opLdAbsW:
			if ins.K < spec.RecordBase {
				if uint64(ins.K)+4 > n {
					return 0
				}
				a = binary.BigEndian.Uint32(pkt[ins.K:])
				continue
			}
			v, ok := special(ins.K, 4, a, x, pkt, meta)
			if !ok {
				return 0
			}
			a = v
		case opLdAbsH:
			if ins.K < spec.RecordBase {
				if uint64(ins.K)+2 > n {
					return 0
				}
				a = uint32(binary.BigEndian.Uint16(pkt[ins.K:]))
				continue
			}
			v, ok := special(ins.K, 2, a, x, pkt, meta)
			if !ok {
				return 0
			}
			a = v
		case opLdAbsB:
			if ins.K < spec.RecordBase {
				if uint64(ins.K) >= n {
					return 0
				}
				a = uint32(pkt[ins.K])
				continue
			}
			v, ok := special(ins.K, 1, a, x, pkt, meta)
			if !ok {
				return 0
			}
			a = v
		case opLdIndW:
			off := uint64(x) + uint64(ins.K)
			if off+4 > n {
				return 0
			}
			a = binary.BigEndian.Uint32(pkt[off:])
		case opLdIndH:
			off := uint64(x) + uint64(ins.K)
			if off+2 > n {
				return 0
			}
			a = uint32(binary.BigEndian.Uint16(pkt[off:]))
		case opLdIndB:
			off := uint64(x) + uint64(ins.K)
			if off >= n {
				return 0
			}
			a = uint32(pkt[off])
		case opLdxMsh:
			off := uint64(ins.K)
			if ins.K >= spec.RecordBase {
				o, ok := headerRelative(ins.K, meta)
				if !ok {
					return 0
				}
				off = o
			}
			if off >= n {
				return 0
			}
			x = uint32(pkt[off]&0xf) << 2
		case opLdImm:
			a = ins.K
		case opLdxImm:
			x = ins.K
		case opLdLen:
			a = wirelen
		case opLdxLen:
			x = wirelen
		case opLdMem:
			a = mem[ins.K&(spec.MemWords-1)]
		case opLdxMem:
			x = mem[ins.K&(spec.MemWords-1)]
		case opSt:
			mem[ins.K&(spec.MemWords-1)] = a
		case opStx:
			mem[ins.K&(spec.MemWords-1)] = x
		case opTax:
			x = a
		case opTxa:
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
		case opNeg:
			a = -a

		case opJa:
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
