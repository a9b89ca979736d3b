package optimize

import "github.com/wringcap/wring/spec"

// Register slots of a state: A, X, then the scratch memory.
const (
	slotA  = 0
	slotX  = 1
	slotM  = 2
	nSlots = slotM + spec.MemWords
)

// specialBase is where Linux's negative offsets, its ancillary loads and
// wring's record loads begin: such loads say nothing about the packet's
// length.
const specialBase = spec.RecordBase

// state is what is known at one point of a run: the value in each register,
// a length the captured packet is known to have, and facts on values.
type state struct {
	reg   [nSlots]vid
	known uint64
	f     facts
}

// effect says whether a statement can end the run with 0.
type effect uint8

const (
	never  effect = iota // cannot end the run
	maybe                // ends the run on some packets
	always               // ends the run on every packet
)

// flow is the result of the forward analysis of a graph.
type flow struct {
	n       *numbering
	init    [nSlots]vid    // values at program entry
	in      []*state       // by block id: state at entry; nil: unreachable or newer block
	out     [][2]*state    // by block id: states on the outgoing edges
	states  *chunks[state] // storage for the states above
	facts   *chunks[fact]  // storage for facts slices
	runRegs [][nSlots]vid  // scratch for dropNoOpRuns
	runSafe []bool
	// stale is set once a pass that keeps the analysis has changed the
	// graph: entry states stay true, out may not match the edges any more.
	stale bool
}

// analyze numbers the values of every block, in topological order. The
// result is kept until the graph changes (graph.refresh): passes that
// change nothing share it, and so does the pass after fold, whose changes
// keep every state true (they preserve values and only remove edges).
func analyze(g *graph) *flow {
	if g.flow != nil {
		return g.flow
	}
	if g.num == nil {
		g.num = newNumbering()
	}
	fl := &g.s.fl
	*fl = flow{n: g.num, in: grow(fl.in, g.nextID), out: grow(fl.out, g.nextID),
		states: &g.s.states, facts: &g.s.facts, runRegs: fl.runRegs, runSafe: fl.runSafe}
	clear(fl.in)
	clear(fl.out)
	// A and X start at 0 (spec/ISA.md §1); the scratch slots are
	// unknown, as no verified program reads one before writing it.
	fl.init[slotA] = fl.n.cnst(0)
	fl.init[slotX] = fl.n.cnst(0)
	for i := slotM; i < nSlots; i++ {
		fl.init[i] = fl.n.fresh()
	}
	for _, b := range g.order {
		var st *state
		if b == g.entry {
			st = fl.newState(&state{reg: fl.init})
		} else {
			st = fl.meetPreds(b)
		}
		fl.in[b.id] = st
		if st == nil {
			continue
		}
		fl.out[b.id] = fl.exits(b, st)
	}
	g.flow = fl
	return fl
}

// meetPreds combines the states on every edge into b.
func (fl *flow) meetPreds(b *block) *state {
	var st *state
	for _, p := range b.preds {
		if fl.in[p.id] == nil {
			continue
		}
		outs := fl.out[p.id]
		for i := 0; i < p.nsucc(); i++ {
			e := outs[i]
			if p.succ[i] != b || e == nil {
				continue
			}
			if st == nil {
				st = fl.newState(e)
				continue
			}
			for s := range st.reg {
				if st.reg[s] != e.reg[s] {
					st.reg[s] = -1
				}
			}
			st.known = min(st.known, e.known)
			st.f = fl.meetFacts(st.f, e.f)
		}
	}
	if st == nil {
		return nil
	}
	for s := range st.reg {
		if st.reg[s] < 0 {
			st.reg[s] = fl.n.fresh()
		}
	}
	return st
}

// exits runs b's statements from st and returns the state on each outgoing
// edge (nil when the edge cannot be taken).
func (fl *flow) exits(b *block, in *state) [2]*state {
	st := *in
	for _, ins := range b.stmts {
		if fl.exec(&st, ins) == always {
			return [2]*state{}
		}
	}
	return fl.edges(b, &st)
}

