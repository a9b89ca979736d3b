package optimize

import (
	"encoding/binary"

	"github.com/wringcap/wring/spec"
)

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
	seen := make(map[string]*block)
	repl := make(map[*block]*block)
	var key []byte
	for i := len(g.order) - 1; i >= 0; i-- {
		b := g.order[i]
		for j := 0; j < b.nsucc(); j++ {
			if r, ok := repl[b.succ[j]]; ok {
				b.succ[j] = r
			}
		}
		key = blockKey(key[:0], b)
		if o, ok := seen[string(key)]; ok {
			repl[b] = o
			continue
		}
		seen[string(key)] = b
	}
	if r, ok := repl[g.entry]; ok {
		g.entry = r
	}
	if len(repl) > 0 {
		g.refresh()
		changed = true
	}
	return changed
}

// blockKey encodes what makes two blocks interchangeable.
func blockKey(buf []byte, b *block) []byte {
	put := func(ins spec.Instruction) {
		buf = binary.LittleEndian.AppendUint16(buf, ins.Op)
		buf = binary.LittleEndian.AppendUint32(buf, ins.K)
	}
	buf = append(buf, byte(b.kind))
	for _, ins := range b.stmts {
		put(ins)
	}
	buf = append(buf, 0xff)
	if b.kind != termGoto {
		put(b.term)
	}
	for i := 0; i < b.nsucc(); i++ {
		buf = binary.LittleEndian.AppendUint32(buf, uint32(b.succ[i].id))
	}
	return buf
}
