package progen

import (
	"math/bits"

	"github.com/wringcap/wring/spec"
)

const (
	ld   uint16 = spec.ClassLD
	ldx  uint16 = spec.ClassLDX
	alu  uint16 = spec.ClassALU
	jmp  uint16 = spec.ClassJMP
	ret  uint16 = spec.ClassRET
	misc uint16 = spec.ClassMISC
)

var (
	aluOps  = []uint16{spec.ALUAdd, spec.ALUSub, spec.ALUMul, spec.ALUDiv, spec.ALUMod, spec.ALUAnd, spec.ALUOr, spec.ALUXor, spec.ALULsh, spec.ALURsh}
	condOps = []uint16{spec.JumpJEQ, spec.JumpJGT, spec.JumpJGE, spec.JumpJSET}
	sizes   = []uint16{spec.SizeW, spec.SizeH, spec.SizeB}
)

// builder tracks Linux's scratch-initialisation state while a program is
// generated front to back, so reads are placed only where every path has
// written the slot.
type builder struct {
	g     *Generator
	prog  spec.Program
	masks []uint16
	valid uint16
}

// valid returns a program of n instructions that verifies with the
// Generator's options.
func (g *Generator) valid(n int) spec.Program {
	b := &builder{g: g, prog: make(spec.Program, 0, n), masks: make([]uint16, n)}
	for i := range b.masks {
		b.masks[i] = 0xffff
	}
	for pc := 0; pc < n-1; pc++ {
		b.valid &= b.masks[pc]
		b.emit(pc, n)
	}
	b.prog = append(b.prog, g.ret())
	return b.prog
}

func (b *builder) emit(pc, n int) {
	g, r := b.g, b.g.r
	room := n - 2 - pc // largest jump offset that stays inside
	var ins spec.Instruction
	switch w := r.IntN(100); {
	case w < 22:
		ins = spec.Stmt(ld|pick(r, sizes...)|spec.ModeABS, g.absOffset())
	case w < 27:
		ins = spec.Stmt(ld|pick(r, sizes...)|spec.ModeIND, uint32(r.IntN(g.cfg.PacketLen)))
	case w < 31:
		ins = spec.Stmt(ldx|spec.SizeB|spec.ModeMSH, uint32(r.IntN(g.cfg.PacketLen)))
	case w < 36:
		ins = spec.Stmt(pick(r, ld, ldx)|spec.ModeIMM, g.constant())
	case w < 38:
		ins = spec.Stmt(pick(r, ld, ldx)|spec.SizeW|spec.ModeLEN, 0)
	case w < 44:
		if b.valid == 0 {
			ins = spec.Stmt(pick[uint16](r, spec.ClassST, spec.ClassSTX), uint32(r.IntN(spec.MemWords)))
			break
		}
		ins = spec.Stmt(pick(r, ld, ldx)|spec.ModeMEM, uint32(b.pickSet(b.valid)))
	case w < 50:
		ins = spec.Stmt(pick[uint16](r, spec.ClassST, spec.ClassSTX), uint32(r.IntN(spec.MemWords)))
	case w < 62:
		ins = g.aluInsn()
	case w < 66:
		ins = spec.Stmt(misc|pick[uint16](r, spec.MiscTAX, spec.MiscTXA), 0)
	case w < 67:
		ins = spec.Stmt(alu|spec.ALUNeg, 0)
	case w < 88 && room > 0:
		jt, jf := g.offset(room), g.offset(room)
		ins = spec.Jump(jmp|pick(r, condOps...)|pick[uint16](r, spec.SrcK, spec.SrcX), g.constant(), uint8(jt), uint8(jf))
	case w < 91 && room > 0:
		ins = spec.Stmt(jmp|spec.JumpJA, uint32(g.offset(min(room, 1<<20))))
	case w < 95:
		ins = g.ret()
	default:
		ins = spec.Stmt(alu|pick[uint16](r, spec.ALUAdd, spec.ALUAnd, spec.ALUOr)|spec.SrcK, g.constant())
	}
	b.add(pc, ins)
}

