package optimize

import "github.com/wringcap/wring/spec"

// fold propagates values through the graph and simplifies every statement
// and jump with them: a statement that stores a value already in its
// destination disappears, a value known to be constant is loaded as one, a
// value already in another register is copied from it, an operation on a
// constant X uses the constant, and a conditional jump whose outcome is
// known becomes unconditional.
func fold(g *graph) bool {
	fl := analyze(g)
	changed := false
	for _, b := range g.order {
		in := fl.entry(b)
		if in == nil {
			continue
		}
		if fl.foldBlock(b, in) {
			changed = true
		}
	}
	return changed
}

func (fl *flow) foldBlock(b *block, in *state) bool {
	changed := fl.dropNoOpRuns(b, in)
	st := *in
	out := b.stmts[:0]
	for _, ins := range b.stmts {
		dst, v, fail, _ := fl.value(&st, ins)
		if fail == always {
			// The run ends here on every packet: nothing after matters.
			b.stmts = nil
			b.kind, b.term, b.succ = termRet, spec.Stmt(spec.ClassRET|spec.RetK, 0), [2]*block{}
			return true
		}
		if st.reg[dst] == v && (fail == never || fl.n.kind(v) != vPhi) {
			// Already there: the same computation ran on every path
			// (values of loads and divisions only come from running them).
			changed = true
			continue
		}
		if fail == maybe && fl.held(&st, v) {
			fail = never
		}
		if r, ok := fl.rewrite(&st, ins, dst, v, fail); ok {
			if r != ins {
				changed = true
			}
			ins = r
		}
		fl.exec(&st, ins)
		out = append(out, ins)
	}
	b.stmts = out
	switch b.kind {
	case termCond:
		j := b.term
		if j.Src() == spec.SrcX {
			if c, ok := fl.n.constOf(st.reg[slotX]); ok {
				b.term = spec.Jump(spec.ClassJMP|j.Operation()|spec.SrcK, c, 0, 0)
				changed = true
			}
		}
		if taken, known := fl.decide(&st, b.term); known {
			s := b.succ[1]
			if taken {
				s = b.succ[0]
			}
			b.kind, b.succ = termGoto, [2]*block{s}
			changed = true
		} else if b.succ[0] == b.succ[1] {
			b.kind, b.succ[1] = termGoto, nil
			changed = true
		}
	case termRet:
		if b.term.Op == spec.ClassRET|spec.RetA {
			if c, ok := fl.n.constOf(st.reg[slotA]); ok {
				b.term = spec.Stmt(spec.ClassRET|spec.RetK, c)
				changed = true
			}
		}
	}
	return changed
}

// rewrite returns a cheaper statement computing v into dst, if there is
// one. A statement that can end the run is only replaced when it cannot.
func (fl *flow) rewrite(st *state, ins spec.Instruction, dst int, v vid, fail effect) (spec.Instruction, bool) {
	r := fl.cheaper(st, ins, dst, v, fail)
	return r, r != ins
}