// edges returns the states after b's terminator, given the state before it.
func (fl *flow) edges(b *block, st *state) [2]*state {
	switch b.kind {
	case termGoto:
		return [2]*state{fl.newState(st)}
	case termCond:
		var out [2]*state
		a, op, k, isK := fl.cond(st, b.term)
		if !isK {
			return [2]*state{fl.newState(st), fl.newState(st)}
		}
		if cst, ok := fl.n.constOf(a); ok {
			if jumpTaken(op, cst, k) {
				out[0] = fl.newState(st)
			} else {
				out[1] = fl.newState(st)
			}
			return out
		}
		r0, ok := st.f.get(a)
		if !ok {
			r0 = anyValue
		}
		for i, taken := range [2]bool{true, false} {
			r, ok := r0.assume(op, k, taken)
			if !ok {
				continue
			}
			c := fl.newState(st)
			c.f = fl.with(c.f, a, r)
			out[i] = c
		}
		return out
	}
	return [2]*state{}
}

// cond returns the value a conditional jump tests, its operation, and the
// constant it compares with (isK false: compared with X, unknown).
func (fl *flow) cond(st *state, j spec.Instruction) (a vid, op uint16, k uint32, isK bool) {
	a, op = st.reg[slotA], j.Operation()
	if j.Src() == spec.SrcK {
		return a, op, j.K, true
	}
	if c, ok := fl.n.constOf(st.reg[slotX]); ok {
		return a, op, c, true
	}
	return a, op, 0, false
}

// decide returns the outcome of b's conditional jump from state st, if the
// values and facts fix it.
func (fl *flow) decide(st *state, j spec.Instruction) (taken, known bool) {
	a, op, k, isK := fl.cond(st, j)
	if !isK {
		if a == st.reg[slotX] {
			switch op {
			case spec.JumpJEQ, spec.JumpJGE:
				return true, true
			case spec.JumpJGT:
				return false, true
			}
		}
		return false, false
	}
	if c, ok := fl.n.constOf(a); ok {
		return jumpTaken(op, c, k), true
	}
	if r, ok := st.f.get(a); ok {
		return r.decide(op, k)
	}
	return anyValue.decide(op, k)
}

// nonZero reports whether v is known to differ from 0 in st.
func (fl *flow) nonZero(st *state, v vid) bool {
	if c, ok := fl.n.constOf(v); ok {
		return c != 0
	}
	if r, ok := st.f.get(v); ok {
		taken, known := r.decide(spec.JumpJEQ, 0)
		return known && !taken
	}
	return false
}

// value computes what a statement stores and where, without changing st.
// dst is the slot written; fail says whether it can end the run; end is the
// packet length an absolute load needs (0 otherwise).
func (fl *flow) value(st *state, ins spec.Instruction) (dst int, v vid, fail effect, end uint64) {
	n := fl.n
	size := func() uint64 {
		switch ins.Size() {
		case spec.SizeW:
			return 4
		case spec.SizeH:
			return 2
		}
		return 1
	}
	switch ins.Class() {
	case spec.ClassLD, spec.ClassLDX:
		dst = slotA
		if ins.Class() == spec.ClassLDX {
			dst = slotX
		}
		switch ins.Mode() {
		case spec.ModeIMM:
			return dst, n.cnst(ins.K), never, 0
		case spec.ModeLEN:
			return dst, n.get(vkey{kind: vLen}), never, 0
		case spec.ModeMEM:
			return dst, st.reg[slotM+int(ins.K)], never, 0
		case spec.ModeABS:
			if opaqueLoad(ins) {
				return dst, n.fresh(), maybe, 0
			}
			v = n.get(vkey{kind: vAbs, op: ins.Size(), k: ins.K})
			if ins.K >= specialBase {
				return dst, v, maybe, 0
			}
			end = uint64(ins.K) + size()
			if end <= st.known {
				return dst, v, never, end
			}
			return dst, v, maybe, end
		case spec.ModeIND:
			if off, ok := fl.indConst(st, ins); ok {
				v = n.get(vkey{kind: vAbs, op: ins.Size(), k: off})
				end = uint64(off) + size()
				if end <= st.known {
					return dst, v, never, end
				}
				return dst, v, maybe, end
			}
			return dst, n.get(vkey{kind: vInd, op: ins.Size(), a: st.reg[slotX], k: ins.K}), maybe, 0
		case spec.ModeMSH:
			v = n.get(vkey{kind: vMsh, k: ins.K})
			if ins.K >= specialBase {
				return dst, v, maybe, 0
			}
			end = uint64(ins.K) + 1
			if end <= st.known {
				return dst, v, never, end
			}
			return dst, v, maybe, end
		}
	case spec.ClassST:
		return slotM + int(ins.K), st.reg[slotA], never, 0
	case spec.ClassSTX:
		return slotM + int(ins.K), st.reg[slotX], never, 0
	case spec.ClassALU:
		op := ins.Operation()
		var b vid
		if op == spec.ALUNeg {
			b = -1
		} else if ins.Src() == spec.SrcK {
			b = n.cnst(ins.K)
		} else {
			b = st.reg[slotX]
		}
		v, fails := n.alu(op, st.reg[slotA], b)
		if fails {
			return slotA, 0, always, 0
		}
		if (op == spec.ALUDiv || op == spec.ALUMod) && !fl.nonZero(st, b) {
			return slotA, v, maybe, 0
		}
		return slotA, v, never, 0
	case spec.ClassMISC:
		if ins.Op&0xf8 == spec.MiscTAX {
			return slotX, st.reg[slotA], never, 0
		}
		return slotA, st.reg[slotX], never, 0
	}
	panic("optimize: unexpected statement class")
}

