package progen

import "github.com/wringcap/wring/spec"

// edge returns an Edges-mode program: a valid program with zero or more
// rule-breaking mutations, a length edge, or random instructions.
func (g *Generator) edge() spec.Program {
	r := g.r
	switch w := r.IntN(1000); {
	case w < 6 && !g.cfg.NoLong:
		return g.long()
	case w < 8:
		return nil
	case w < 150:
		return g.random(g.length())
	case w < 400:
		return g.valid(g.length())
	}
	p := g.valid(max(2, g.length()))
	for n := 1 + r.IntN(2); n > 0; n-- {
		p = g.mutate(p)
	}
	return p
}

// long returns a program of 4096 or 4097 instructions, valid or not.
func (g *Generator) long() spec.Program {
	n := spec.MaxInstructions + g.r.IntN(2)
	var p spec.Program
	if g.r.IntN(2) == 0 {
		p = g.valid(n)
	} else {
		// Loads and returns only, with a jump from the start to the last
		// instruction (or one past it).
		p = make(spec.Program, n)
		for i := range p {
			p[i] = spec.Stmt(ld|spec.SizeB|spec.ModeABS, uint32(i%64))
		}
		p[0] = spec.Stmt(jmp|spec.JumpJA, uint32(n-2+g.r.IntN(2)))
		p[n-1] = spec.Stmt(ret|spec.RetA, 0)
	}
	if g.r.IntN(4) == 0 {
		p = g.mutate(p)
	}
	return p
}

// random returns n instructions with opcodes mostly from the valid set and
// arbitrary operands, ending in a return most of the time.
func (g *Generator) random(n int) spec.Program {
	r := g.r
	p := make(spec.Program, n)
	for i := range p {
		op := pick(r, validOps...)
		if r.IntN(5) == 0 {
			op = uint16(r.Uint32())
		}
		p[i] = spec.Instruction{Op: op, Jt: uint8(r.IntN(1 + min(n-i, 255))), Jf: uint8(r.IntN(1 + min(n-i, 255))), K: g.anyK(n - i)}
	}
	if r.IntN(5) != 0 {
		p[n-1] = g.ret()
	}
	return p
}

// anyK picks a k that is often at a boundary of some rule.
func (g *Generator) anyK(rest int) uint32 {
	r := g.r
	switch r.IntN(8) {
	case 0:
		return r.Uint32()
	case 1:
		return pick[uint32](r, 0, 1, 15, 16, 31, 32, 33, 0xffffffff, 0x80000000, 0x7fffffff)
	case 2:
		return uint32(rest - 2 + r.IntN(3)) // jump to the last instruction, past it, or before
	case 3:
		return spec.AncillaryBase + uint32(r.IntN(spec.AncMax+8))
	case 4:
		return pick[uint32](r, spec.RecordBase, spec.LLOff, spec.NetOff) + uint32(r.IntN(128))
	}
	return uint32(r.IntN(64))
}

