package optimize

import (
	"sync"

	"github.com/wringcap/wring/spec"
)

// scratch is the memory one optimization uses, kept in a pool so that
// compiling many expressions does not allocate it again each time: the
// blocks, the value numbering and the storage of the analyses. Nothing in
// it outlives the call to Run that took it.
type scratch struct {
	g      graph
	num    numbering
	fl     flow
	blocks chunks[block]
	states chunks[state]
	facts  chunks[fact]
	stmts  []spec.Instruction // the statements of the built blocks
	leader []bool
	at     []*block
	post   []*block          // relink's depth-first order
	stack  []walk            // relink's explicit stack
	live   liveness          // computeLiveness's result
	zero   []bool            // returnsZero's marks
	effs   []effect          // deadcode's per-statement effects
	keep   []bool            // deadcode's kept statements
	idx    []int             // linearize: layout position by block position
	indeg  []int             // layout: unplaced predecessors by block position
	ready  []*block          // layout's ready blocks
	out    []*block          // layout's order
	repl   []*block          // merge: replacement by block id
	seen   map[uint64]*block // merge: first block by hash
	kept   []*block          // merge: blocks kept
	match  matcher           // share's region matcher
	dom    []*block          // hoist: immediate dominators by block position
	far    [][2]bool
	pos    []int
}

// walk is a frame of relink's depth-first traversal.
type walk struct {
	b *block
	i int // next successor to visit, counting down
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// maxPooledInstructions bounds the programs whose scratch memory goes back
// to the pool, so that an oversized input does not pin its memory (the
// pool lets go of what stays unused across garbage collections anyway).
const maxPooledInstructions = spec.MaxInstructions

// chunks hands out values of T from blocks of memory that never move, so
// pointers to them stay valid until reset.
type chunks[T any] struct {
	bufs [][]T
	cur  int // index in bufs of the block being filled
}

// chunkLen is the number of values in each block of memory.
const chunkLen = 256

// reset makes every value available again.
func (c *chunks[T]) reset() {
	c.cur = 0
	if len(c.bufs) > 0 {
		c.bufs[0] = c.bufs[0][:0]
	}
}

// take returns n contiguous values holding whatever they held before:
// callers overwrite them.
func (c *chunks[T]) take(n int) []T {
	if c.cur < len(c.bufs) {
		b := c.bufs[c.cur]
		if cap(b)-len(b) >= n {
			c.bufs[c.cur] = b[:len(b)+n]
			return b[len(b) : len(b)+n : len(b)+n]
		}
		c.cur++
	}
	if c.cur == len(c.bufs) {
		c.bufs = append(c.bufs, nil)
	}
	if cap(c.bufs[c.cur]) < n {
		c.bufs[c.cur] = make([]T, 0, max(chunkLen, n))
	}
	b := c.bufs[c.cur][:n]
	c.bufs[c.cur] = b
	return b[:n:n]
}

// one returns a pointer to a single value.
func (c *chunks[T]) one() *T { return &c.take(1)[0] }