// exec applies a statement to st and returns whether it can end the run.
func (fl *flow) exec(st *state, ins spec.Instruction) effect {
	dst, v, fail, end := fl.value(st, ins)
	if fail == always {
		return always
	}
	st.reg[dst] = v
	if end > st.known {
		st.known = end
	}
	return fail
}

// indConst returns the offset of an indirect load when X is a known
// constant and X+k is an ordinary packet offset, so that the load is the
// same as an absolute one.
func (fl *flow) indConst(st *state, ins spec.Instruction) (uint32, bool) {
	c, ok := fl.n.constOf(st.reg[slotX])
	if !ok {
		return 0, false
	}
	off := uint64(c) + uint64(ins.K)
	if off+4 >= specialBase {
		return 0, false
	}
	return uint32(off), true
}

// opaqueLoad reports whether ins is a Linux ancillary load whose result is
// not a function of the packet alone: A^X, the netlink attribute searches
// (which read A and X) and the random number. Such a load is never removed
// or merged with another.
func opaqueLoad(ins spec.Instruction) bool {
	if ins.Class() != spec.ClassLD || ins.Mode() != spec.ModeABS || !spec.IsAncillary(ins.K) {
		return false
	}
	switch ins.K - spec.AncillaryBase {
	case spec.AncProtocol, spec.AncPktType, spec.AncIfindex, spec.AncMark, spec.AncQueue, spec.AncHaType,
		spec.AncRxHash, spec.AncCPU, spec.AncVLANTag, spec.AncVLANTagPresent, spec.AncPayOffset, spec.AncVLANTPID:
		return false
	}
	return true
}

// newState stores a copy of st and returns it.
func (fl *flow) newState(st *state) *state {
	p := fl.states.one()
	*p = *st
	return p
}

// with returns a copy of f where v is known to satisfy r, carved from
// memory of the analysis (facts slices are never appended to in place).
func (fl *flow) with(f facts, v vid, r rng) facts {
	i := 0
	for i < len(f) && f[i].v != v {
		i++
	}
	n := len(f) + 1
	if i < len(f) {
		n--
	}
	g := fl.facts.take(n)
	copy(g, f[:i])
	if i < len(f) {
		copy(g[i:], f[i+1:])
	}
	g[n-1] = fact{v, r}
	return g
}

// meetFacts keeps what holds in both a and b.
func (fl *flow) meetFacts(a, b facts) facts {
	if len(a) == 0 || len(b) == 0 {
		return nil
	}
	f := fl.facts.take(len(a))[:0]
	for _, x := range a {
		if rb, ok := b.get(x.v); ok {
			r := x.r.meet(rb)
			if r.lo == 0 && r.hi == 0xffffffff && r.one == 0 && r.zero == 0 && r.nne == 0 && r.nin == 0 {
				continue
			}
			f = append(f, fact{x.v, r})
		}
	}
	if len(f) == 0 {
		return nil
	}
	return f[:len(f):len(f)]
}

// entry returns the state at b's entry, nil when b is unreachable or newer
// than the analysis.
func (fl *flow) entry(b *block) *state {
	if b.id >= len(fl.in) {
		return nil
	}
	return fl.in[b.id]
}
