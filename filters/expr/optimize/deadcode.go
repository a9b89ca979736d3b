package optimize

import "github.com/wringcap/wring/spec"

// deadcode removes statements whose results are never read and that cannot
// end the run, and every statement of a block that returns 0 (ending the
// run early there returns 0 too).
func deadcode(g *graph) bool {
	fl := analyze(g)
	lv := computeLiveness(g)
	changed := false
	for _, b := range g.order {
		if b.kind == termRet && b.term.Op == spec.ClassRET|spec.RetK && b.term.K == 0 {
			if len(b.stmts) > 0 {
				b.stmts = nil
				changed = true
			}
			continue
		}
		in := fl.entry(b)
		if in == nil || len(b.stmts) == 0 {
			continue
		}
		st := *in
		fails := make([]effect, len(b.stmts))
		for i, ins := range b.stmts {
			_, v, fail, _ := fl.value(&st, ins)
			if fail == maybe && fl.held(&st, v) {
				fail = never
			}
			fails[i] = fail
			fl.exec(&st, ins)
		}
		live := lv.out(b)
		keep := make([]bool, len(b.stmts))
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
