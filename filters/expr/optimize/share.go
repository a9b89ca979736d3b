package optimize

import "github.com/wringcap/wring/spec"

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
	if len(g.order) > maxShareBlocks {
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
			for _, offset := range []bool{false, true} {
				m := &matcher{offset: offset, seen: map[[2]*block]bool{}, region: map[*block]bool{}}
				pre := len(b2.stmts) - len(b1.stmts)
				if !m.match(b1, b2, pre) || (offset && !m.cset) || !m.exitsOK(lv) {
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

// matcher compares two regions block by block.
type matcher struct {
	offset bool // loads of the first region may be X-relative loads in the second
	c      uint32
	cset   bool
	seen   map[[2]*block]bool
	region map[*block]bool // blocks of the first region
	exits  []*block        // blocks both regions continue at
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
	if len(b2.stmts)-skip != len(b1.stmts) || b1.kind != b2.kind {
		return false
	}
	for i, s1 := range b1.stmts {
		if !m.stmt(s1, b2.stmts[skip+i]) {
			return false
		}
	}
	switch b1.kind {
	case termRet:
		if b1.term != b2.term {
			return false
		}
	case termCond:
		if b1.term != b2.term || (m.offset && b1.term.Src() == spec.SrcX) {
			return false
		}
	}
	m.region[b1] = true
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
	if !m.offset {
		return s1 == s2
	}
	u1, d1 := useDef(s1)
	_, d2 := useDef(s2)
	const x = 1 << slotX
	if (u1|d1)&x != 0 || d2&x != 0 {
		return false
	}
	if s1 == s2 {
		return true
	}
	if s1.Class() != spec.ClassLD || s1.Mode() != spec.ModeABS || s2.Class() != spec.ClassLD || s2.Mode() != spec.ModeIND ||
		s1.Size() != s2.Size() || s1.K >= specialBase || s1.K < s2.K {
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
	if !m.offset {
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
	if reaches(b2, b1) {
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
	b1.stmts = nil
	if m.offset {
		b1.stmts = []spec.Instruction{spec.Stmt(spec.ClassLDX|spec.SizeW|spec.ModeIMM, m.c)}
	}
	b1.kind, b1.succ = termGoto, [2]*block{target}
	g.refresh()
	if g.size() < before {
		return true
	}
	*b1, *b2 = save1, save2
	g.refresh()
	return false
}

// size estimates the program's length: every terminator, unconditional
// jumps included, counts one.
func (g *graph) size() int {
	n := 0
	for _, b := range g.order {
		n += len(b.stmts) + 1
	}
	return n
}

// reaches reports whether a path leads from a to b.
func reaches(a, b *block) bool {
	seen := map[*block]bool{}
	var walk func(x *block) bool
	walk = func(x *block) bool {
		if x == b {
			return true
		}
		if seen[x] {
			return false
		}
		seen[x] = true
		for i := 0; i < x.nsucc(); i++ {
			if walk(x.succ[i]) {
				return true
			}
		}
		return false
	}
	return walk(a)
}
