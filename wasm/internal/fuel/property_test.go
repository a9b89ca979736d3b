package fuel

import (
	"bytes"
	"context"
	"math/rand/v2"
	"testing"

	"github.com/tetratelabs/wazero"
)

// progGen generates random valid function bodies that always terminate:
// straight code, ifs, blocks left by br_if and br_table, counted loops
// (nested, each with its own counter local), calls, loads and stores, bulk
// memory operations and table.grow. Expressions leave one i32, statements
// nothing.
type progGen struct {
	r     *rand.Rand
	b     []byte
	loops int // open loops: loop i counts down local counterBase+i
}

const (
	genLocals   = 4 // i32 locals 1..4 (0 is the parameter)
	counterBase = 1 + genLocals
	maxLoops    = 4 // counter locals
)

func (g *progGen) emit(b ...byte) { g.b = append(g.b, b...) }

func (g *progGen) konst(v int32) {
	g.emit(0x41)
	g.b = appendS64(g.b, int64(v))
}

func (g *progGen) expr(d int) {
	n := 4
	if d > 0 {
		n = 10
	}
	switch g.r.IntN(n) {
	case 0, 1:
		g.konst(g.r.Int32N(2000) - 1000)
	case 2, 3:
		g.emit(0x20, byte(g.r.IntN(1+genLocals)))
	case 4, 5:
		g.expr(d - 1)
		g.expr(d - 1)
		ops := []byte{0x6a, 0x6b, 0x6c, 0x73, 0x71, 0x72, 0x74, 0x76, 0x77}
		g.emit(ops[g.r.IntN(len(ops))])
	case 6: // load from the first 4 KiB
		g.expr(d - 1)
		g.konst(0xffc)
		g.emit(0x71, 0x28, 2, 0)
	case 7: // call the helper
		g.expr(d - 1)
		g.emit(0x10, 0)
	case 8: // if with a result
		g.expr(d - 1)
		g.emit(0x04, 0x7f)
		g.expr(d - 1)
		g.emit(0x05)
		g.expr(d - 1)
		g.emit(0x0b)
	case 9: // block with a result, left early by br_if
		g.emit(0x02, 0x7f)
		g.expr(d - 1)
		g.expr(d - 1)
		g.emit(0x0d, 0, 0x1a)
		g.expr(d - 1)
		g.emit(0x0b)
	}
}

func (g *progGen) stmts(d, n int) {
	for range n {
		g.stmt(d)
	}
}

func (g *progGen) stmt(d int) {
	n := 3
	if d > 0 {
		n = 10
	}
	switch g.r.IntN(n) {
	case 0, 1:
		g.expr(d)
		g.emit(0x21, byte(1+g.r.IntN(genLocals)))
	case 2: // store
		g.expr(d)
		g.konst(0xffc)
		g.emit(0x71)
		g.expr(d)
		g.emit(0x36, 2, 0)
	case 3: // if/else
		g.expr(d - 1)
		g.emit(0x04, 0x40)
		g.stmts(d-1, 1+g.r.IntN(3))
		g.emit(0x05)
		g.stmts(d-1, g.r.IntN(3))
		g.emit(0x0b)
	case 4: // block left by br_if, possibly to an enclosing label
		g.emit(0x02, 0x40)
		g.stmts(d-1, g.r.IntN(3))
		g.expr(d - 1)
		g.emit(0x0d, 0)
		g.stmts(d-1, g.r.IntN(3))
		g.emit(0x0b)
	case 5: // br_table over three blocks
		g.emit(0x02, 0x40, 0x02, 0x40, 0x02, 0x40)
		g.expr(d - 1)
		g.emit(0x0e, 3, 0, 1, 2, byte(g.r.IntN(3)))
		g.emit(0x0b)
		g.stmts(d-1, 1)
		g.emit(0x0b)
		g.stmts(d-1, 1)
		g.emit(0x0b)
	case 6, 7: // counted loop
		if g.loops == maxLoops {
			g.stmt(0)
			return
		}
		c := byte(counterBase + g.loops)
		g.konst(1 + g.r.Int32N(12))
		g.emit(0x21, c, 0x03, 0x40)
		g.loops++
		g.stmts(d-1, 1+g.r.IntN(3))
		g.loops--
		// c -= 1; br_if 0 (c != 0)
		g.emit(0x20, c, 0x41, 1, 0x6b, 0x22, c, 0x0d, 0, 0x0b)
	case 8: // memory.fill or memory.copy of up to 255 bytes in the first 8 KiB
		g.expr(d - 1)
		g.konst(0x1f00)
		g.emit(0x71)
		g.expr(d - 1)
		g.expr(d - 1)
		g.konst(0xff)
		g.emit(0x71)
		if g.r.IntN(2) == 0 {
			g.emit(0xfc, 11, 0)
		} else {
			// The source is masked too: (src & 0x1f00) under the length.
			g.emit(0x21, 1+genLocals+maxLoops) // save the length
			g.konst(0x1f00)
			g.emit(0x71, 0x20, 1+genLocals+maxLoops, 0xfc, 10, 0, 0)
		}
	case 9: // table.grow by 0..3
		g.emit(0xd0, 0x70)
		g.expr(d - 1)
		g.konst(3)
		g.emit(0x71, 0xfc, 15, 0, 0x21, byte(1+g.r.IntN(genLocals)))
	}
}

