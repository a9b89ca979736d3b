package optimize_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/wringcap/wring/filters/expr"
	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/internal/pcaporacle"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
	"github.com/wringcap/wring/vm"
)

// TestCombinedExpressions: disjunctions of conjunctions of different
// protocols, where a test on one protocol decides nothing about the next
// disjunct but every way through it ends at the same place (ARP address
// tests before a port test). The optimized program agrees with the
// unoptimized one on the corpus packets and is no more than 10% longer
// than libpcap's.
func TestCombinedExpressions(t *testing.T) {
	if _, err := pcaporacle.Tcpdump(); err != nil {
		corpus.Unavailable(t, err.Error())
	}
	pkts := corpusPacketsByLink(t)[spec.LinkEthernet]
	r := rand.New(rand.NewPCG(4, 4))
	for _, n := range []int{2, 5, 20} {
		var parts []string
		for i := 0; i < n; i++ {
			parts = append(parts, fmt.Sprintf("(host 10.0.0.%d and port %d)", i+1, 1000+i))
		}
		src := strings.Join(parts, " or ")
		p, err := expr.Compile(src, expr.Options{LinkType: spec.LinkEthernet})
		if err != nil {
			t.Fatal(err)
		}
		q, err := expr.Compile(src, expr.Options{LinkType: spec.LinkEthernet, Optimize: true})
		if err != nil {
			t.Fatal(err)
		}
		l, err := pcaporacle.Compile(src, "EN10MB", pcaporacle.Options{})
		if err != nil {
			t.Fatal(err)
		}
		vp, err := verifier.Verify(p, verifier.Options{})
		if err != nil {
			t.Fatal(err)
		}
		vq, err := verifier.Verify(q, verifier.Options{})
		if err != nil {
			t.Fatalf("%d terms: optimized program fails verification: %v", n, err)
		}
		set := append([][]byte(nil), pkts...)
		for i := 0; i < 500; i++ {
			set = append(set, aimedPacket(r, p))
		}
		for _, pk := range set {
			if want, got := vm.Run(vp, pk, uint32(len(pk)), nil), vm.Run(vq, pk, uint32(len(pk)), nil); want != got {
				t.Fatalf("%d terms: packet % x: unoptimized %d, optimized %d", n, pk, want, got)
			}
		}
		if 10*len(q) > 11*len(l) {
			t.Errorf("%d terms: %d instructions, libpcap %d", n, len(q), len(l))
		}
		t.Logf("%d terms: unoptimized %d, optimized %d, libpcap %d instructions", n, len(p), len(q), len(l))
	}
}
