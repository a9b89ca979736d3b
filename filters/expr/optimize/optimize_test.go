package optimize

import (
	"math/rand/v2"
	"testing"

	"github.com/wringcap/wring/spec"
)

// checkSame fails the test if q returns something other than p on any of
// the packets, or is not well formed, or is longer.
func checkSame(t *testing.T, p, q spec.Program, pkts [][]byte, wires []uint32, full bool) {
	t.Helper()
	if full && len(q) > len(p) {
		t.Fatalf("optimized program is longer: %d > %d\n%s\n---\n%s", len(q), len(p), listing(p), listing(q))
	}
	if scratchSafe(p) {
		if err := wellFormed(q); err != nil {
			t.Fatalf("optimized program is malformed: %v\n%s\n---\n%s", err, listing(p), listing(q))
		}
	}
	for i, pkt := range pkts {
		want, got := run(p, pkt, wires[i]), run(q, pkt, wires[i])
		if want != got {
			t.Fatalf("packet % x (wire %d): original returns %d, optimized %d\n%s\n---\n%s",
				pkt, wires[i], want, got, listing(p), listing(q))
		}
	}
}

func randPackets(r *rand.Rand, n int) ([][]byte, []uint32) {
	pkts := make([][]byte, n)
	wires := make([]uint32, n)
	for i := range pkts {
		pkts[i], wires[i] = randPacket(r)
	}
	return pkts, wires
}

// TestRandomAgree: optimized and unoptimized programs agree on random
// packets, for random forward-jumping programs, for the whole pipeline and
// for each pass alone.
func TestRandomAgree(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	n := 3000
	if testing.Short() {
		n = 300
	}
	pkts, wires := randPackets(r, 300)
	shrunk := 0
	for i := 0; i < n; i++ {
		p := randProgram(r, 2+r.IntN(60))
		q := Program(p)
		checkSame(t, p, q, pkts, wires, true)
		if len(q) < len(p) {
			shrunk++
		}
		for _, ps := range Passes() {
			q, err := Run(p, ps)
			if err != nil {
				t.Fatalf("pass %s: %v", ps.Name, err)
			}
			checkSame(t, p, q, pkts, wires, false)
		}
	}
	if shrunk < n/4 {
		t.Errorf("only %d of %d random programs got shorter", shrunk, n)
	}
	t.Logf("%d of %d random programs got shorter", shrunk, n)
}

// TestUnsupported: programs the optimizer cannot analyse come back
// unchanged from Program and with ErrUnsupported from Run.
func TestUnsupported(t *testing.T) {
	for name, p := range map[string]spec.Program{
		"empty":          {},
		"backward":       {spec.Stmt(spec.ClassJMP|spec.JumpJA, 0xffffffff), spec.Stmt(spec.ClassRET, 0)},
		"past end":       {spec.Jump(spec.ClassJMP|spec.JumpJEQ, 0, 0, 1)},
		"no return":      {spec.Stmt(spec.ClassLD|spec.ModeIMM, 1)},
		"bad opcode":     {spec.Stmt(0xffff, 0), spec.Stmt(spec.ClassRET, 0)},
		"bad slot":       {spec.Stmt(spec.ClassST, 16), spec.Stmt(spec.ClassRET, 0)},
		"div by const 0": {spec.Stmt(spec.ClassALU|spec.ALUDiv, 0), spec.Stmt(spec.ClassRET, 0)},
	} {
		if _, err := Run(p, Passes()...); err == nil {
			t.Errorf("%s: Run accepted it", name)
		}
		q := Program(p)
		if len(q) != len(p) {
			t.Errorf("%s: Program changed it", name)
		}
		for i := range p {
			if p[i] != q[i] {
				t.Errorf("%s: Program changed pc %d", name, i)
			}
		}
	}
}