// body returns a function body: the locals, random statements, and the
// result expression (results i32s, the last folding every local).
func (g *progGen) body(results int) []byte {
	g.b = append(g.b[:0], 1, 1+genLocals+maxLoops, 0x7f)
	g.stmts(3, 2+g.r.IntN(6))
	for i := 1; i < results; i++ {
		g.expr(2)
	}
	g.emit(0x20, 0)
	for l := byte(1); l <= genLocals; l++ {
		g.emit(0x20, l, 0x73)
	}
	g.emit(0x0b)
	return bytes.Clone(g.b)
}

// propertyModule builds a module with a helper h(i32) -> i32 (function 0),
// f(i32) -> i32 (wrapped by the rewrite) and g(i32) -> (i32, i32) (not
// wrapped), a page of memory and a table.
func propertyModule(f, g []byte) []byte { return buildPropertyModule(f, g, nil) }

// propertyHelper is the body of h: x = x*31 ^ 7, three times.
var propertyHelper = []byte{1, 1, 0x7f, 0x41, 3, 0x21, 1, 0x03, 0x40,
	0x20, 0, 0x41, 31, 0x6c, 0x41, 7, 0x73, 0x21, 0,
	0x20, 1, 0x41, 1, 0x6b, 0x22, 1, 0x0d, 0, 0x0b, 0x20, 0, 0x0b}

// buildPropertyModule is propertyModule with each body passed through
// body (when not nil), which also adds an exported mutable i64 global
// "count" (index 0) for it to use.
func buildPropertyModule(f, g []byte, body func([]byte) []byte) []byte {
	code := appendU32(nil, 3)
	for _, b := range [][]byte{propertyHelper, f, g} {
		if body != nil {
			b = body(b)
		}
		code = appendU32(code, uint32(len(b)))
		code = append(code, b...)
	}
	m := []byte("\x00asm\x01\x00\x00\x00")
	sec := func(id byte, body []byte) {
		m = append(m, id)
		m = appendU32(m, uint32(len(body)))
		m = append(m, body...)
	}
	sec(secType, []byte{2, 0x60, 1, 0x7f, 1, 0x7f, 0x60, 1, 0x7f, 2, 0x7f, 0x7f})
	sec(secFunction, []byte{3, 0, 0, 1})
	sec(4, []byte{1, 0x70, 0, 1})
	sec(5, []byte{1, 0, 1})
	if body == nil {
		sec(secExport, []byte{3, 1, 'f', 0, 1, 1, 'g', 0, 2, 3, 'm', 'e', 'm', 2, 0})
	} else {
		sec(secGlobal, []byte{1, 0x7e, 1, 0x42, 0, 0x0b})
		sec(secExport, []byte{4, 1, 'f', 0, 1, 1, 'g', 0, 2, 3, 'm', 'e', 'm', 2, 0, 5, 'c', 'o', 'u', 'n', 't', 3, 0})
	}
	sec(secCode, code)
	return m
}

// TestRewritePreservesSemantics runs random terminating programs plain
// and metered (with ample fuel) and checks that they return the same
// values and leave the same memory.
func TestRewritePreservesSemantics(t *testing.T) {
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer rt.Close(ctx)
	const programs = 300
	compared := 0
	for seed := range uint64(programs) {
		g := progGen{r: rand.New(rand.NewPCG(seed, 0x5eed))}
		bin := propertyModule(g.body(1), g.body(2))
		metered, err := Rewrite(bin, "__fuel", 1<<40)
		if err != nil {
			t.Fatalf("seed %d: rewrite: %v", seed, err)
		}
		var plainOut, meterOut [][]uint64
		var mems [2][]byte
		for i, b := range [][]byte{bin, metered} {
			m, err := rt.InstantiateWithConfig(ctx, b, wazero.NewModuleConfig().WithName(""))
			if err != nil {
				t.Fatalf("seed %d (module %d): %v", seed, i, err)
			}
			var outs [][]uint64
			for _, fn := range []string{"f", "g"} {
				for _, arg := range []uint64{0, 1, 77, 0xfffffff0} {
					r, err := m.ExportedFunction(fn).Call(ctx, arg)
					if err != nil {
						r = []uint64{0xdead, uint64(len(err.Error()))}
					}
					outs = append(outs, r)
				}
			}
			mem, _ := m.Memory().Read(0, 1<<16)
			mems[i] = bytes.Clone(mem)
			if i == 0 {
				plainOut = outs
			} else {
				meterOut = outs
				if f := int64(m.ExportedGlobal("__fuel").Get()); f >= 1<<40 || f < 0 {
					t.Fatalf("seed %d: fuel %d after the calls", seed, f)
				}
			}
			m.Close(ctx)
		}
		for i := range plainOut {
			for j := range plainOut[i] {
				if plainOut[i][j] != meterOut[i][j] {
					t.Fatalf("seed %d: call %d returns %v plain, %v metered", seed, i, plainOut[i], meterOut[i])
				}
			}
			if plainOut[i][0] != 0xdead {
				compared++
			}
		}
		if !bytes.Equal(mems[0], mems[1]) {
			t.Fatalf("seed %d: memory differs after the calls", seed)
		}
	}
	// Most calls must finish normally, or the comparison says little.
	if compared < programs*8*3/4 {
		t.Fatalf("only %d of %d calls finished without a trap", compared, programs*8)
	}
	t.Logf("%d programs, %d calls compared", programs, compared)
}
