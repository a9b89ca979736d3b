package fuel

import "github.com/wringcap/wring/wasm/internal/binary"

// Unrolling small innermost loops before metering them.
//
// A charge at a loop header costs a compare, a branch and a subtraction per
// iteration. On a loop of a few machine instructions (a byte scan) that is
// about a tenth of the iteration. unrollLoops copies the body of such a loop k
// times, so the one charge at the header pays for k iterations:
//
//	loop bt                      block bt                    ;; X
//	  BODY                  =>     loop bt                   ;; L
//	end                              charge (k bodies)
//	                                 block                   ;; C(k-1)
//	                                   ...
//	                                     block               ;; C1
//	                                       block bt BODY1 end; br X
//	                                     end
//	                                     block bt BODY2 end; br X
//	                                   ...
//	                                 end
//	                                 block bt BODYk end
//	                               end
//	                             end
//
// In copy j < k the label the body gave its loop names C(j), whose end is the
// start of copy j+1: a branch back to the loop header continues with the
// next copy. Falling off the end of copy j (the loop exiting with its
// results) branches to X; the block of the loop's type around each copy
// checks, as the loop's end did, that the body leaves exactly its results.
// Branches to labels outside the loop gain the labels added in between. The
// last copy sits in L, so its branches to the header go back to the header,
// which charges again. The rewritten code does what the original does, one
// iteration per copy.
//
// Accounting: the charge at L is the size of the k copies (plus the added
// block, br and end instructions, at most 3 per copy), so it is still at least
// the instructions executed between two passes through the header, and every
// pass through the header (every k iterations, or fewer when the loop exits)
// is still charged. A loop entered for m iterations is charged ceil(m/k)
// times the unrolled size: at most (m+k-1)/m times the cost of its m
// iterations with a charge at each one, so at most k times for a loop that
// exits in its first iteration and tending to 1 for long loops.
//
// Only loops without nested loops or calls, with a body of at most
// unrollMaxBody instructions, an empty or one-value block type, and branch
// depths all in range are unrolled, and the code grows by at most
// unrollBudget bytes plus a quarter of the code section.

const (
	// unrollTarget is the number of body instructions the copies of an
	// unrolled loop add up to, at most: k = unrollTarget / body size.
	unrollTarget = 192
	// unrollMaxK caps the number of copies.
	unrollMaxK = 8
	// unrollMaxBody is the largest body unrolled (k = 2).
	unrollMaxBody = unrollTarget / 2
	// unrollBudget is the growth allowed in any module, in bytes, beyond a
	// quarter of its code section.
	unrollBudget = 16 << 10
)

// loopSpan is an innermost loop chosen for unrolling.
type loopSpan struct {
	at   int  // offset of the loop opcode
	body int  // offset of the first instruction of the body
	end  int  // offset of the loop's end opcode
	bt   byte // block type: empty or one value type
	k    int  // copies
	// landings are the br_if instructions of the body that leave the loop,
	// in order: u.landings[landings:landings+m].
	landings, m int
}

// landing is a br_if leaving an unrolled loop. In each copy it branches to
// a block of its own, whose end (reached by nothing else) branches on to the
// original target: a conditional branch to a block with several
// predecessors is a critical edge, which the compiler splits and then no
// longer fuses with its compare (each copy's exit test would cost a setcc, a
// zero extension and a test more than the original's compare and jump).
type landing struct {
	label byte   // block type of the target label's values
	rel   uint32 // depth of the target counted from the loop's body (>= 1)
}

// unroller plans and writes the unrolling of one function body at a time.
type unroller struct {
	spans    []loopSpan
	landings []landing
	open     []openBlock
	loops    []int // indices in open of the open loops, innermost last
	budget   int   // bytes the module may still grow by
	// added holds the offsets in the unrolled body of the instructions
	// the unrolling added (blocks, ends and branches): the metering does
	// not charge them, so a charge counts the module's own instructions.
	added []int
}

