package expr

import "github.com/wringcap/wring/spec"

// Code generation: the control-flow graph of basic blocks and the
// predicates built on it with backpatched true and false edges.

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

// edgeSet is a set of unwired edges that joins in constant time: a leaf
// holds one edge, an inner node the edges of l, then those of r. A chain
// of n "or" terms builds its true edges in O(n), where copying a slice at
// every join costs O(n²) (libpcap's backpatching walks a linked list).
type edgeSet struct {
	e    edge
	l, r *edgeSet
}

func edgeOf(b *block, isJT bool) *edgeSet { return &edgeSet{e: edge{b, isJT}} }

// joinEdges returns the edges of a, then those of b.
func joinEdges(a, b *edgeSet) *edgeSet {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	return &edgeSet{l: a, r: b}
}

// set wires every edge of s to the block to.
func (s *edgeSet) set(to *block) {
	stack := []*edgeSet{s}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		switch {
		case n == nil:
		case n.l == nil && n.r == nil:
			n.e.set(to)
		default:
			stack = append(stack, n.r, n.l)
		}
	}
}

// pred is a predicate under construction: its entry block and the edges
// taken when it is true and when it is false (libpcap's backpatching).
type pred struct {
	head    *block
	t, f    *edgeSet
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
	return pred{head: b, t: edgeOf(b, true), f: edgeOf(b, false)}
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
	a.t.set(b.head)
	return pred{head: a.head, t: b.t, f: joinEdges(a.f, b.f)}
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
	a.f.set(b.head)
	return pred{head: a.head, t: joinEdges(a.t, b.t), f: b.f}
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
