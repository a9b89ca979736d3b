package optimize

import (
	"math/rand/v2"

	"github.com/wringcap/wring/spec"
)

// Constants the random programs compare with and the random packets are
// made of, so that comparisons go both ways often.
var (
	randBytes  = []byte{0x00, 0x01, 0x02, 0x06, 0x08, 0x11, 0x45, 0x86, 0xdd, 0xff}
	randConsts = []uint32{0, 1, 2, 4, 6, 8, 0x11, 0x45, 0x800, 0x86dd, 0x0800, 0x1fff, 0xff, 0x45000000, 0xffffffff}
)

// randPacket returns a packet of random length made of randBytes.
func randPacket(r *rand.Rand) ([]byte, uint32) {
	n := r.IntN(48)
	p := make([]byte, n)
	for i := range p {
		p[i] = randBytes[r.IntN(len(randBytes))]
	}
	return p, uint32(n + r.IntN(3))
}

// randProgram returns a random program of n instructions that jumps only
// forward and ends with a return, shaped like compiled filters: loads of
// small offsets, comparisons with common constants, repeated tests.
func randProgram(r *rand.Rand, n int) spec.Program {
	p := make(spec.Program, n)
	sizes := []uint16{spec.SizeW, spec.SizeH, spec.SizeB}
	aluOps := []uint16{spec.ALUAdd, spec.ALUSub, spec.ALUMul, spec.ALUDiv, spec.ALUOr, spec.ALUAnd,
		spec.ALULsh, spec.ALURsh, spec.ALUMod, spec.ALUXor}
	jops := []uint16{spec.JumpJEQ, spec.JumpJEQ, spec.JumpJGT, spec.JumpJGE, spec.JumpJSET}
	k := func() uint32 { return randConsts[r.IntN(len(randConsts))] }
	off := func() uint32 { return uint32(r.IntN(40)) }
	for pc := 0; pc < n-1; pc++ {
		rest := n - 1 - pc // instructions after this one
		jmp := func() uint8 {
			m := min(rest-1, 255)
			if r.IntN(3) == 0 {
				return 0
			}
			return uint8(r.IntN(min(m, 12) + 1))
		}
		var ins spec.Instruction
		switch c := r.IntN(100); {
		case c < 22:
			ins = spec.Stmt(spec.ClassLD|sizes[r.IntN(3)]|spec.ModeABS, off())
		case c < 26:
			ins = spec.Stmt(spec.ClassLD|sizes[r.IntN(3)]|spec.ModeIND, uint32(r.IntN(24)))
		case c < 30:
			ins = spec.Stmt(spec.ClassLDX|spec.SizeB|spec.ModeMSH, off())
		case c < 34:
			ins = spec.Stmt(spec.ClassLD|spec.ModeIMM, k())
		case c < 36:
			ins = spec.Stmt(spec.ClassLDX|spec.ModeIMM, k())
		case c < 38:
			ins = spec.Stmt(spec.ClassLD|spec.ModeLEN, 0)
		case c < 42:
			ins = spec.Stmt(spec.ClassST, uint32(r.IntN(4)))
		case c < 44:
			ins = spec.Stmt(spec.ClassSTX, uint32(r.IntN(4)))
		case c < 48:
			ins = spec.Stmt(spec.ClassLD|spec.ModeMEM, uint32(r.IntN(4)))
		case c < 50:
			ins = spec.Stmt(spec.ClassLDX|spec.ModeMEM, uint32(r.IntN(4)))
		case c < 56:
			op := aluOps[r.IntN(len(aluOps))]
			kk := k()
			switch op {
			case spec.ALUDiv, spec.ALUMod:
				if kk == 0 {
					kk = 3
				}
			case spec.ALULsh, spec.ALURsh:
				kk %= 32
			}
			ins = spec.Stmt(spec.ClassALU|op|spec.SrcK, kk)
		case c < 59:
			ins = spec.Stmt(spec.ClassALU|aluOps[r.IntN(len(aluOps))]|spec.SrcX, 0)
		case c < 60:
			ins = spec.Stmt(spec.ClassALU|spec.ALUNeg, 0)
		case c < 62:
			ins = spec.Stmt(spec.ClassMISC|spec.MiscTAX, 0)
		case c < 64:
			ins = spec.Stmt(spec.ClassMISC|spec.MiscTXA, 0)
		case c < 88:
			if rest < 2 {
				ins = spec.Stmt(spec.ClassRET|spec.RetK, 0)
				break
			}
			src := uint16(spec.SrcK)
			if r.IntN(8) == 0 {
				src = spec.SrcX
			}
			ins = spec.Jump(spec.ClassJMP|jops[r.IntN(len(jops))]|src, k(), jmp(), jmp())
		case c < 90:
			if rest < 2 {
				ins = spec.Stmt(spec.ClassRET|spec.RetA, 0)
				break
			}
			ins = spec.Stmt(spec.ClassJMP|spec.JumpJA, uint32(jmp()))
		case c < 96:
			ins = spec.Stmt(spec.ClassRET|spec.RetK, []uint32{0, 0, 65535, 1}[r.IntN(4)])
		default:
			ins = spec.Stmt(spec.ClassRET|spec.RetA, 0)
		}
		p[pc] = ins
	}
	p[n-1] = spec.Stmt(spec.ClassRET|spec.RetK, []uint32{0, 65535}[r.IntN(2)])
	return p
}
