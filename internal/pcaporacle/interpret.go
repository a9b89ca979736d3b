package pcaporacle

import (
	"encoding/binary"

	"github.com/wringcap/wring/spec"
)

// Interpret runs prog on a packet the way libpcap 1.10's bpf_filter does:
// A, X and the scratch memory start at 0; a load that does not fit in the
// captured bytes, a division or modulo by a zero X, an unknown opcode or a
// jump out of the program returns 0; Linux ancillary offsets are ordinary
// (out-of-range) offsets; a shift by X uses the count modulo 32, as the C
// shift does on amd64.
func Interpret(prog spec.Program, pkt []byte, wirelen uint32) uint32 {
	var a, x uint32
	var mem [spec.MemWords]uint32
	buflen := uint32(len(pkt))
	fits := func(k, size uint32) bool { return k <= buflen && size <= buflen-k }
	for pc := 0; pc < len(prog); pc++ {
		ins := prog[pc]
		switch ins.Op {
		case spec.ClassRET | spec.RetK:
			return ins.K
		case spec.ClassRET | spec.RetA:
			return a
		case spec.ClassLD | spec.SizeW | spec.ModeABS:
			if !fits(ins.K, 4) {
				return 0
			}
			a = binary.BigEndian.Uint32(pkt[ins.K:])
		case spec.ClassLD | spec.SizeH | spec.ModeABS:
			if !fits(ins.K, 2) {
				return 0
			}
			a = uint32(binary.BigEndian.Uint16(pkt[ins.K:]))
		case spec.ClassLD | spec.SizeB | spec.ModeABS:
			if ins.K >= buflen {
				return 0
			}
			a = uint32(pkt[ins.K])
		case spec.ClassLD | spec.SizeW | spec.ModeLEN:
			a = wirelen
		case spec.ClassLDX | spec.SizeW | spec.ModeLEN:
			x = wirelen
		case spec.ClassLD | spec.SizeW | spec.ModeIND, spec.ClassLD | spec.SizeH | spec.ModeIND, spec.ClassLD | spec.SizeB | spec.ModeIND:
			size := map[uint16]uint32{spec.SizeW: 4, spec.SizeH: 2, spec.SizeB: 1}[ins.Size()]
			if ins.K > buflen || x > buflen-ins.K || size > buflen-ins.K-x {
				return 0
			}
			k := x + ins.K
			switch size {
			case 4:
				a = binary.BigEndian.Uint32(pkt[k:])
			case 2:
				a = uint32(binary.BigEndian.Uint16(pkt[k:]))
			default:
				a = uint32(pkt[k])
			}
		case spec.ClassLDX | spec.SizeB | spec.ModeMSH:
			if ins.K >= buflen {
				return 0
			}
			x = uint32(pkt[ins.K]&0xf) << 2
		case spec.ClassLD | spec.ModeIMM:
			a = ins.K
		case spec.ClassLDX | spec.ModeIMM:
			x = ins.K
		case spec.ClassLD | spec.ModeMEM:
			if ins.K >= spec.MemWords {
				return 0
			}
			a = mem[ins.K]
		case spec.ClassLDX | spec.ModeMEM:
			if ins.K >= spec.MemWords {
				return 0
			}
			x = mem[ins.K]
		case spec.ClassST:
			if ins.K >= spec.MemWords {
				return 0
			}
			mem[ins.K] = a
		case spec.ClassSTX:
			if ins.K >= spec.MemWords {
				return 0
			}
			mem[ins.K] = x
		case spec.ClassJMP | spec.JumpJA:
			pc += int(ins.K)
		case spec.ClassMISC | spec.MiscTAX:
			x = a
		case spec.ClassMISC | spec.MiscTXA:
			a = x
		case spec.ClassALU | spec.ALUNeg:
			a = -a
		default:
			switch ins.Class() {
			case spec.ClassJMP:
				b := ins.K
				if ins.Src() == spec.SrcX {
					b = x
				}
				var t bool
				switch ins.Operation() {
				case spec.JumpJEQ:
					t = a == b
				case spec.JumpJGT:
					t = a > b
				case spec.JumpJGE:
					t = a >= b
				case spec.JumpJSET:
					t = a&b != 0
				default:
					return 0
				}
				if t {
					pc += int(ins.Jt)
				} else {
					pc += int(ins.Jf)
				}
			case spec.ClassALU:
				b := ins.K
				if ins.Src() == spec.SrcX {
					b = x
				}
				switch ins.Operation() {
				case spec.ALUAdd:
					a += b
				case spec.ALUSub:
					a -= b
				case spec.ALUMul:
					a *= b
				case spec.ALUDiv:
					if b == 0 {
						return 0
					}
					a /= b
				case spec.ALUMod:
					if b == 0 {
						return 0
					}
					a %= b
				case spec.ALUAnd:
					a &= b
				case spec.ALUOr:
					a |= b
				case spec.ALUXor:
					a ^= b
				case spec.ALULsh:
					a <<= b & 31
				case spec.ALURsh:
					a >>= b & 31
				default:
					return 0
				}
			default:
				return 0
			}
		}
	}
	return 0
}