type openBlock struct {
	loop     bool
	at, body int
	bt       byte // 0 when the block type is a type index
	label    byte // block type of the values a branch to it carries; 0 if none fits
	// first is the instruction count of the function when the block
	// opened: at its end, the count minus first is the number of
	// instructions of its body, nested ones and the end included.
	first int
	// inner is set when the block holds a loop or a call; a block's end
	// passes it to the enclosing block, so each instruction updates one
	// block, not every open one (which made the plan quadratic in the
	// nesting depth).
	inner     bool
	unfitting bool // leaves to a label of no one-byte type, or has too many landings
	landings  int  // index in u.landings of its first landing
}

// maxLandings caps the exits of an unrolled loop.
const maxLandings = 8

// unroll returns fn, a function body (local declarations and code) whose
// function label carries values of block type result (0 if none fits), with
// its small innermost loops unrolled, appended to dst; or fn itself (and dst
// unchanged) when it has no such loop or does not decode (the metering scan
// reports what is wrong with it).
func (u *unroller) unroll(dst, fn []byte, result byte) ([]byte, []byte) {
	u.added = u.added[:0]
	if !u.plan(fn, result) {
		return dst, fn
	}
	start := len(dst)
	add := func() { u.added = append(u.added, len(dst)-start) }
	prev := 0
	for _, sp := range u.spans {
		dst = append(dst, fn[prev:sp.at]...)
		add()
		dst = append(dst, binary.OpBlock, sp.bt, binary.OpLoop, sp.bt)
		for j := 1; j < sp.k; j++ {
			add()
			dst = append(dst, binary.OpBlock, binary.BlockEmpty)
		}
		lands := u.landings[sp.landings : sp.landings+sp.m]
		m := uint32(sp.m)
		for j := 1; j <= sp.k; j++ {
			after := uint32(sp.k-j) + 1 // C(j) .. C(k-1), L: labels between the copy and X
			for i := len(lands) - 1; i >= 0; i-- {
				add()
				dst = append(dst, binary.OpBlock, lands[i].label)
			}
			// V: a block of the loop's type around the copy checks, as
			// the loop's end did, that the body leaves exactly its
			// results (the br to X below would hide extra values).
			add()
			dst = append(dst, binary.OpBlock, sp.bt)
			dst = appendBody(dst, fn[sp.body:sp.end], m+1, m+after+1, 1)
			add()
			dst = append(dst, binary.OpEnd)
			if j < sp.k || m > 0 {
				add()
				dst = appendU32(append(dst, opBr), m+after) // to X
			}
			for i, l := range lands {
				add()
				dst = append(dst, binary.OpEnd)
				add()
				dst = appendU32(append(dst, opBr), m-uint32(i)-1+after+l.rel)
			}
			if j < sp.k {
				add()
				dst = append(dst, binary.OpEnd)
			}
		}
		// L's end stands for the loop's own; X's is added.
		dst = append(dst, binary.OpEnd)
		add()
		dst = append(dst, binary.OpEnd)
		prev = sp.end + 1
	}
	dst = append(dst, fn[prev:]...)
	u.budget -= len(dst) - start - len(fn)
	return dst, dst[start:]
}

