package optimize

import (
	"errors"
	"fmt"

	"github.com/wringcap/wring/spec"
)

// ErrUnsupported is returned for programs the optimizer leaves alone: empty,
// with a backward or out-of-range jump, an unknown opcode, or a last
// instruction that is not a return or jump.
var ErrUnsupported = errors.New("program not optimizable")

// termKind says how a block ends.
type termKind uint8

const (
	termRet  termKind = iota // a return instruction
	termGoto                 // falls through or jumps unconditionally to succ[0]
	termCond                 // conditional jump: succ[0] if true, succ[1] if false
)

// block is a basic block: statements that never jump, then a terminator.
type block struct {
	id    int                // order of creation; the layout prefers it
	stmts []spec.Instruction // loads, stores, ALU and register moves
	kind  termKind
	term  spec.Instruction // the return or conditional jump (Jt, Jf unused)
	succ  [2]*block
	preds []*block // filled by graph.refresh
	pos   int      // index in graph.order, filled by graph.refresh
	mark  int      // scratch for traversals
}

// nsucc returns the number of successors.
func (b *block) nsucc() int {
	switch b.kind {
	case termGoto:
		return 1
	case termCond:
		return 2
	}
	return 0
}

// graph is a program's control-flow graph, a DAG since cBPF jumps only go
// forward.
type graph struct {
	entry  *block
	order  []*block // reachable blocks in topological order
	nextID int
	flow   *flow // the analysis of the graph as it is, nil after a change
	epoch  int   // traversal counter for block.mark
	// num numbers values for every analysis of the graph: the numbers of
	// pure values mean the same in each, fresh ones are never reused.
	num *numbering
	s   *scratch // memory for the graph and its analyses
}

// build splits p into basic blocks, in memory of s.
func (s *scratch) build(p spec.Program) (*graph, error) {
	n := len(p)
	if n == 0 {
		return nil, fmt.Errorf("%w: empty", ErrUnsupported)
	}
	leader := grow(s.leader, n+1)
	clear(leader)
	s.leader = leader
	leader[0] = true
	for pc, ins := range p {
		if err := checkOp(ins); err != nil {
			return nil, fmt.Errorf("%w: pc %d: %w", ErrUnsupported, pc, err)
		}
		switch ins.Class() {
		case spec.ClassRET:
			leader[pc+1] = true
		case spec.ClassJMP:
			var t0, t1 uint64
			if ins.Operation() == spec.JumpJA {
				t0 = uint64(pc) + 1 + uint64(ins.K)
				t1 = t0
			} else {
				t0, t1 = uint64(pc)+1+uint64(ins.Jt), uint64(pc)+1+uint64(ins.Jf)
			}
			if t0 >= uint64(n) || t1 >= uint64(n) {
				return nil, fmt.Errorf("%w: pc %d: jump past the end", ErrUnsupported, pc)
			}
			leader[t0], leader[t1] = true, true
			leader[pc+1] = true
		default:
			if pc == n-1 {
				return nil, fmt.Errorf("%w: pc %d: last instruction is not a return or jump", ErrUnsupported, pc)
			}
		}
	}
	s.blocks.reset()
	s.states.reset()
	s.facts.reset()
	s.num.reset()
	g := &s.g
	*g = graph{s: s, order: g.order[:0], num: &s.num}
	// The statements are edited in place: they live in a copy of p, each
	// block's with no room to grow into the next one's.
	buf := append(s.stmts[:0], p...)
	s.stmts = buf
	at := grow(s.at, n)
	s.at = at
	for pc := 0; pc < n; pc++ {
		at[pc] = nil
		if leader[pc] {
			at[pc] = g.newBlock()
		}
	}
	for pc := 0; pc < n; {
		b := at[pc]
		start := pc
	scan:
		for ; ; pc++ {
			ins := p[pc]
			switch ins.Class() {
			case spec.ClassRET:
				b.kind, b.term = termRet, ins
				b.stmts = buf[start:pc:pc]
				pc++
				break scan
			case spec.ClassJMP:
				if ins.Operation() == spec.JumpJA {
					b.kind = termGoto
					b.succ[0] = at[pc+1+int(ins.K)]
				} else {
					b.kind, b.term = termCond, spec.Instruction{Op: ins.Op, K: ins.K}
					b.succ[0] = at[pc+1+int(ins.Jt)]
					b.succ[1] = at[pc+1+int(ins.Jf)]
				}
				b.stmts = buf[start:pc:pc]
				pc++
				break scan
			default:
				if leader[pc+1] {
					b.kind = termGoto
					b.succ[0] = at[pc+1]
					b.stmts = buf[start : pc+1 : pc+1]
					pc++
					break scan
				}
			}
		}
	}
	g.entry = at[0]
	g.refresh()
	return g, nil
}

// build splits p into basic blocks, in memory of its own.
func build(p spec.Program) (*graph, error) { return new(scratch).build(p) }

