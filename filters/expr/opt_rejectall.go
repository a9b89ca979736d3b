package expr

import "github.com/wringcap/wring/spec"

// Optimization: the part of libpcap's optimizer that decides whether an
// expression is refused for rejecting all packets. The optimizer proper
// is the optimize subpackage.

// provesReject reports whether the reasoning of libpcap 1.10's optimizer
// shows that no packet reaches accept, the case in which libpcap refuses
// an expression with "expression rejects all packets". That optimizer
// knows constants (loads of immediates and arithmetic on them) and the
// outcome of tests made before on the same value (the same load is
// numbered alike wherever it occurs) with the same operation and operand,
// or of an equality found true with another constant, when those tests
// lie on every path to the edge (its edge dominators): such an edge is
// moved past the test whose outcome it knows. Where paths merge, only
// what all of them know remains. It does not know value ranges, nor
// that a load past the end of every packet fails, as wring's own
// optimizer does: an expression that only wring's optimizer reduces to
// "ret #0" compiles, as it does with libpcap, to a program that rejects
// every packet.
//
// The blocks are visited once, in topological order; each edge into a
// block first tries to pass through it, with what it knows, and the rest
// merge.
func provesReject(head, accept *block) bool {
	var order []*block
	seen := map[*block]bool{}
	var visit func(b *block)
	visit = func(b *block) {
		if b == nil || seen[b] {
			return
		}
		seen[b] = true
		if !b.ret {
			visit(b.jt)
			if b.cond {
				visit(b.jf)
			}
		}
		order = append(order, b)
	}
	visit(head)
	if !seen[accept] {
		return true
	}
	v := &valueTable{ids: map[valueKey]int32{}, consts: map[int32]uint32{}}
	var st0 vstate
	for i := range st0 {
		st0[i] = v.fresh()
	}
	// The edges into each block are a list in one arena (in: the index
	// of a block's last edge plus one); edges, rest are reused per block.
	arena := make([]vedge, 0, 2*len(order)+1)
	in := make(map[*block]int, len(order))
	add := func(to *block, e vedge) {
		e.prev = in[to]
		arena = append(arena, e)
		in[to] = len(arena)
	}
	add(head, vedge{st: st0})
	var edges, rest []int // arena indices
	for i := len(order) - 1; i >= 0; i-- {
		b := order[i]
		edges = edges[:0]
		for j := in[b]; j != 0; j = arena[j-1].prev {
			edges = append(edges, j-1)
		}
		for l, r := 0, len(edges)-1; l < r; l, r = l+1, r-1 {
			edges[l], edges[r] = edges[r], edges[l] // arrival order
		}
		if len(edges) == 0 {
			continue
		}
		if b == accept {
			return false
		}
		if b.ret {
			continue
		}
		rest = rest[:0]
		for _, ei := range edges {
			e := &arena[ei]
			st := e.st
			for _, s := range b.stmts {
				v.step(&st, s)
			}
			if !b.cond {
				add(b.jt, vedge{st: st, facts: e.facts})
				continue
			}
			a, op, o := v.test(b, &st)
			if known, out := v.decide(a, op, o, e.facts); known {
				to := b.jf
				if out {
					to = b.jt
				}
				add(to, vedge{st: st, facts: e.facts})
				continue
			}
			rest = append(rest, ei)
		}
		if len(rest) == 0 {
			continue
		}
		st := arena[rest[0]].st
		facts := arena[rest[0]].facts
		for _, ei := range rest[1:] {
			e := &arena[ei]
			for k := range st {
				if st[k] != e.st[k] {
					st[k] = v.fresh()
				}
			}
			facts = intersect(facts, e.facts)
		}
		for _, s := range b.stmts {
			v.step(&st, s)
		}
		a, op, o := v.test(b, &st)
		add(b.jt, vedge{st: st, facts: facts.with(fact{a, op, o, true})})
		add(b.jf, vedge{st: st, facts: facts.with(fact{a, op, o, false})})
	}
	return true
}

// vedge is what is known on an edge into a block.
type vedge struct {
	st    vstate
	facts *factList
	prev  int // the block's previous edge in the arena, plus one (0: none)
}

// factList is what is known on a path, newest first. Lists share their
// tails: a block adds its test's outcome to the list it received in
// constant time, where copying it costs O(n) per block and O(n²) for a
// chain of n tests. A list holds each fact at most once (a test whose
// outcome is known adds none), and in no meaningful order.
type factList struct {
	f    fact
	next *factList
	n    int // length of the list from here
}

func (l *factList) len() int {
	if l == nil {
		return 0
	}
	return l.n
}

// with returns l with f in front.
func (l *factList) with(f fact) *factList { return &factList{f: f, next: l, n: l.len() + 1} }

// intersect returns the facts of a that are also in b. The lists share
// a tail from the block where their paths parted; only the parts before
// it are compared, through a set.
func intersect(a, b *factList) *factList {
	pa, pb := a, b
	for pa.len() > pb.len() {
		pa = pa.next
	}
	for pb.len() > pa.len() {
		pb = pb.next
	}
	for pa != pb {
		pa, pb = pa.next, pb.next
	}
	shared := pa
	inB := map[fact]bool{}
	for l := b; l != shared; l = l.next {
		inB[l.f] = true
	}
	var keep []fact
	for l := a; l != shared; l = l.next {
		if inB[l.f] {
			keep = append(keep, l.f)
		}
	}
	out := shared
	for i := len(keep) - 1; i >= 0; i-- {
		out = out.with(keep[i])
	}
	return out
}

