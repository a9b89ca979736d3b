package optimize

import (
	"math"

	"github.com/wringcap/wring/spec"
)

// maxShareBlocks bounds the graphs share looks at: it compares pairs of
// blocks.
const maxShareBlocks = 1500

// share replaces a block, and the blocks after it, by a jump into code
// that does the same thing elsewhere in the program:
//
//   - a block whose statements, terminator and successors are the same as
//     the end of another block (tail merging);
//   - a region that loads the packet at absolute offsets, where another
//     region has the same shape but loads at X-relative offsets that differ
//     by one constant c, and X is not read after either: the first becomes
//     `ldx #c` and a jump into the second. The IPv6 branch of `tcp port 80`
//     (`ldh [54]; jeq #80; ldh [56]; jeq #80`) thus reuses the IPv4 one
//     (`ldh [x+14]; jeq #80; ldh [x+16]; jeq #80`) with X = 40.
//
// A replacement is made only when it makes the program shorter.
func share(g *graph) bool {
	if len(g.order) > maxShareBlocks || len(g.order) < 4 {
		// Graphs of fewer than four blocks are left alone: they seldom
		// hold a region worth sharing, and this keeps compiling short
		// expressions fast.
		return false
	}
	lv := computeLiveness(g)
	for _, b1 := range g.order {
		if len(b1.stmts) == 0 || b1.kind == termRet && len(b1.stmts) < 2 {
			continue
		}
		for _, b2 := range g.order {
			if b2 == b1 || len(b2.stmts) < len(b1.stmts) {
				continue
			}
			if b1.kind != b2.kind || b1.kind != termGoto && b1.term != b2.term {
				continue
			}
			pre := len(b2.stmts) - len(b1.stmts)
			for _, mode := range []shareMode{identical, absInd, absAbs} {
				probe := matcher{mode: mode}
				if !probe.stmts(b1, b2, pre) {
					continue
				}
				m := g.s.matcher(mode, g.nextID)
				if !m.match(b1, b2, pre) || (mode != identical && !m.cset) || !m.exitsOK(lv) {
					continue
				}
				if mode == absAbs && !m.exclusive(b2) {
					continue
				}
				if g.replace(b1, b2, pre, m) {
					return true
				}
			}
		}
	}
	return false
}

// shareMode says how two regions may differ.
type shareMode uint8

const (
	identical shareMode = iota // not at all
	absInd                     // absolute loads in the first are X-relative loads in the second
	absAbs                     // absolute loads in both, at offsets that differ by c
)

// matcher compares two regions block by block.
type matcher struct {
	mode    shareMode
	c       uint32
	cset    bool
	seen    map[[2]*block]bool
	in1     []bool   // by block id: in the first region
	in2     []bool   // by block id: in the second region
	region  []*block // blocks of the first region
	region2 []*block // blocks of the second region
	exits   []*block // blocks both regions continue at
}

// matcher returns the scratch matcher, emptied, for a graph whose block
// ids are below nblocks.
func (s *scratch) matcher(mode shareMode, nblocks int) *matcher {
	m := &s.match
	if m.seen == nil {
		m.seen = make(map[[2]*block]bool)
	}
	clear(m.seen)
	m.in1 = grow(m.in1, nblocks)
	m.in2 = grow(m.in2, nblocks)
	clear(m.in1)
	clear(m.in2)
	*m = matcher{mode: mode, seen: m.seen, in1: m.in1, in2: m.in2,
		region: m.region[:0], region2: m.region2[:0], exits: m.exits[:0]}
	return m
}

// match reports whether b1 behaves as b2 from its statement at skip on,
// with X = c when offset is set.
func (m *matcher) match(b1, b2 *block, skip int) bool {
	if b1 == b2 {
		if skip != 0 {
			return false
		}
		m.exits = append(m.exits, b1)
		return true
	}
	key := [2]*block{b1, b2}
	if ok, done := m.seen[key]; done && skip == 0 {
		return ok
	}
	if b1.kind != b2.kind || !m.stmts(b1, b2, skip) {
		return false
	}
	switch b1.kind {
	case termRet:
		if b1.term != b2.term {
			return false
		}
	case termCond:
		if b1.term != b2.term || (m.mode != identical && b1.term.Src() == spec.SrcX) {
			return false
		}
	}
	if !m.in1[b1.id] {
		m.in1[b1.id] = true
		m.region = append(m.region, b1)
	}
	if !m.in2[b2.id] {
		m.in2[b2.id] = true
		m.region2 = append(m.region2, b2)
	}
	for i := 0; i < b1.nsucc(); i++ {
		if !m.match(b1.succ[i], b2.succ[i], 0) {
			return false
		}
	}
	m.seen[key] = true
	return true
}

// stmt reports whether s1 in the first region does what s2 does in the
// second.
func (m *matcher) stmt(s1, s2 spec.Instruction) bool {
	if m.mode == identical {
		return s1 == s2
	}
	u1, d1 := useDef(s1)
	u2, d2 := useDef(s2)
	const x = 1 << slotX
	if (u1|d1)&x != 0 || d2&x != 0 || m.mode == absAbs && u2&x != 0 {
		return false
	}
	mode2 := uint16(spec.ModeIND)
	if m.mode == absAbs {
		mode2 = spec.ModeABS
		if isPacketAbs(s1) || isPacketAbs(s2) {
			// Every packet load is rewritten: it must pair with one.
			if !isPacketAbs(s1) || !isPacketAbs(s2) {
				return false
			}
		} else {
			return s1 == s2
		}
	} else if s1 == s2 {
		return true
	}
	if s1.Class() != spec.ClassLD || s1.Mode() != spec.ModeABS || s2.Class() != spec.ClassLD || s2.Mode() != mode2 ||
		s1.Size() != s2.Size() || s1.K >= specialBase || s2.K >= specialBase || s1.K < s2.K {
		return false
	}
	c := s1.K - s2.K
	if m.cset && c != m.c {
		return false
	}
	m.c, m.cset = c, true
	return true
}

