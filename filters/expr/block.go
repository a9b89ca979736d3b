package expr

import (
	"fmt"

	"github.com/wringcap/wring/spec"
)

// block is a basic block of the control-flow graph that code generation
// builds: straight-line statements, then either a conditional jump
// (cond), a return (ret), or a fall-through to jt.
type block struct {
	stmts  []spec.Instruction
	cond   bool
	op     uint16 // full opcode of the conditional jump
	k      uint32
	jt, jf *block
	ret    bool
	retK   uint32
	rel    bool // the jump compares the two sides of a relation (proto[x] op y)

	pos  int // layout: index of the first instruction
	tJA  bool
	fJA  bool
	seen bool
}

// edge names one successor slot of a block that is not wired yet.
type edge struct {
	b    *block
	isJT bool
}

func (e edge) set(to *block) {
	if e.isJT {
		e.b.jt = to
	} else {
		e.b.jf = to
	}
}

// pred is a predicate under construction: its entry block and the edges
// taken when it is true and when it is false (libpcap's backpatching).
type pred struct {
	head    *block
	t, f    []edge
	meaning int // isUncertain, isTrue or isFalse: constant predicates fold
}

const (
	isUncertain = iota
	isTrue
	isFalse
)

// test makes a predicate from statements and a conditional jump.
func test(stmts []spec.Instruction, op uint16, k uint32) pred {
	b := &block{stmts: stmts, cond: true, op: spec.ClassJMP | op, k: k}
	return pred{head: b, t: []edge{{b, true}}, f: []edge{{b, false}}}
}

func and(a, b pred) pred {
	switch {
	case a.meaning == isFalse:
		return a
	case b.meaning == isFalse:
		return b
	case a.meaning == isTrue:
		return b
	case b.meaning == isTrue:
		return a
	}
	for _, e := range a.t {
		e.set(b.head)
	}
	return pred{head: a.head, t: b.t, f: append(append([]edge(nil), a.f...), b.f...)}
}

func or(a, b pred) pred {
	switch {
	case a.meaning == isFalse:
		return b
	case b.meaning == isFalse:
		return a
	case a.meaning == isTrue:
		return a
	case b.meaning == isTrue:
		return b
	}
	for _, e := range a.f {
		e.set(b.head)
	}
	return pred{head: a.head, t: append(append([]edge(nil), a.t...), b.t...), f: b.f}
}

func not(a pred) pred {
	m := a.meaning
	switch m {
	case isTrue:
		m = isFalse
	case isFalse:
		m = isTrue
	}
	return pred{head: a.head, t: a.f, f: a.t, meaning: m}
}

// prepend puts straight-line statements in front of a predicate.
func prepend(stmts []spec.Instruction, p pred) pred {
	if len(stmts) == 0 {
		return p
	}
	b := &block{stmts: stmts, jt: p.head}
	return pred{head: b, t: p.t, f: p.f, meaning: p.meaning}
}

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
	for _, e := range p.t {
		e.set(accept)
	}
	for _, e := range p.f {
		e.set(reject)
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
		if pos > 1<<20 {
			return nil, false, fmt.Errorf("program too large")
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
