package optimize

import "github.com/wringcap/wring/spec"

// peephole folds the last ALU operation of a block into its conditional
// jump when A is not read afterwards: `add|sub|xor #c; jeq #k` compares
// with an adjusted constant, `sub|xor x; jeq #0` becomes `jeq x`,
// `and #m; jeq #0` and `and #m; jgt #0` become `jset #m`, and `and #m;
// jset #t` becomes `jset #(m&t)`.
func peephole(g *graph) bool {
	lv := computeLiveness(g)
	changed := false
	for _, b := range g.order {
		if b.kind != termCond {
			continue
		}
		if (lv[b.succ[0].pos]|lv[b.succ[1].pos])&(1<<slotA) != 0 {
			continue
		}
		for len(b.stmts) > 0 && b.kind == termCond {
			s := b.stmts[len(b.stmts)-1]
			j, ok := fuseJump(s, b.term)
			if !ok {
				break
			}
			b.stmts = b.stmts[:len(b.stmts)-1]
			if j.swap {
				b.succ[0], b.succ[1] = b.succ[1], b.succ[0]
			}
			b.term = j.ins
			if j.never {
				b.kind, b.succ = termGoto, [2]*block{b.succ[1]}
			}
			changed = true
		}
	}
	return changed
}

// fused is the jump that replaces an ALU operation and a jump.
type fused struct {
	ins   spec.Instruction
	swap  bool // the targets trade places
	never bool // the jump is never taken
}

// fuseJump returns the single jump equivalent to ALU statement s followed
// by jump j, when there is one.
func fuseJump(s, j spec.Instruction) (fused, bool) {
	if s.Class() != spec.ClassALU || j.Src() != spec.SrcK {
		return fused{}, false
	}
	op, k := j.Operation(), j.K
	jmp := func(op uint16, src uint16, k uint32) spec.Instruction {
		return spec.Jump(spec.ClassJMP|op|src, k, 0, 0)
	}
	if s.Src() == spec.SrcX {
		if op == spec.JumpJEQ && k == 0 && (s.Operation() == spec.ALUSub || s.Operation() == spec.ALUXor) {
			return fused{ins: jmp(spec.JumpJEQ, spec.SrcX, 0)}, true
		}
		return fused{}, false
	}
	c := s.K
	switch s.Operation() {
	case spec.ALUAdd:
		if op == spec.JumpJEQ {
			return fused{ins: jmp(op, spec.SrcK, k-c)}, true
		}
	case spec.ALUSub:
		if op == spec.JumpJEQ {
			return fused{ins: jmp(op, spec.SrcK, k+c)}, true
		}
	case spec.ALUXor:
		if op == spec.JumpJEQ {
			return fused{ins: jmp(op, spec.SrcK, k^c)}, true
		}
	case spec.ALUAnd:
		switch {
		case op == spec.JumpJEQ && k == 0:
			if c == 0 {
				return fused{}, false // always true; fold decides it
			}
			return fused{ins: jmp(spec.JumpJSET, spec.SrcK, c), swap: true}, true
		case op == spec.JumpJGT && k == 0, op == spec.JumpJSET && k == 0xffffffff:
			if c == 0 {
				return fused{ins: jmp(spec.JumpJSET, spec.SrcK, 0), never: true}, true
			}
			return fused{ins: jmp(spec.JumpJSET, spec.SrcK, c)}, true
		case op == spec.JumpJSET:
			if c&k == 0 {
				return fused{ins: jmp(spec.JumpJSET, spec.SrcK, 0), never: true}, true
			}
			return fused{ins: jmp(spec.JumpJSET, spec.SrcK, c&k)}, true
		case op == spec.JumpJEQ && k&^c != 0:
			return fused{ins: jmp(spec.JumpJSET, spec.SrcK, 0), never: true}, true
		}
	}
	return fused{}, false
}

// offsets folds a constant added to X into the offsets of the indirect
// loads that use it: `ld #c; add x; tax; ld [x+k]` becomes `ld [x+k+c]`
// (the `ld #c` may be earlier)
// (libpcap emits the former for headers at a variable offset). It applies
// when X before the addition is small (4*(P[k]&0xf) or a small constant) so
// that the sum cannot wrap, every use of the new X is such a load, and the
// sum left in A is never read.
func offsets(g *graph) bool {
	found := false
	for _, b := range g.order {
		for i := 0; i+1 < len(b.stmts) && !found; i++ {
			found = b.stmts[i].Op == spec.ClassALU|spec.ALUAdd|spec.SrcX && b.stmts[i+1].Op == spec.ClassMISC|spec.MiscTAX
		}
	}
	if !found {
		return false
	}
	fl := analyze(g)
	lv := computeLiveness(g)
	changed := false
	for _, b := range g.order {
		in := fl.entry(b)
		if in == nil {
			continue
		}
		st := *in
		for i := 0; i+1 < len(b.stmts); i++ {
			if fl.foldOffset(b, i, &st, lv) {
				changed = true
			}
			fl.exec(&st, b.stmts[i])
		}
	}
	return changed
}

// foldOffset tries the rewrite at b.stmts[i] (an `add x` followed by
// `tax`, with A a known constant c), with st the state before it. The
// `ld #c` becomes dead and goes with the dead-code pass.
func (fl *flow) foldOffset(b *block, i int, st *state, lv liveness) bool {
	s := b.stmts
	if s[i].Op != spec.ClassALU|spec.ALUAdd|spec.SrcX || s[i+1].Op != spec.ClassMISC|spec.MiscTAX {
		return false
	}
	c, ok := fl.n.constOf(st.reg[slotA])
	if !ok {
		return false
	}
	x := st.reg[slotX]
	switch k, ok := fl.n.constOf(x); {
	case ok && k < 1<<16:
	case fl.n.kind(x) == vMsh:
	default:
		return false
	}
	if c >= 1<<16 {
		return false
	}
	// Every later use of X until it is written again must be an indirect
	// load, and A must be written before it is read.
	aDone, xDone := false, false
	var loads []int
	for j := i + 2; j < len(s) && !(aDone && xDone); j++ {
		use, def := useDef(s[j])
		if !xDone && use&(1<<slotX) != 0 {
			if s[j].Class() != spec.ClassLD || s[j].Mode() != spec.ModeIND || uint64(s[j].K)+uint64(c) >= 1<<31 {
				return false
			}
			loads = append(loads, j)
		}
		if !aDone && use&(1<<slotA) != 0 {
			return false
		}
		if def&(1<<slotA) != 0 {
			aDone = true
		}
		if def&(1<<slotX) != 0 {
			xDone = true
		}
	}
	live := lv.out(b)
	if (!aDone && live&(1<<slotA) != 0) || (!xDone && live&(1<<slotX) != 0) {
		return false
	}
	for _, j := range loads {
		s[j].K += c
	}
	b.stmts = append(s[:i:i], s[i+2:]...)
	return true
}