func (fl *flow) cheaper(st *state, ins spec.Instruction, dst int, v vid, fail effect) spec.Instruction {
	n := fl.n
	if ins.Class() == spec.ClassLD && ins.Mode() == spec.ModeIND {
		if off, ok := fl.indConst(st, ins); ok {
			// Same load, same bounds check, without X.
			abs := spec.Stmt(spec.ClassLD|ins.Size()|spec.ModeABS, off)
			if fail != never {
				return abs
			}
			ins = abs
		}
	}
	if fail != never {
		// Keep the check, but an X known constant still simplifies
		// a division.
		if ins.Class() == spec.ClassALU && ins.Src() == spec.SrcX {
			if c, ok := n.constOf(st.reg[slotX]); ok && c != 0 {
				return spec.Stmt(spec.ClassALU|ins.Operation()|spec.SrcK, c)
			}
		}
		return ins
	}
	if dst >= slotM {
		return ins // stores have no cheaper form
	}
	if c, ok := n.constOf(v); ok {
		cls := uint16(spec.ClassLD)
		if dst == slotX {
			cls = spec.ClassLDX
		}
		return spec.Stmt(cls|spec.SizeW|spec.ModeIMM, c)
	}
	if isMove(ins) {
		return ins
	}
	// Copy the value from another register that holds it.
	if dst == slotA && st.reg[slotX] == v {
		return spec.Stmt(spec.ClassMISC|spec.MiscTXA, 0)
	}
	if dst == slotX && st.reg[slotA] == v {
		return spec.Stmt(spec.ClassMISC|spec.MiscTAX, 0)
	}
	if ins.Class() == spec.ClassLD || ins.Class() == spec.ClassLDX {
		for m := 0; m < spec.MemWords; m++ {
			if st.reg[slotM+m] == v && v != fl.init[slotM+m] {
				if dst == slotA {
					return spec.Stmt(spec.ClassLD|spec.SizeW|spec.ModeMEM, uint32(m))
				}
				return spec.Stmt(spec.ClassLDX|spec.SizeW|spec.ModeMEM, uint32(m))
			}
		}
	}
	if ins.Class() == spec.ClassALU && ins.Src() == spec.SrcX {
		if c, ok := n.constOf(st.reg[slotX]); ok {
			op := ins.Operation()
			if (op == spec.ALULsh || op == spec.ALURsh) && c >= 32 {
				return spec.Stmt(spec.ClassLD|spec.SizeW|spec.ModeIMM, 0)
			}
			return spec.Stmt(spec.ClassALU|op|spec.SrcK, c)
		}
	}
	return ins
}

// isMove reports whether ins copies a register or slot or loads a constant.
func isMove(ins spec.Instruction) bool {
	switch ins.Class() {
	case spec.ClassMISC:
		return true
	case spec.ClassLD, spec.ClassLDX:
		return ins.Mode() == spec.ModeMEM || ins.Mode() == spec.ModeIMM
	}
	return false
}

// held reports whether a register holds v, a value that only a statement
// that ran without ending the run can have produced.
func (fl *flow) held(st *state, v vid) bool {
	if fl.n.kind(v) == vPhi {
		return false
	}
	for s, r := range st.reg {
		if r == v && !(s >= slotM && r == fl.init[s]) {
			return true
		}
	}
	return false
}

// maxRun bounds the length of the statement runs dropNoOpRuns looks at.
const maxRun = 64

// dropNoOpRuns removes runs of statements that leave every register and
// slot as it was and cannot end the run, such as a reload and re-mask of a
// value A already holds (`ldb [21]; and #0x1f` after the same two).
func (fl *flow) dropNoOpRuns(b *block, in *state) bool {
	n := len(b.stmts)
	if n < 2 {
		return false
	}
	if cap(fl.runRegs) < n+1 {
		fl.runRegs = make([][nSlots]vid, n+1)
		fl.runSafe = make([]bool, n)
	}
	regs := fl.runRegs[:n+1]
	safe := fl.runSafe[:n]
	st := *in
	for i, ins := range b.stmts {
		regs[i] = st.reg
		_, v, fail, _ := fl.value(&st, ins)
		if fail == maybe && fl.held(&st, v) {
			fail = never
		}
		safe[i] = fail == never
		if fl.exec(&st, ins) == always {
			return false
		}
	}
	regs[n] = st.reg
	var keepBuf [64]bool
	keep := keepBuf[:0]
	if n > len(keepBuf) {
		keep = make([]bool, n)
	} else {
		keep = keepBuf[:n]
	}
	for i := range keep {
		keep[i] = true
	}
	changed := false
	for i := 0; i < n; {
		best := -1
		for j := i + 1; j <= n && j-i <= maxRun && safe[j-1]; j++ {
			if regs[j] == regs[i] {
				best = j
			}
		}
		if best < 0 {
			i++
			continue
		}
		for k := i; k < best; k++ {
			keep[k] = false
		}
		changed = true
		i = best
	}
	if !changed {
		return false
	}
	out := b.stmts[:0]
	for i, ins := range b.stmts {
		if keep[i] {
			out = append(out, ins)
		}
	}
	b.stmts = out
	return true
}