// test returns the value numbers of a block's conditional jump: A, the
// operation, and the operand. libpcap 1.10 compiles a relation
// (proto[x] op y) with the right side in X, and an equality as "sub x;
// jeq #0"; its optimizer rewrites them to compare with constants, in
// time to relate them to other relations ("ip[9] = 6 and ip[9] = 17"
// rejects all packets) but not, as seen, to the tests of primitives
// ("ip and ip[0] & 0xf0 = 0x60" on RAW compiles): the value a relation
// tests is numbered apart.
func (v *valueTable) test(b *block, st *vstate) (a int32, op uint16, o int32) {
	a, op = st[atomA], b.op
	if b.op&spec.SrcX != 0 {
		o = st[atomX]
	} else {
		o = v.constant(b.k)
	}
	if _, k := v.consts[a]; b.rel && !k {
		a = v.id(valueKey{op: relTag, a: a})
	}
	return a, op, o
}

// relTag numbers the value a relation tests (not an opcode).
const relTag = 0xfffe

// Atoms of the value state: scratch memory, then A and X.
const (
	atomA = spec.MemWords
	atomX = spec.MemWords + 1
)

type vstate [spec.MemWords + 2]int32

type valueKey struct {
	op   uint16
	k    uint32
	a, b int32
}

// valueTable numbers values: equal keys, equal numbers.
type valueTable struct {
	ids    map[valueKey]int32
	consts map[int32]uint32
	n      int32
}

func (v *valueTable) fresh() int32 { v.n++; return v.n }

func (v *valueTable) id(k valueKey) int32 {
	if id, ok := v.ids[k]; ok {
		return id
	}
	id := v.fresh()
	v.ids[k] = id
	return id
}

func (v *valueTable) constant(k uint32) int32 {
	id := v.id(valueKey{op: spec.ClassLD | spec.ModeIMM, k: k})
	v.consts[id] = k
	return id
}

// step updates the state with one statement.
func (v *valueTable) step(st *vstate, s ins) {
	if s.Op == abortOp {
		st[atomA] = v.id(valueKey{op: uint16(s.Jt), k: s.K})
		return
	}
	switch s.Class() {
	case spec.ClassLD, spec.ClassLDX:
		dst := atomA
		if s.Class() == spec.ClassLDX {
			dst = atomX
		}
		switch s.Mode() {
		case spec.ModeIMM:
			st[dst] = v.constant(s.K)
		case spec.ModeMEM:
			if s.K < spec.MemWords {
				st[dst] = st[s.K]
			} else {
				st[dst] = v.fresh()
			}
		case spec.ModeIND:
			st[dst] = v.id(valueKey{op: s.Op, k: s.K, a: st[atomX]})
		default: // ABS, LEN, MSH
			st[dst] = v.id(valueKey{op: s.Op, k: s.K})
		}
	case spec.ClassST:
		if s.K < spec.MemWords {
			st[s.K] = st[atomA]
		}
	case spec.ClassSTX:
		if s.K < spec.MemWords {
			st[s.K] = st[atomX]
		}
	case spec.ClassMISC:
		if s.Op&spec.MiscTXA != 0 {
			st[atomA] = st[atomX]
		} else {
			st[atomX] = st[atomA]
		}
	case spec.ClassALU:
		st[atomA] = v.alu(s, st[atomA], st[atomX])
	default:
		st[atomA] = v.fresh()
	}
}

func (v *valueTable) alu(s ins, a, x int32) int32 {
	op := s.Operation()
	var o int32
	var ok bool
	var k uint32
	if s.Src() == spec.SrcX {
		o = x
		k, ok = v.consts[x]
	} else {
		o, k, ok = v.constant(s.K), s.K, true
	}
	if ok && k == 0 && (op == spec.ALUAnd || op == spec.ALUMul) {
		return v.constant(0)
	}
	if ca, aok := v.consts[a]; aok && ok {
		var r uint32
		switch op {
		case spec.ALUAdd:
			r = ca + k
		case spec.ALUSub:
			r = ca - k
		case spec.ALUMul:
			r = ca * k
		case spec.ALUDiv:
			if k == 0 {
				return v.fresh()
			}
			r = ca / k
		case spec.ALUMod:
			if k == 0 {
				return v.fresh()
			}
			r = ca % k
		case spec.ALUAnd:
			r = ca & k
		case spec.ALUOr:
			r = ca | k
		case spec.ALUXor:
			r = ca ^ k
		case spec.ALULsh:
			r = ca << (k & 31)
		case spec.ALURsh:
			r = ca >> (k & 31)
		case spec.ALUNeg:
			r = -ca
		default:
			return v.fresh()
		}
		return v.constant(r)
	}
	return v.id(valueKey{op: s.Op, a: a, b: o})
}

// fact is the outcome of a test made on a path.
type fact struct {
	a       int32
	op      uint16 // jump opcode without the source bit
	o       int32
	outcome bool
}

// decide tells whether the test (a op o) has a known outcome.
func (v *valueTable) decide(a int32, op uint16, o int32, facts *factList) (known, outcome bool) {
	ca, aok := v.consts[a]
	co, ook := v.consts[o]
	if aok && ook {
		switch op & 0xf0 {
		case spec.JumpJEQ:
			return true, ca == co
		case spec.JumpJGT:
			return true, ca > co
		case spec.JumpJGE:
			return true, ca >= co
		case spec.JumpJSET:
			return true, ca&co != 0
		}
	}
	for l := facts; l != nil; l = l.next {
		f := l.f
		if f.a != a || f.op != op {
			continue
		}
		if f.o == o {
			return true, f.outcome
		}
		if f.outcome && op&0xf0 == spec.JumpJEQ && ook {
			if _, fk := v.consts[f.o]; fk {
				return true, false
			}
		}
	}
	return false, false
}