// add appends ins at pc and updates the scratch state as Linux's
// check_load_and_stores does.
func (b *builder) add(pc int, ins spec.Instruction) {
	b.prog = append(b.prog, ins)
	switch {
	case ins.Op == spec.ClassST || ins.Op == spec.ClassSTX:
		b.valid |= 1 << ins.K
	case ins.Op == jmp|spec.JumpJA:
		b.masks[pc+1+int(ins.K)] &= b.valid
		b.valid = 0xffff
	case ins.Op&0x07 == jmp:
		b.masks[pc+1+int(ins.Jt)] &= b.valid
		b.masks[pc+1+int(ins.Jf)] &= b.valid
		b.valid = 0xffff
	}
}

// pickSet returns the index of a random set bit of m (m != 0).
func (b *builder) pickSet(m uint16) int {
	k := b.g.r.IntN(bits.OnesCount16(m))
	for i := 0; ; i++ {
		if m&(1<<i) != 0 {
			if k == 0 {
				return i
			}
			k--
		}
	}
}

// offset picks a forward jump offset in [0, room], mostly short.
func (g *Generator) offset(room int) int {
	if room <= 0 {
		return 0
	}
	if g.r.IntN(4) == 0 {
		return g.r.IntN(min(room, 255) + 1)
	}
	return g.r.IntN(min(room, 4) + 1)
}

// absOffset picks the k of an absolute load that verifies.
func (g *Generator) absOffset() uint32 {
	r := g.r
	switch w := r.IntN(100); {
	case w < 6 && !g.cfg.NoAncillary:
		return spec.AncillaryBase + uint32(r.IntN(spec.AncMax/4))*4
	case w < 9 && g.cfg.Record:
		return spec.RecordBase + uint32(r.IntN(spec.RecordSize-4))
	case w < 11 && g.cfg.HeaderRelative:
		return pick[uint32](r, spec.LLOff, spec.NetOff) + uint32(r.IntN(g.cfg.PacketLen))
	case w < 14:
		return uint32(r.IntN(4 * g.cfg.PacketLen))
	}
	return uint32(r.IntN(g.cfg.PacketLen))
}

// constant picks an immediate: small numbers, header-like values, or any.
func (g *Generator) constant() uint32 {
	r := g.r
	switch r.IntN(6) {
	case 0:
		return r.Uint32()
	case 1:
		return pick[uint32](r, 0x800, 0x86dd, 0x806, 0x8100, 6, 17, 1, 58, 80, 443, 53, 0x1fff, 0xffffffff, 0x80000000)
	case 2:
		return uint32(r.IntN(256))
	}
	return uint32(r.IntN(16))
}

// aluInsn returns an ALU instruction that verifies.
func (g *Generator) aluInsn() spec.Instruction {
	r := g.r
	op := pick(r, aluOps...)
	if r.IntN(3) == 0 {
		return spec.Stmt(alu|op|spec.SrcX, 0)
	}
	k := g.constant()
	switch op {
	case spec.ALUDiv, spec.ALUMod:
		if k == 0 {
			k = 1 + uint32(r.IntN(255))
		}
	case spec.ALULsh, spec.ALURsh:
		k %= 32
	}
	return spec.Stmt(alu|op|spec.SrcK, k)
}

// ret returns a return instruction: ret #0, a snaplen, a small value or A.
func (g *Generator) ret() spec.Instruction {
	switch g.r.IntN(4) {
	case 0:
		return spec.Stmt(ret|spec.RetK, 0)
	case 1:
		return spec.Stmt(ret|spec.RetA, 0)
	case 2:
		return spec.Stmt(ret|spec.RetK, pick[uint32](g.r, 65535, 262144, 96, 1, 0xffffffff))
	}
	return spec.Stmt(ret|spec.RetK, uint32(g.r.IntN(2000)))
}
