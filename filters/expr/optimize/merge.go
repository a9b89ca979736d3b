package optimize

// merge simplifies the shape of the graph: a conditional jump with one
// target becomes unconditional, jumps to empty blocks that only jump go to
// the final target, a block reached only by an unconditional jump from one
// block is joined to it, and identical blocks (same statements, same
// terminator, same successors) become one.
func merge(g *graph) bool {
	changed := false
	for _, b := range g.order {
		if b.kind == termCond && b.succ[0] == b.succ[1] {
			b.kind, b.succ[1] = termGoto, nil
			changed = true
		}
	}
	// Jumps to jumps.
	final := func(b *block) *block {
		for n := 0; b.kind == termGoto && len(b.stmts) == 0 && n < len(g.order); n++ {
			b = b.succ[0]
		}
		return b
	}
	if f := final(g.entry); f != g.entry {
		g.entry = f
		changed = true
	}
	for _, b := range g.order {
		for i := 0; i < b.nsucc(); i++ {
			if f := final(b.succ[i]); f != b.succ[i] {
				b.succ[i] = f
				changed = true
			}
		}
	}
	if changed {
		g.refresh()
	}
	// Join single-predecessor blocks to their predecessor's goto.
	joined := false
	for _, b := range g.order {
		if b != g.entry && len(b.preds) == 0 {
			continue // joined to its predecessor above
		}
		for b.kind == termGoto {
			s := b.succ[0]
			if len(s.preds) != 1 || s == g.entry {
				break
			}
			b.stmts = append(b.stmts, s.stmts...)
			b.kind, b.term, b.succ = s.kind, s.term, s.succ
			s.preds = nil
			// s's successors now have b as predecessor instead.
			for i := 0; i < b.nsucc(); i++ {
				ps := b.succ[i].preds
				for j := range ps {
					if ps[j] == s {
						ps[j] = b
					}
				}
			}
			joined = true
		}
	}
	if joined {
		g.refresh()
		changed = true
	}
	// Identical blocks, from the last: successors are already unique.
	sc := g.s
	repl := grow(sc.repl, g.nextID)
	clear(repl)
	sc.repl = repl
	if sc.seen == nil {
		sc.seen = make(map[uint64]*block)
	}
	seen := sc.seen
	clear(seen)
	kept := sc.kept[:0] // blocks kept, for hash collisions
	nrepl := 0
	for i := len(g.order) - 1; i >= 0; i-- {
		b := g.order[i]
		for j := 0; j < b.nsucc(); j++ {
			if r := repl[b.succ[j].id]; r != nil {
				b.succ[j] = r
			}
		}
		h := blockHash(b)
		o, ok := seen[h]
		if ok && !sameBlock(o, b) {
			o = nil
			for _, k := range kept {
				if sameBlock(k, b) {
					o = k
					break
				}
			}
		}
		if o != nil {
			repl[b.id] = o
			nrepl++
			continue
		}
		if !ok {
			seen[h] = b
		}
		kept = append(kept, b)
	}
	sc.kept = kept[:0]
	if r := repl[g.entry.id]; r != nil {
		g.entry = r
	}
	if nrepl > 0 {
		g.refresh()
		changed = true
	}
	return changed
}

// blockHash hashes what makes two blocks interchangeable (see sameBlock).
func blockHash(b *block) uint64 {
	h := uint64(b.kind) + 0x9e3779b97f4a7c15
	mix := func(x uint64) {
		h ^= x
		h *= 0xbf58476d1ce4e5b9
		h ^= h >> 31
	}
	for _, ins := range b.stmts {
		mix(uint64(ins.Op)<<32 | uint64(ins.K))
	}
	mix(uint64(len(b.stmts)))
	if b.kind != termGoto {
		mix(uint64(b.term.Op)<<32 | uint64(b.term.K))
	}
	for i := 0; i < b.nsucc(); i++ {
		mix(uint64(b.succ[i].id))
	}
	return h
}

// sameBlock reports whether a and b are interchangeable: same statements,
// same terminator, same successors.
func sameBlock(a, b *block) bool {
	if a.kind != b.kind || len(a.stmts) != len(b.stmts) {
		return false
	}
	for i, x := range a.stmts {
		if y := b.stmts[i]; x.Op != y.Op || x.K != y.K {
			return false
		}
	}
	if a.kind != termGoto && (a.term.Op != b.term.Op || a.term.K != b.term.K) {
		return false
	}
	for i := 0; i < a.nsucc(); i++ {
		if a.succ[i] != b.succ[i] {
			return false
		}
	}
	return true
}