// exitsOK reports whether X is dead where the regions continue, so that
// the value the first region's path leaves in X does not matter.
func (m *matcher) exitsOK(lv liveness) bool {
	if m.mode == identical {
		return true
	}
	for _, e := range m.exits {
		if lv[e.pos]&(1<<slotX) != 0 {
			return false
		}
	}
	return true
}

// replace makes b1 jump into b2 (from its statement at pre on), with
// `ldx #c` first when the match was by offset, and keeps the change only if
// the program gets shorter.
func (g *graph) replace(b1, b2 *block, pre int, m *matcher) bool {
	if g.reaches(b2, b1) {
		// b2 runs before b1: jumping back would make a loop.
		return false
	}
	before := g.size()
	save1, save2 := *b1, *b2
	target := b2
	if pre > 0 {
		t := g.newBlock()
		t.stmts = append([]spec.Instruction(nil), b2.stmts[pre:]...)
		t.kind, t.term, t.succ = b2.kind, b2.term, b2.succ
		b2.stmts = b2.stmts[:pre:pre]
		b2.kind, b2.succ = termGoto, [2]*block{t}
		target = t
	}
	// absAbs: the second region's loads become X-relative, with X = 0
	// on its own paths.
	type savedStmts struct {
		b     *block
		stmts []spec.Instruction
	}
	var saved []savedStmts
	if m.mode == absAbs {
		if pre == 0 {
			t := g.newBlock()
			t.stmts = b2.stmts
			t.kind, t.term, t.succ = b2.kind, b2.term, b2.succ
			b2.stmts = nil
			b2.kind, b2.succ = termGoto, [2]*block{t}
			target = t
		}
		if !g.xStartValue(b2, true) {
			b2.stmts = append(b2.stmts, spec.Stmt(spec.ClassLDX|spec.SizeW|spec.ModeIMM, 0))
		}
		for _, r := range m.region2 {
			if r == b2 {
				continue
			}
			saved = append(saved, savedStmts{r, r.stmts})
			r.stmts = toIndirect(r.stmts)
		}
		target.stmts = toIndirect(target.stmts)
	}
	b1.stmts = nil
	if m.mode != identical {
		b1.stmts = []spec.Instruction{spec.Stmt(spec.ClassLDX|spec.SizeW|spec.ModeIMM, m.c)}
	}
	b1.kind, b1.succ = termGoto, [2]*block{target}
	g.refresh()
	// Setting X earlier, where it is dead, can spare the jump: try it
	// for the blocks this made (see hoist).
	var undo undoLog
	if isConstX(b1) {
		g.hoistConstX(b1, &undo)
	}
	if m.mode == absAbs && isConstX(b2) && len(b2.preds) > 0 {
		g.hoistConstX(b2, &undo)
	}
	// Blocks left empty are bypassed, so they cost no `ja`.
	for _, b := range [2]*block{b1, b2} {
		if len(b.stmts) == 0 && b.kind == termGoto && b != g.entry && len(b.preds) > 0 {
			g.bypass(b, &undo)
		}
	}
	if g.size() < before {
		return true
	}
	undo.restore()
	*b1, *b2 = save1, save2
	for _, s := range saved {
		s.b.stmts = s.stmts
	}
	g.refresh()
	return false
}

// isPacketAbs reports whether ins is an absolute load from the packet.
func isPacketAbs(ins spec.Instruction) bool {
	return ins.Class() == spec.ClassLD && ins.Mode() == spec.ModeABS && ins.K < specialBase
}

// toIndirect returns a copy of stmts with absolute packet loads made
// X-relative (same offset).
func toIndirect(stmts []spec.Instruction) []spec.Instruction {
	out := append([]spec.Instruction(nil), stmts...)
	for i, s := range out {
		if isPacketAbs(s) {
			out[i].Op = spec.ClassLD | s.Size() | spec.ModeIND
		}
	}
	return out
}

// exclusive reports whether the second region, entered at b2, is entered
// nowhere else, so that its loads can be rewritten.
func (m *matcher) exclusive(b2 *block) bool {
	for _, r := range m.region2 {
		if r == b2 {
			continue
		}
		if m.in1[r.id] {
			return false
		}
		for _, p := range r.preds {
			if !m.in2[p.id] {
				return false
			}
		}
	}
	return !m.in1[b2.id]
}

// size returns the length of the program as laid out now.
func (g *graph) size() int {
	p, err := g.linearize()
	if err != nil {
		return math.MaxInt
	}
	return len(p)
}

// reaches reports whether a path leads from a to b.
func (g *graph) reaches(a, b *block) bool {
	g.epoch++
	stack := append(g.s.post[:0], a)
	a.mark = g.epoch
	defer func() { g.s.post = stack[:0] }()
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if x == b {
			return true
		}
		for i := 0; i < x.nsucc(); i++ {
			if s := x.succ[i]; s.mark != g.epoch {
				s.mark = g.epoch
				stack = append(stack, s)
			}
		}
	}
	return false
}

// stmts reports whether b1's statements match b2's from skip on.
func (m *matcher) stmts(b1, b2 *block, skip int) bool {
	if len(b2.stmts)-skip != len(b1.stmts) {
		return false
	}
	for i, s1 := range b1.stmts {
		if !m.stmt(s1, b2.stmts[skip+i]) {
			return false
		}
	}
	return true
}
