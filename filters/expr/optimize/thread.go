package optimize

// thread retargets edges: when, on an edge into block b, b's statements
// change nothing that is read later and b's jump outcome is known from the
// values and comparisons on that edge, the edge goes straight to the
// successor b would jump to. This is how a second `ldh [12]; jeq #0x800`
// after the first one matched disappears from that path.
func thread(g *graph) bool {
	fl := analyze(g)
	lv := computeLiveness(g)
	changed := false
	// Reverse topological order: retargeting an edge of p only changes
	// the states of blocks after p and the liveness of p and blocks
	// before it; the latter is recomputed after each change.
	for i := len(g.order) - 1; i >= 0; i-- {
		p := g.order[i]
		in := fl.entry(p)
		if in == nil {
			continue
		}
		outs := fl.out[p.id]
		if fl.stale {
			// The edge states again from p's entry: the analysis dates
			// from before fold decided some of p's jumps.
			outs = fl.exits(p, in)
		}
		for e := 0; e < p.nsucc(); e++ {
			est := outs[e]
			if est == nil {
				continue
			}
			for {
				s, ok := fl.through(p.succ[e], est, lv)
				if !ok {
					break
				}
				p.succ[e] = s
				changed = true
				lv.update(g, i)
			}
		}
	}
	if changed {
		g.refresh()
	}
	return changed
}

// through returns the block a run entering b in state st continues at, when
// b's statements can be skipped: none can end the run, and every register
// they change is dead there.
func (fl *flow) through(b *block, in *state, lv liveness) (*block, bool) {
	s, changed, ok := fl.resolve(b, in, maxConverge)
	if !ok || changed&lv[s.pos] != 0 {
		return nil, false
	}
	return s, true
}

// maxConverge bounds how many undecided jumps resolve follows down both
// ways.
const maxConverge = 3

// resolve returns the block every run entering b in state in reaches first
// after skipping b (and, through undecided jumps, up to depth more blocks
// on each side) when all those runs reach the same block without a
// statement that can end the run, and the slots the skipped statements may
// change.
func (fl *flow) resolve(b *block, in *state, depth int) (*block, slots, bool) {
	if b.kind == termRet {
		return nil, 0, false
	}
	st := *in
	for _, ins := range b.stmts {
		_, v, fail, _ := fl.value(&st, ins)
		if fail == always || (fail == maybe && !fl.held(&st, v)) {
			return nil, 0, false
		}
		fl.exec(&st, ins)
	}
	var changed slots
	for i := range st.reg {
		if st.reg[i] != in.reg[i] {
			changed |= 1 << i
		}
	}
	if b.kind == termGoto {
		return b.succ[0], changed, true
	}
	taken, known := fl.decide(&st, b.term)
	if known {
		if taken {
			return b.succ[0], changed, true
		}
		return b.succ[1], changed, true
	}
	if depth == 0 {
		return nil, 0, false
	}
	// Undecided: both ways must lead to the same block.
	edges := fl.edges(b, &st)
	var target *block
	for i, e := range edges {
		s := b.succ[i]
		if e == nil {
			continue // this way cannot be taken
		}
		t, c, ok := fl.resolve(s, e, depth-1)
		if !ok {
			t, c = s, 0
		}
		if target != nil && t != target {
			return nil, 0, false
		}
		target = t
		changed |= c
	}
	if target == nil {
		return nil, 0, false
	}
	return target, changed, true
}
