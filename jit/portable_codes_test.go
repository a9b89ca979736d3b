package jit

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/wringcap/wring/internal/progen"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
	"github.com/wringcap/wring/vm"
)

// codePrograms returns small programs shaped to decode into the portable
// codes the corpus and the random programs rarely or never produce: a
// guarded indirect load with each jump, the jeq chains with and without a
// guard on either jeq, a guard on a jump standing alone and a guarded
// ldx msh.
func codePrograms() map[string]string {
	out := map[string]string{}
	sizes := []string{"ld", "ldh", "ldb"}
	jumps := []string{"jeq", "jgt", "jge", "jset"}
	for _, s := range sizes {
		for _, j := range jumps {
			// The X-relative check of the first load covers the loads
			// on both paths (x+30, x+31): it reaches beyond its own end.
			out["ind-"+s+"-"+j] = fmt.Sprintf(`
	ldx #2
	%s [x+0]
	%s #5, pa, pb
pa:	ldb [x+30]
	ret a
pb:	ldb [x+31]
	ret a
`, s, j)
			// The same with absolute loads: the verifier's guard.
			out["abs-"+s+"-"+j] = fmt.Sprintf(`
	%s [1]
	%s #5, pa, pb
pa:	ldb [30]
	ret a
pb:	ldb [31]
	ret a
`, s, j)
			// A guard hoisted to a jump that stands alone (the target
			// of another jump).
			out["alone-"+s+"-"+j] = fmt.Sprintf(`
	%s [0]
	jeq #1, pa, pn
pa:	ret #1
pn:	%s #2, pb, pz
pb:	ld [40]
	ret a
pz:	ret #0
`, s, j)
		}
		// jeq chains: the first load guarded (both paths read beyond
		// it) or not, the second jeq guarded (its true path reads at 40,
		// beyond what the first load's guard covers) or not.
		for _, first := range []string{"ret #1", "ldb [10]\n\tret a"} {
			for _, second := range []string{"ret #2", "ld [40]\n\tret a", "ldb [9]\n\tret a"} {
				out[fmt.Sprintf("chain-%s-%d", s, len(out))] = fmt.Sprintf(`
	%s [0]
	jeq #1, pa, pn
pa:	%s
pn:	jeq #2, pb, pz
pb:	%s
pz:	ret #0
`, s, first, second)
			}
		}
	}
	// A load and jeq whose false target is another (libpcap's host and
	// port pairs), absolute and indirect, the first checking a length
	// beyond its end (the true path reads byte 20) or not.
	for _, s := range sizes {
		for _, x := range []string{"", "x+"} {
			for _, yes := range []string{"ret #1", "ldb [" + x + "20]\n\tret a"} {
				ldx := "ldx #2"
				if x == "" {
					ldx = "" // the verifier's guard goes to the load
				}
				out[fmt.Sprintf("pair-%s-%d", s, len(out))] = fmt.Sprintf(`
	%[4]s
	%[1]s [%[2]s0]
	jeq #1, py, pn
pn:	%[1]s [%[2]s4]
	jeq #1, py, pz
py:	%[3]s
pz:	ret #0
`, s, x, yes, ldx)
			}
		}
	}
	// A chain of three: the middle jeq stands alone with a jeq (guarded or
	// not) as its false target.
	for _, last := range []string{"ret #3", "ld [40]\n\tret a"} {
		out[fmt.Sprintf("chain3-%d", len(out))] = fmt.Sprintf(`
	ldh [12]
	jeq #1, py, n1
n1:	jeq #2, py, n2
n2:	jeq #3, pl, pz
pl:	%s
py:	ret #1
pz:	ret #0
`, last)
	}
	out["ldx-msh-guarded"] = `
	ldxb 4*([0]&0xf)
	ldb [20]
	ret a
`
	return out
}

// TestPortableCodes: every portable load and jump code (the codes below
// the general statements) appears in the programs the differential tests
// run (libpcap's corpus programs and progen's valid programs, as
// TestCorpusDifferential and TestRandomDifferential compile them) or in
// codePrograms, and codePrograms' programs give vm.Run's result on random
// packets of every length from 0 to 64, with both a zero and a non-zero
// result each.
func TestPortableCodes(t *testing.T) {
	seen := map[pcode]string{}
	note := func(name string, p *verifier.Program) *portable {
		q := newPortable(p, makePlan(p))
		for _, op := range q.ops {
			if _, ok := seen[op.code]; !ok {
				seen[op.code] = name
			}
		}
		return q
	}
	progs, _ := corpusPrograms(t)
	for _, cp := range progs {
		note("corpus "+cp.label, cp.p)
	}
	g := progen.New(5, progen.Config{Mode: progen.Valid})
	for i := range 4000 {
		if p, err := verifier.Verify(g.Program(), verifier.Options{}); err == nil {
			note(fmt.Sprintf("progen %d", i), p)
		}
	}
	rng := rand.New(rand.NewPCG(14, 4))
	alphabet := []byte{0, 1, 2, 5, 0x0f, 0xff}
	var pkts [][]byte
	for n := range 65 {
		for range 40 {
			pk := make([]byte, n)
			for i := range pk {
				pk[i] = alphabet[rng.IntN(len(alphabet))]
			}
			pkts = append(pkts, pk)
		}
	}
	for name, src := range codePrograms() {
		prog, err := spec.ParseText([]byte(src), spec.TextAsm)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		p := mustVerify(t, prog, verifier.Options{})
		q := note(name, p)
		var zero, nonzero int
		for _, pk := range pkts {
			got, want := q.run(pk, uint32(len(pk)), &zeroMeta, nil), vm.Run(p, pk, uint32(len(pk)), nil)
			if got != want {
				t.Fatalf("%s on % x: portable %d, vm %d", name, pk, got, want)
			}
			if got == 0 {
				zero++
			} else {
				nonzero++
			}
		}
		if zero == 0 || nonzero == 0 {
			t.Errorf("%s: %d zero and %d non-zero results: one outcome only", name, zero, nonzero)
		}
	}
	var missing []string
	for c := pcode(0); c < pGeneral; c++ {
		if _, ok := seen[c]; !ok {
			missing = append(missing, fmt.Sprint(c))
		}
	}
	if len(missing) > 0 {
		t.Errorf("portable codes no tested program decodes into: %s", strings.Join(missing, ", "))
	}
}
