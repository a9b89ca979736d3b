package optimize

import "github.com/wringcap/wring/spec"

// deadcode removes statements whose results are never read and that cannot
// end the run, and turns every block from which all runs return 0 into a
// bare `ret #0` (a statement there that ends the run early returns 0 too).
func deadcode(g *graph) bool {
	if returnsZero(g) {
		return true
	}
	fl := analyze(g)
	lv := computeLiveness(g)
	changed := false
	for _, b := range g.order {
		in := fl.entry(b)
		if in == nil || len(b.stmts) == 0 {
			continue
		}
		st := *in
		fails := grow(g.s.effs, len(b.stmts))
		g.s.effs = fails
		for i, ins := range b.stmts {
			_, v, fail, _ := fl.value(&st, ins)
			if fail == maybe && fl.held(&st, v) {
				fail = never
			}
			fails[i] = fail
			fl.exec(&st, ins)
		}
		live := lv.out(b)
		keep := grow(g.s.keep, len(b.stmts))
		g.s.keep = keep
		clear(keep)
		n := 0
		for i := len(b.stmts) - 1; i >= 0; i-- {
			use, def := useDef(b.stmts[i])
			if def&live == 0 && fails[i] == never {
				continue
			}
			keep[i] = true
			n++
			live = live&^def | use
		}
		if n == len(b.stmts) {
			continue
		}
		out := b.stmts[:0]
		for i, ins := range b.stmts {
			if keep[i] {
				out = append(out, ins)
			}
		}
		b.stmts = out
		changed = true
	}
	return changed
}

// returnsZero replaces each block from which every run returns 0 (it
// returns 0, or all its successors are such blocks) by a bare `ret #0`,
// and reports whether it changed one.
func returnsZero(g *graph) bool {
	zero := grow(g.s.zero, len(g.order))
	g.s.zero = zero
	changed := false
	for i := len(g.order) - 1; i >= 0; i-- {
		b := g.order[i]
		switch b.kind {
		case termRet:
			zero[i] = b.term.Op == spec.ClassRET|spec.RetK && b.term.K == 0
		case termGoto:
			zero[i] = zero[b.succ[0].pos]
		case termCond:
			zero[i] = zero[b.succ[0].pos] && zero[b.succ[1].pos]
		}
		if zero[i] && (b.kind != termRet || len(b.stmts) > 0) {
			b.stmts = nil
			b.kind, b.term, b.succ = termRet, spec.Stmt(spec.ClassRET|spec.RetK, 0), [2]*block{}
			changed = true
		}
	}
	return changed
}
