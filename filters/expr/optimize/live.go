package optimize

import "github.com/wringcap/wring/spec"

// slots is a set of register slots, bit i for slot i.
type slots uint32

// useDef returns the slots a statement reads and the one it writes.
func useDef(ins spec.Instruction) (use, def slots) {
	const a, x = 1 << slotA, 1 << slotX
	switch ins.Class() {
	case spec.ClassLD, spec.ClassLDX:
		def = a
		if ins.Class() == spec.ClassLDX {
			def = x
		}
		switch ins.Mode() {
		case spec.ModeABS:
			if opaqueLoad(ins) {
				use = a | x
			}
		case spec.ModeIND:
			use = x
		case spec.ModeMEM:
			use = 1 << (slotM + ins.K)
		}
	case spec.ClassST:
		use, def = a, 1<<(slotM+ins.K)
	case spec.ClassSTX:
		use, def = x, 1<<(slotM+ins.K)
	case spec.ClassALU:
		use, def = a, a
		if ins.Operation() != spec.ALUNeg && ins.Src() == spec.SrcX {
			use |= x
		}
	case spec.ClassMISC:
		if ins.Op&0xf8 == spec.MiscTAX {
			use, def = a, x
		} else {
			use, def = x, a
		}
	}
	return use, def
}

// termUses returns the slots a block's terminator reads.
func termUses(b *block) slots {
	switch b.kind {
	case termRet:
		if b.term.Op == spec.ClassRET|spec.RetA {
			return 1 << slotA
		}
	case termCond:
		if b.term.Src() == spec.SrcX {
			return 1<<slotA | 1<<slotX
		}
		return 1 << slotA
	}
	return 0
}

// liveness returns, by block position, the slots read before being
// written on some path from the block's entry.
type liveness []slots

// computeLiveness computes the liveness of g in memory the graph keeps for
// it: the result of an earlier call is overwritten.
func computeLiveness(g *graph) liveness {
	lv := liveness(grow(g.s.live, len(g.order)))
	g.s.live = lv
	lv.update(g, len(g.order)-1)
	return lv
}

// update recomputes the liveness of the blocks at positions last and
// before, after a change to the successors of the block at last (blocks
// after it are not affected).
func (lv liveness) update(g *graph, last int) {
	for i := last; i >= 0; i-- {
		b := g.order[i]
		live := lv.out(b)
		for j := len(b.stmts) - 1; j >= 0; j-- {
			use, def := useDef(b.stmts[j])
			live = live&^def | use
		}
		lv[i] = live
	}
}

// out returns the slots live at the end of b, before its terminator.
func (lv liveness) out(b *block) slots {
	live := termUses(b)
	for i := 0; i < b.nsucc(); i++ {
		live |= lv[b.succ[i].pos]
	}
	return live
}