// grow returns a slice of length n, reusing buf's memory when it can; the
// contents are left as they were.
func grow[T any](buf []T, n int) []T {
	if cap(buf) < n {
		return make([]T, n, n+n/4)
	}
	return buf[:n]
}

func (g *graph) newBlock() *block {
	b := g.s.blocks.one()
	*b = block{id: g.nextID, preds: b.preds[:0]}
	g.nextID++
	return b
}

// checkOp accepts the opcodes of classic BPF.
func checkOp(ins spec.Instruction) error {
	op := ins.Op
	switch ins.Class() {
	case spec.ClassLD:
		switch ins.Mode() {
		case spec.ModeIMM, spec.ModeLEN, spec.ModeMEM:
			if ins.Size() != spec.SizeW {
				break
			}
			if ins.Mode() == spec.ModeMEM && ins.K >= spec.MemWords {
				return fmt.Errorf("scratch slot %d", ins.K)
			}
			return nil
		case spec.ModeABS, spec.ModeIND:
			if ins.Size() != 0x18 {
				return nil
			}
		}
	case spec.ClassLDX:
		switch op {
		case spec.ClassLDX | spec.SizeW | spec.ModeIMM, spec.ClassLDX | spec.SizeW | spec.ModeLEN,
			spec.ClassLDX | spec.SizeB | spec.ModeMSH:
			return nil
		case spec.ClassLDX | spec.SizeW | spec.ModeMEM:
			if ins.K >= spec.MemWords {
				return fmt.Errorf("scratch slot %d", ins.K)
			}
			return nil
		}
	case spec.ClassST, spec.ClassSTX:
		if op&^0x07 == 0 {
			if ins.K >= spec.MemWords {
				return fmt.Errorf("scratch slot %d", ins.K)
			}
			return nil
		}
	case spec.ClassALU:
		if op&^0xff != 0 {
			break
		}
		switch ins.Operation() {
		case spec.ALUNeg:
			if ins.Src() == spec.SrcK {
				return nil
			}
		case spec.ALUAdd, spec.ALUSub, spec.ALUMul, spec.ALUDiv, spec.ALUOr, spec.ALUAnd,
			spec.ALULsh, spec.ALURsh, spec.ALUMod, spec.ALUXor:
			if ins.Src() == spec.SrcK && ins.K == 0 && (ins.Operation() == spec.ALUDiv || ins.Operation() == spec.ALUMod) {
				return errors.New("division by constant zero")
			}
			return nil
		}
	case spec.ClassJMP:
		if op&^0xff != 0 {
			break
		}
		switch ins.Operation() {
		case spec.JumpJA:
			if ins.Src() == spec.SrcK {
				return nil
			}
		case spec.JumpJEQ, spec.JumpJGT, spec.JumpJGE, spec.JumpJSET:
			return nil
		}
	case spec.ClassRET:
		switch op {
		case spec.ClassRET | spec.RetK, spec.ClassRET | spec.RetA:
			return nil
		}
	case spec.ClassMISC:
		switch op {
		case spec.ClassMISC | spec.MiscTAX, spec.ClassMISC | spec.MiscTXA:
			return nil
		}
	}
	return fmt.Errorf("unknown opcode %#04x", op)
}

// refresh recomputes the reachable blocks, their topological order and
// their predecessors, after passes have rewired edges.
func (g *graph) refresh() {
	g.flow = nil
	g.relink()
}

// relink recomputes the order and predecessors, keeping the analysis: for
// changes that leave every state of it true.
func (g *graph) relink() {
	if g.flow != nil {
		g.flow.stale = true
	}
	// Depth-first post order from the entry, then reversed, gives a
	// topological order of the DAG; visiting successors in reverse keeps
	// the original order where it can.
	for _, b := range g.order {
		b.preds = b.preds[:0]
	}
	g.epoch++
	post := g.s.post[:0]
	stack := append(g.s.stack[:0], walk{g.entry, g.entry.nsucc() - 1})
	g.entry.mark = g.epoch
	for len(stack) > 0 {
		top := &stack[len(stack)-1]
		if top.i < 0 {
			post = append(post, top.b)
			stack = stack[:len(stack)-1]
			continue
		}
		s := top.b.succ[top.i]
		top.i--
		if s.mark != g.epoch {
			s.mark = g.epoch
			stack = append(stack, walk{s, s.nsucc() - 1})
		}
	}
	g.s.post, g.s.stack = post, stack
	g.order = g.order[:0]
	for i := len(post) - 1; i >= 0; i-- {
		b := post[i]
		b.pos = len(g.order)
		b.preds = b.preds[:0]
		g.order = append(g.order, b)
	}
	for _, b := range g.order {
		for i := 0; i < b.nsucc(); i++ {
			s := b.succ[i]
			if !containsBlock(s.preds, b) {
				s.preds = append(s.preds, b)
			}
		}
	}
}

func containsBlock(bs []*block, b *block) bool {
	for _, x := range bs {
		if x == b {
			return true
		}
	}
	return false
}
