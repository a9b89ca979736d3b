package optimize_test

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/capture/pcapfile"
	"github.com/wringcap/wring/filters/expr"
	"github.com/wringcap/wring/filters/expr/optimize"
	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
	"github.com/wringcap/wring/vm"
)

// TestCorpusExpressionsAgree compiles every distinct (link type,
// expression) pair of libpcap's filter_accept tests that wring compiles,
// and checks that the optimized program verifies and returns what the
// unoptimized one returns on every packet of the tcpdump and libpcap
// corpora with that link type, and on packets made to satisfy the
// program's comparisons.
func TestCorpusExpressionsAgree(t *testing.T) {
	pkts := corpusPacketsByLink(t)
	type pair struct {
		lt   spec.LinkType
		expr string
	}
	seen := map[pair]bool{}
	var pairs []pair
	for _, c := range corpus.CasesOf(t, "filter_accept") {
		lt, err := spec.ParseLinkType(c.DLT)
		if err != nil {
			continue
		}
		p := pair{lt, c.Expr}
		if !seen[p] {
			seen[p] = true
			pairs = append(pairs, p)
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].lt != pairs[j].lt {
			return pairs[i].lt < pairs[j].lt
		}
		return pairs[i].expr < pairs[j].expr
	})
	r := rand.New(rand.NewPCG(9, 9))
	var compiled, runs int
	for _, p := range pairs {
		prog, err := expr.Compile(p.expr, expr.Options{LinkType: p.lt})
		if err != nil {
			continue
		}
		vp, err := verifier.Verify(prog, verifier.Options{})
		if err != nil {
			continue // the compiler's own tests report this
		}
		compiled++
		q := optimize.Program(prog)
		vq, err := verifier.Verify(q, verifier.Options{})
		if err != nil {
			t.Errorf("%s %q: optimized program fails verification: %v\n%s---\n%s", p.lt, p.expr, err, show(prog), show(q))
			continue
		}
		set := pkts[p.lt]
		for i := 0; i < 64; i++ {
			set = append(set, aimedPacket(r, prog))
		}
		for _, pk := range set {
			runs++
			if want, got := vm.Run(vp, pk, uint32(len(pk)), nil), vm.Run(vq, pk, uint32(len(pk)), nil); want != got {
				t.Errorf("%s %q: packet % x: unoptimized %d, optimized %d\n%s---\n%s", p.lt, p.expr, pk, want, got, show(prog), show(q))
				break
			}
		}
	}
	if compiled == 0 {
		t.Fatal("no expression compiled")
	}
	t.Logf("%d of %d (link type, expression) pairs compiled; %d runs agree", compiled, len(pairs), runs)
}

// corpusPacketsByLink reads the tcpdump and libpcap corpora's capture files
// and returns their packets by link type.
func corpusPacketsByLink(t *testing.T) map[spec.LinkType][][]byte {
	out := map[spec.LinkType][][]byte{}
	for _, dir := range []string{"tcpdump", "libpcap/filter"} {
		for _, path := range corpus.Files(t, dir) {
			r, err := pcapfile.Open(path)
			if err != nil {
				continue
			}
			var info packet.Info
			for {
				data, err := r.ReadPacket(&info)
				if err != nil {
					if !errors.Is(err, io.EOF) {
						t.Logf("%s: %v", path, err)
					}
					break
				}
				out[info.LinkType] = append(out[info.LinkType], bytes.Clone(data))
			}
			r.Close()
		}
	}
	return out
}

// aimedPacket returns a packet whose bytes at the program's absolute loads
// often equal the constants the following jump compares them with.
func aimedPacket(r *rand.Rand, p spec.Program) []byte {
	pkt := make([]byte, 14+r.IntN(150))
	for i := range pkt {
		pkt[i] = byte(r.Uint32())
	}
	for pc := 0; pc+1 < len(p); pc++ {
		ld, j := p[pc], p[pc+1]
		if ld.Class() != spec.ClassLD || ld.Mode() != spec.ModeABS || j.Class() != spec.ClassJMP || j.Src() != spec.SrcK || r.IntN(5) == 0 {
			continue
		}
		k := int(ld.K)
		n := map[uint16]int{spec.SizeB: 1, spec.SizeH: 2, spec.SizeW: 4}[ld.Size()]
		if k < 0 || k+n > len(pkt) {
			continue
		}
		for b := 0; b < n; b++ {
			pkt[k+b] = byte(j.K >> (8 * (n - 1 - b)))
		}
	}
	if r.IntN(6) == 0 {
		pkt = pkt[:r.IntN(len(pkt))]
	}
	return pkt
}