// mutate breaks (or just stresses) one rule at a random place of p.
func (g *Generator) mutate(p spec.Program) spec.Program {
	r := g.r
	n := len(p)
	if n == 0 {
		return p
	}
	pc := r.IntN(n)
	rest := n - pc // instructions from pc to the end
	switch r.IntN(12) {
	case 0: // ja to the last instruction, just past it, far past it, backward
		p[pc] = spec.Stmt(jmp|spec.JumpJA, pick(r, uint32(rest-2), uint32(rest-1), uint32(rest), uint32(0xffffffff), uint32(-pc-1), uint32(r.Uint32())))
	case 1: // conditional jump with an offset at the edge
		jt := uint8(min(255, max(0, rest-2+r.IntN(3))))
		jf := uint8(r.IntN(min(255, rest) + 1))
		if r.IntN(2) == 0 {
			jt, jf = jf, jt
		}
		p[pc] = spec.Jump(jmp|pick(r, condOps...)|pick[uint16](r, spec.SrcK, spec.SrcX), g.constant(), jt, jf)
	case 2: // a scratch slot written on one path only, read at the join
		p = g.uninitOnePath(p)
	case 3: // constant division or modulo by zero (or by one)
		p[pc] = spec.Stmt(alu|pick[uint16](r, spec.ALUDiv, spec.ALUMod)|spec.SrcK, pick[uint32](r, 0, 0, 1))
	case 4: // constant shift at the edge
		p[pc] = spec.Stmt(alu|pick[uint16](r, spec.ALULsh, spec.ALURsh)|spec.SrcK, pick[uint32](r, 31, 32, 33, 0xffffffff))
	case 5: // missing return
		last := p[n-1]
		if r.IntN(2) == 0 {
			p[n-1] = g.aluInsn()
		} else {
			p = append(p, spec.Stmt(ld|spec.ModeIMM, 1))
		}
		_ = last
	case 6: // unknown opcode, or a valid one with an unused bit set
		if r.IntN(2) == 0 {
			p[pc].Op = uint16(r.Uint32())
		} else {
			p[pc].Op = pick(r, validOps...) ^ (1 << r.IntN(16))
		}
	case 7: // scratch index at the edge
		p[pc] = spec.Stmt(pick(r, ld|spec.ModeMEM, ldx|spec.ModeMEM, spec.ClassST, spec.ClassSTX), pick[uint32](r, 15, 16, 17, 0xffffffff))
	case 8: // any ancillary offset, known or not, any size
		p[pc] = spec.Stmt(ld|pick(r, sizes...)|spec.ModeABS, spec.AncillaryBase+pick(r, uint32(r.IntN(spec.AncMax/4))*4, uint32(r.IntN(spec.AncMax+4)), uint32(0xfff), uint32(0xffc)))
	case 9: // record, link-layer and network-relative loads
		p[pc] = spec.Stmt(pick(r, ld|spec.SizeB|spec.ModeABS, ld|spec.SizeH|spec.ModeABS, ld|spec.SizeW|spec.ModeABS, ldx|spec.SizeB|spec.ModeMSH),
			pick[uint32](r, spec.RecordBase, spec.RecordEnd-4, spec.RecordEnd-1, spec.RecordEnd, spec.LLOff, spec.NetOff)+uint32(r.IntN(16)))
	case 10: // a read after a return (Linux keeps the mask), or after a ja
		if n >= 3 && pc+2 < n {
			p[pc] = pick(r, g.ret(), spec.Stmt(jmp|spec.JumpJA, 0))
			p[pc+1] = spec.Stmt(pick(r, ld|spec.ModeMEM, ldx|spec.ModeMEM), uint32(r.IntN(spec.MemWords)))
		}
	case 11: // returns with other sources or bits
		p[pc] = spec.Stmt(ret|pick[uint16](r, spec.RetK, spec.RetA, 0x08, 0x18, 0x20, 0x100), r.Uint32())
	}
	return p
}

// uninitOnePath inserts, before a random point, "jeq #c, skip; st M[s]" and
// then reads M[s], so that one path reaching the read has not written it
// (unless an earlier store covers both).
func (g *Generator) uninitOnePath(p spec.Program) spec.Program {
	r := g.r
	at := r.IntN(len(p)) // insert before p[at], keeping the final return last
	s := uint32(r.IntN(spec.MemWords))
	ins := []spec.Instruction{
		spec.Jump(jmp|spec.JumpJEQ|spec.SrcK, g.constant(), 0, 1),
		spec.Stmt(spec.ClassST, s),
		spec.Stmt(pick(r, ld|spec.ModeMEM, ldx|spec.ModeMEM), s),
	}
	if r.IntN(2) == 0 { // the store on the other path instead
		ins[0].Jt, ins[0].Jf = 1, 0
	}
	out := make(spec.Program, 0, len(p)+len(ins))
	out = append(out, p[:at]...)
	out = append(out, ins...)
	out = append(out, p[at:]...)
	// Jumps that crossed the insertion point now land 3 instructions early;
	// leave them: the program is meant to break rules anyway.
	return out
}

// validOps lists every opcode Linux's classic checker accepts.
var validOps = func() []uint16 {
	ops := []uint16{
		ld | spec.ModeIMM, ld | spec.ModeMEM, ld | spec.SizeW | spec.ModeLEN,
		ldx | spec.ModeIMM, ldx | spec.ModeMEM, ldx | spec.SizeW | spec.ModeLEN, ldx | spec.SizeB | spec.ModeMSH,
		spec.ClassST, spec.ClassSTX, misc | spec.MiscTAX, misc | spec.MiscTXA,
		ret | spec.RetK, ret | spec.RetA, alu | spec.ALUNeg, jmp | spec.JumpJA,
	}
	for _, s := range sizes {
		ops = append(ops, ld|s|spec.ModeABS, ld|s|spec.ModeIND)
	}
	for _, op := range aluOps {
		ops = append(ops, alu|op|spec.SrcK, alu|op|spec.SrcX)
	}
	for _, op := range condOps {
		ops = append(ops, jmp|op|spec.SrcK, jmp|op|spec.SrcX)
	}
	return ops
}()
