package optimize

import (
	"fmt"

	"github.com/wringcap/wring/spec"
)

// maxCondOffset is the longest jump a conditional jump can encode (its
// offsets are 8 bits); farther targets go through an inserted `ja`.
const maxCondOffset = 255

// layout orders the reachable blocks for emission: topologically, putting
// an unconditional jump's target right after it when all its other
// predecessors are already placed (the jump then costs nothing), a return
// reached only from a conditional jump right after that jump, and
// otherwise the earliest-created ready block.
func (g *graph) layout() []*block {
	indeg := grow(g.s.indeg, len(g.order))
	g.s.indeg = indeg
	for _, b := range g.order {
		indeg[b.pos] = len(b.preds)
	}
	ready := g.s.ready[:0]
	out := g.s.out[:0]
	defer func() { g.s.ready, g.s.out = ready[:0], out[:0] }()
	cur := g.entry
	for cur != nil {
		out = append(out, cur)
		var next *block
		for i := 0; i < cur.nsucc(); i++ {
			s := cur.succ[i]
			if i == 1 && s == cur.succ[0] {
				continue
			}
			indeg[s.pos]--
			if indeg[s.pos] == 0 {
				ready = append(ready, s)
			}
		}
		if cur.kind == termGoto && indeg[cur.succ[0].pos] == 0 {
			next = cur.succ[0]
		}
		if next == nil && cur.kind == termCond {
			// A return only this jump reaches goes right after it, so
			// long chains of tests do not push their returns out of
			// reach.
			for i := 0; i < 2 && next == nil; i++ {
				if s := cur.succ[i]; indeg[s.pos] == 0 && s.kind == termRet && len(s.preds) == 1 {
					next = s
				}
			}
		}
		if next == nil && len(ready) > 0 {
			next = ready[0]
			for _, r := range ready[1:] {
				if r.id < next.id {
					next = r
				}
			}
		}
		if next != nil {
			for i, r := range ready {
				if r == next {
					ready = append(ready[:i], ready[i+1:]...)
					break
				}
			}
		}
		cur = next
	}
	return out
}

// linearize lays the graph out as a program.
func (g *graph) linearize() (spec.Program, error) {
	order := g.layout()
	if len(order) != len(g.order) {
		return nil, fmt.Errorf("optimize: layout placed %d of %d blocks", len(order), len(g.order))
	}
	idx := grow(g.s.idx, len(g.order))
	g.s.idx = idx
	for i, b := range order {
		idx[b.pos] = i
	}
	// far[b][i] is set when successor i of conditional block b needs a
	// trampoline `ja`. Offsets only grow as trampolines are added, so this
	// converges.
	far := grow(g.s.far, len(order))
	clear(far)
	pos := grow(g.s.pos, len(order)+1)
	pos[0] = 0
	g.s.far, g.s.pos = far, pos
	size := func(i int) int {
		b := order[i]
		n := len(b.stmts)
		switch b.kind {
		case termRet:
			n++
		case termGoto:
			if i+1 >= len(order) || order[i+1] != b.succ[0] {
				n++
			}
		case termCond:
			n++
			if far[i][0] {
				n++
			}
			if far[i][1] {
				n++
			}
		}
		return n
	}
	for {
		for i := range order {
			pos[i+1] = pos[i] + size(i)
		}
		grew := false
		for i, b := range order {
			if b.kind != termCond {
				continue
			}
			jpc := pos[i] + len(b.stmts)
			for s := 0; s < 2; s++ {
				if !far[i][s] && pos[idx[b.succ[s].pos]]-(jpc+1) > maxCondOffset {
					far[i][s] = true
					grew = true
				}
			}
		}
		if !grew {
			break
		}
	}
	prog := make(spec.Program, 0, pos[len(order)])
	for i, b := range order {
		prog = append(prog, b.stmts...)
		switch b.kind {
		case termRet:
			prog = append(prog, b.term)
		case termGoto:
			if i+1 >= len(order) || order[i+1] != b.succ[0] {
				off := pos[idx[b.succ[0].pos]] - (len(prog) + 1)
				prog = append(prog, spec.Stmt(spec.ClassJMP|spec.JumpJA, uint32(off)))
			}
		case termCond:
			jpc := len(prog)
			tramp := jpc + 1 // where the next trampoline goes
			var offs [2]int
			for s := 0; s < 2; s++ {
				if far[i][s] {
					offs[s] = tramp - (jpc + 1)
					tramp++
				}
			}
			for s := 0; s < 2; s++ {
				if !far[i][s] {
					offs[s] = pos[idx[b.succ[s].pos]] - (jpc + 1)
				}
			}
			j := b.term
			j.Jt, j.Jf = uint8(offs[0]), uint8(offs[1])
			prog = append(prog, j)
			for s := 0; s < 2; s++ {
				if far[i][s] {
					off := pos[idx[b.succ[s].pos]] - (len(prog) + 1)
					prog = append(prog, spec.Stmt(spec.ClassJMP|spec.JumpJA, uint32(off)))
				}
			}
		}
		if len(prog) != pos[i+1] {
			return nil, fmt.Errorf("optimize: block %d emitted at %d, expected %d", i, len(prog), pos[i+1])
		}
	}
	return prog, nil
}
