package optimize

import "github.com/wringcap/wring/spec"

// hoist removes blocks that only set X to a constant and jump on
// (`ldx #c; ja L`), by setting X earlier, in the block that dominates
// them, where X is dead: the jumps into such a block then go straight to
// L. The IPv6 branch of `tcp dst port 25` thus becomes `ldx #40` before
// its protocol test, whose true edge joins the IPv4 port test directly.
// A change is kept only when the program gets shorter.
func hoist(g *graph) bool {
	if len(g.order) < 4 {
		return false
	}
	for _, b := range g.order {
		if !isConstX(b) {
			continue
		}
		before := g.size()
		var undo undoLog
		if !g.hoistConstX(b, &undo) {
			continue
		}
		if g.size() < before {
			return true
		}
		undo.restore()
		g.refresh()
	}
	return false
}

// isConstX reports whether b is `ldx #c` and an unconditional jump.
func isConstX(b *block) bool {
	return b.kind == termGoto && len(b.stmts) == 1 && b.stmts[0].Op == spec.ClassLDX|spec.SizeW|spec.ModeIMM
}

// undoLog keeps the blocks a tentative change modified, to restore them.
type undoLog []savedBlock

type savedBlock struct {
	b   *block
	val block
}

// save records b as it is now (before the first change to it).
func (u *undoLog) save(b *block) {
	for _, s := range *u {
		if s.b == b {
			return
		}
	}
	*u = append(*u, savedBlock{b, *b})
}

// restore puts the saved blocks back as they were, most recent first.
// The caller refreshes the graph.
func (u undoLog) restore() {
	for i := len(u) - 1; i >= 0; i-- {
		*u[i].b = u[i].val
	}
}

// hoistConstX moves the `ldx #c` of b (see isConstX) to the end of b's
// immediate dominator d and sends b's predecessors to b's successor. It
// requires that X be dead at the end of d (b sets X before any read on the
// paths through it, so this says no other path reads the value d leaves),
// and that no block between d and b write X: X then holds c on every path
// into b. The graph is refreshed on success; on failure nothing changed.
func (g *graph) hoistConstX(b *block, undo *undoLog) bool {
	if len(b.preds) == 0 && b != g.entry || b.succ[0] == b {
		return false
	}
	ldx := b.stmts[0]
	if ldx.K == 0 && b != g.entry && g.xStartValue(b, false) {
		// X still holds its initial 0 here: the block only jumps.
		undo.save(b)
		b.stmts = b.stmts[:0]
		g.bypass(b, undo)
		return true
	}
	d := g.idom(b)
	if b == g.entry || d == nil || d == b {
		return false
	}
	lv := computeLiveness(g)
	if lv.out(d)&(1<<slotX) != 0 {
		return false
	}
	// Walk back from b to d: every block on the way must leave X alone.
	g.epoch++
	d.mark = g.epoch
	b.mark = g.epoch
	stack := append(g.s.out[:0], b.preds...)
	defer func() { g.s.out = stack[:0] }()
	for _, p := range b.preds {
		p.mark = g.epoch
	}
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if x == d {
			continue
		}
		for _, s := range x.stmts {
			if _, def := useDef(s); def&(1<<slotX) != 0 {
				return false
			}
		}
		for _, p := range x.preds {
			if p.mark != g.epoch {
				p.mark = g.epoch
				stack = append(stack, p)
			}
		}
	}
	undo.save(d)
	d.stmts = append(d.stmts[:len(d.stmts):len(d.stmts)], ldx)
	g.bypass(b, undo)
	return true
}

// bypass sends the predecessors of b, a block that only jumps and is not
// the entry, to its successor, and refreshes the graph.
func (g *graph) bypass(b *block, undo *undoLog) {
	next := b.succ[0]
	for _, p := range b.preds {
		undo.save(p)
		for i := 0; i < p.nsucc(); i++ {
			if p.succ[i] == b {
				p.succ[i] = next
			}
		}
	}
	g.refresh()
}

// xStartValue reports whether X still holds its initial value 0 at the
// entry of b (at its end when withB is set): no statement on any path
// from the program's entry writes X.
func (g *graph) xStartValue(b *block, withB bool) bool {
	writesX := func(x *block) bool {
		for _, s := range x.stmts {
			if _, def := useDef(s); def&(1<<slotX) != 0 {
				return true
			}
		}
		return false
	}
	if withB && writesX(b) {
		return false
	}
	g.epoch++
	b.mark = g.epoch
	stack := append(g.s.out[:0], b)
	defer func() { g.s.out = stack[:0] }()
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, p := range x.preds {
			if p.mark == g.epoch {
				continue
			}
			if writesX(p) {
				return false
			}
			p.mark = g.epoch
			stack = append(stack, p)
		}
	}
	return true
}

// idom returns the immediate dominator of b (nil for the entry), computed
// over the topological order.
func (g *graph) idom(b *block) *block {
	dom := grow(g.s.dom, len(g.order))
	g.s.dom = dom
	dom[0] = g.order[0]
	for i := 1; i <= b.pos; i++ {
		x := g.order[i]
		var d *block
		for _, p := range x.preds {
			if d == nil {
				d = p
				continue
			}
			a, c := d, p
			for a != c {
				for a.pos > c.pos {
					a = dom[a.pos]
				}
				for c.pos > a.pos {
					c = dom[c.pos]
				}
			}
			d = a
		}
		dom[i] = d
	}
	if b.pos == 0 {
		return nil
	}
	return dom[b.pos]
}
