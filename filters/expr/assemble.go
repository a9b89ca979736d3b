package expr

import (
	"fmt"

	"github.com/wringcap/wring/spec"
)

// Assembly: the block graph laid out as a program.

// assemble wires the predicate's exits to the two returns and lays the
// graph out as a program. Blocks are placed in reverse post-order, so every
// jump goes forward; conditional jumps whose offset does not fit in 8 bits
// go through an extra ja, as libpcap's assembler does.
//
// With prove set, it first checks with provesReject whether libpcap's
// optimizer would find that the program rejects every packet, and then
// returns no program and rejectsAll true.
func assemble(p pred, snaplen uint32, prove bool) (prog spec.Program, rejectsAll bool, err error) {
	accept := &block{ret: true, retK: snaplen}
	reject := &block{ret: true, retK: 0}
	p.t.set(accept)
	p.f.set(reject)
	// A graph too large for a program is refused before the work that
	// grows with its size times its depth (provesReject, layout).
	if n := minLength(p.head); n > spec.MaxInstructions {
		return nil, false, tooLongError(n)
	}
	if prove && provesReject(p.head, accept) {
		return nil, true, nil
	}
	var order []*block
	var visit func(b *block)
	visit = func(b *block) {
		if b == nil || b.seen || b.ret {
			return
		}
		b.seen = true
		for i, s := range b.stmts {
			if s.Op == abortOp {
				b.stmts, b.cond, b.jt, b.jf = b.stmts[:i], false, reject, nil
				break
			}
		}
		if b.cond {
			visit(b.jf)
			visit(b.jt)
		} else {
			visit(b.jt)
		}
		order = append(order, b)
	}
	visit(p.head)
	for i, j := 0, len(order)-1; i < j; i, j = i+1, j-1 {
		order[i], order[j] = order[j], order[i]
	}
	order = append(order, accept, reject)
	for _, b := range order {
		if !b.ret && !b.cond && b.jt == nil {
			return nil, false, fmt.Errorf("internal error: unwired block")
		}
	}
	size := func(i int, b *block) int {
		switch {
		case b.ret:
			return 1
		case b.cond:
			n := len(b.stmts) + 1
			if b.tJA {
				n++
			}
			if b.fJA {
				n++
			}
			return n
		default:
			n := len(b.stmts)
			if i+1 >= len(order) || order[i+1] != b.jt {
				n++
			}
			return n
		}
	}
	for iter := 0; ; iter++ {
		pos := 0
		for i, b := range order {
			b.pos = pos
			pos += size(i, b)
		}
		if pos > spec.MaxInstructions {
			// Jumps only grow and initScratch only adds: the program
			// is too long whatever layout follows.
			return nil, false, tooLongError(pos)
		}
		changed := false
		for _, b := range order {
			if !b.cond {
				continue
			}
			j := b.pos + len(b.stmts)
			if !b.tJA && b.jt.pos-(j+1) > 255 {
				b.tJA, changed = true, true
			}
			if !b.fJA && b.jf.pos-(j+1) > 255 {
				b.fJA, changed = true, true
			}
		}
		if !changed {
			break
		}
	}
	prog = nil
	for i, b := range order {
		prog = append(prog, b.stmts...)
		switch {
		case b.ret:
			prog = append(prog, spec.Stmt(spec.ClassRET|spec.RetK, b.retK))
		case b.cond:
			j := len(prog)
			tt, ft := b.jt.pos, b.jf.pos
			next := j + 1
			if b.tJA {
				tt = next
				next++
			}
			if b.fJA {
				ft = next
			}
			prog = append(prog, spec.Jump(b.op, b.k, uint8(tt-(j+1)), uint8(ft-(j+1))))
			if b.tJA {
				prog = append(prog, spec.Stmt(spec.ClassJMP|spec.JumpJA, uint32(b.jt.pos-(len(prog)+1))))
			}
			if b.fJA {
				prog = append(prog, spec.Stmt(spec.ClassJMP|spec.JumpJA, uint32(b.jf.pos-(len(prog)+1))))
			}
		default:
			if i+1 >= len(order) || order[i+1] != b.jt {
				prog = append(prog, spec.Stmt(spec.ClassJMP|spec.JumpJA, uint32(b.jt.pos-(len(prog)+1))))
			}
		}
	}
	return prog, false, nil
}

// initScratch zeroes, at the start, every scratch slot some path may read
// before writing. libpcap's interpreter starts with zeroed memory and
// programs such as "vxlan or tcp" rely on it; the verifier, like Linux,
// requires every read to follow a write.
func initScratch(prog spec.Program) spec.Program {
	n := len(prog)
	in := make([]uint16, n+1)
	seen := make([]bool, n+1)
	seen[0] = true
	var need uint16
	for pc := 0; pc < n; pc++ {
		if !seen[pc] {
			continue
		}
		w := in[pc]
		ins := prog[pc]
		switch ins.Class() {
		case spec.ClassST, spec.ClassSTX:
			if ins.K < spec.MemWords {
				w |= 1 << ins.K
			}
		case spec.ClassLD, spec.ClassLDX:
			if ins.Mode() == spec.ModeMEM && ins.K < spec.MemWords && w&(1<<ins.K) == 0 {
				need |= 1 << ins.K
			}
		}
		flow := func(to int) {
			if to > n || to <= pc {
				return
			}
			if !seen[to] {
				seen[to], in[to] = true, w
			} else {
				in[to] &= w
			}
		}
		switch {
		case ins.Class() == spec.ClassRET:
		case ins.Class() == spec.ClassJMP && ins.Operation() == spec.JumpJA:
			flow(pc + 1 + int(ins.K))
		case ins.Class() == spec.ClassJMP:
			flow(pc + 1 + int(ins.Jt))
			flow(pc + 1 + int(ins.Jf))
		default:
			flow(pc + 1)
		}
	}
	if need == 0 {
		return prog
	}
	pro := spec.Program{stmt(spec.ClassLD|spec.ModeIMM, 0)}
	for k := uint32(0); k < spec.MemWords; k++ {
		if need&(1<<k) != 0 {
			pro = append(pro, stmt(spec.ClassST, k))
		}
	}
	return append(pro, prog...)
}

// minLength counts the instructions of the blocks reachable from head,
// without the jumps layout may add: a lower bound of the program's length.
func minLength(head *block) int {
	seen := map[*block]bool{}
	stack := []*block{head}
	n := 0
	for len(stack) > 0 {
		b := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if b == nil || seen[b] {
			continue
		}
		seen[b] = true
		switch {
		case b.ret:
			n++
		case b.cond:
			n += len(b.stmts) + 1
			stack = append(stack, b.jt, b.jf)
		default:
			n += len(b.stmts)
			stack = append(stack, b.jt)
		}
	}
	return n
}
