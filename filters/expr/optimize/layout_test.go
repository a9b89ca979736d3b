package optimize

import (
	"math/rand/v2"
	"testing"

	"github.com/wringcap/wring/spec"
)

// longJumpProgram returns a chain of n tests on distinct bytes, each of
// which returns a value of its own half when it matches; the returns come after all
// the tests, so the tests reach them through `ja` instructions. Optimizing
// removes the jumps to jumps and must put trampolines back for the
// offsets past 255.
func longJumpProgram(n int) spec.Program {
	// Test i returns the value of return i mod n/2: each return has two
	// tests far apart, so no layout can put it next to both.
	h := n / 2
	var p spec.Program
	for i := 0; i < n; i++ {
		p = append(p,
			spec.Stmt(spec.ClassLD|spec.SizeB|spec.ModeABS, uint32(i)),
			spec.Jump(spec.ClassJMP|spec.JumpJEQ, uint32(randBytes[i%len(randBytes)]), 0, 1),
			spec.Stmt(spec.ClassJMP|spec.JumpJA, uint32(3*n+1+i%h-(3*i+2)-1)))
	}
	p = append(p, spec.Stmt(spec.ClassRET|spec.RetK, 0))
	for i := 0; i < h; i++ {
		p = append(p, spec.Stmt(spec.ClassRET|spec.RetK, uint32(i+10)))
	}
	return p
}

// TestLongJumps: programs whose jumps must stay longer than 255 come out
// well formed (with inserted ja) and agree with the input.
func TestLongJumps(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	for _, n := range []int{100, 200, 400, 1000} {
		p := longJumpProgram(n)
		var pkts [][]byte
		var wires []uint32
		for i := 0; i < 300; i++ {
			pkt := make([]byte, n+2)
			for j := range pkt {
				pkt[j] = randBytes[r.IntN(len(randBytes))]
				if r.IntN(3) > 0 {
					pkt[j] = 0x77 // matches no test
				}
			}
			pkt = pkt[:r.IntN(len(pkt)+1)]
			pkts, wires = append(pkts, pkt), append(wires, uint32(len(pkt)))
		}
		if err := wellFormed(p); err != nil {
			t.Fatalf("n=%d: test input malformed: %v", n, err)
		}
		q := Program(p)
		checkSame(t, p, q, pkts, wires, true)
		if err := wellFormed(q); err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		far := 0
		for _, ins := range q {
			if ins.Op == spec.ClassJMP|spec.JumpJA {
				far++
			}
		}
		if n >= 200 && far == 0 {
			t.Errorf("n=%d: no ja in the output: the far returns were not reached through trampolines", n)
		}
		t.Logf("n=%d: %d -> %d instructions, %d ja", n, len(p), len(q), far)
	}
}