// plan finds the loops of fn to unroll, within the budget. It reports false
// when there are none.
func (u *unroller) plan(fn []byte, result byte) bool {
	u.spans, u.open, u.landings, u.loops = u.spans[:0], u.open[:0], u.landings[:0], u.loops[:0]
	r := binary.At(fn, 0)
	groups := r.U32()
	for g := uint32(0); g < groups && r.Err == nil; g++ {
		r.U32()
		r.Byte()
	}
	if r.Err != nil {
		return false
	}
	// The function's own label.
	u.open = append(u.open, openBlock{unfitting: true, label: result})
	grow := 0
	count := 0 // instructions decoded
	for len(u.open) > 0 {
		start := r.Pos
		op, err := instr(&r)
		if err != nil {
			return false
		}
		count++
		top := &u.open[len(u.open)-1]
		switch op {
		case binary.OpBlock, binary.OpLoop, binary.OpIf:
			b := openBlock{loop: op == binary.OpLoop, at: start, body: r.Pos, landings: len(u.landings), first: count}
			if c := fn[start+1]; c == binary.BlockEmpty || isValType(c) {
				b.bt, b.label = c, c
				if b.loop {
					b.label = binary.BlockEmpty // a loop's label takes its parameters
				}
			}
			if op == binary.OpLoop {
				top.inner = true
				u.loops = append(u.loops, len(u.open))
			}
			u.open = append(u.open, b)
		case opCall, opCallInd:
			top.inner = true
		case opBr, opBrIf, opBrTable:
			lr := binary.At(fn, start+1)
			n := uint32(0)
			if op == opBrTable {
				n = lr.U32()
			}
			for i := uint32(0); i <= n && lr.Err == nil; i++ {
				d := lr.U32()
				if uint64(d) >= uint64(len(u.open)) {
					return false
				}
				if op != opBrIf {
					continue
				}
				// A br_if leaving the innermost open loop lands in a
				// block of its own in each copy.
				target := len(u.open) - 1 - int(d)
				if len(u.loops) == 0 {
					continue
				}
				l := u.loops[len(u.loops)-1]
				if l <= target {
					continue
				}
				lp := &u.open[l]
				t := u.open[target].label
				if t == 0 || len(u.landings)-lp.landings >= maxLandings {
					lp.unfitting = true
					continue
				}
				u.landings = append(u.landings, landing{label: t, rel: uint32(l - target)})
			}
		case binary.OpEnd:
			b := u.open[len(u.open)-1]
			u.open = u.open[:len(u.open)-1]
			if b.loop {
				u.loops = u.loops[:len(u.loops)-1]
			}
			if len(u.open) > 0 && (b.loop || b.inner) {
				u.open[len(u.open)-1].inner = true
			}
			if !b.loop || b.unfitting || b.inner || b.bt == 0 {
				break
			}
			size := count - b.first - 1 // without the end
			if size < 1 || size > unrollMaxBody {
				break
			}
			k := min(unrollMaxK, unrollTarget/size)
			m := len(u.landings) - b.landings
			// Each copy adds at most a block (2 bytes), a br (6) and an
			// end, and per landing a block, an end and a br; the body
			// grows by at most 4 bytes per branch.
			cost := (k-1)*(start-b.body) + k*(13+m*9) + 2
			if k < 2 || grow+cost > u.budget {
				break
			}
			grow += cost
			u.spans = append(u.spans, loopSpan{at: b.at, body: b.body, end: start, bt: b.bt, k: k, landings: b.landings, m: m})
		}
	}
	return len(u.spans) > 0 && r.Pos == len(fn)
}

// appendBody appends a copy of a loop body: a branch to the loop's label
// gains inner (the blocks around the copy), the i-th br_if leaving the loop
// (from 0) goes to the label land+i outside the body, and other branches
// leaving the loop gain outer labels.
func appendBody(dst, body []byte, inner, outer, land uint32) []byte {
	r := binary.At(body, 0)
	nest := uint32(0) // blocks opened inside the body
	prev := 0
	landed := uint32(0)
	for !r.Done() {
		start := r.Pos
		op, _ := instr(&r) // decoded once already by plan
		switch op {
		case binary.OpBlock, binary.OpLoop, binary.OpIf:
			nest++
		case binary.OpEnd:
			nest--
		case opBr, opBrIf, opBrTable:
			dst = append(dst, body[prev:start]...)
			dst = append(dst, op)
			lr := binary.At(body, start+1)
			n := uint32(0)
			if op == opBrTable {
				n = lr.U32()
				dst = appendU32(dst, n)
			}
			for i := uint32(0); i <= n; i++ {
				d := lr.U32()
				switch {
				case d == nest:
					d += inner
				case d > nest && op == opBrIf:
					d = nest + land + landed
					landed++
				case d > nest:
					d += outer
				}
				dst = appendU32(dst, d)
			}
			prev = r.Pos
		}
	}
	return append(dst, body[prev:]...)
}
