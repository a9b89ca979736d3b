package optimize_test

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/wringcap/wring/filters/expr/optimize"
	"github.com/wringcap/wring/internal/progen"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
	"github.com/wringcap/wring/vm"
)

// agree optimizes p, which must verify with opts, and checks that the
// result verifies too, is no longer, and returns what p returns (under
// wring's VM) on every packet of pkts. It reports the optimized program.
func agree(t testing.TB, p spec.Program, opts verifier.Options, pkts [][]byte) spec.Program {
	t.Helper()
	vp, err := verifier.Verify(p, opts)
	if err != nil {
		t.Fatalf("input does not verify: %v", err)
	}
	q := optimize.Program(p)
	if len(q) > len(p) {
		t.Fatalf("optimized program is longer: %d > %d", len(q), len(p))
	}
	vq, err := verifier.Verify(q, opts)
	if err != nil {
		t.Fatalf("optimized program fails verification: %v\ninput:\n%s\noptimized:\n%s", err, show(p), show(q))
	}
	for _, pkt := range pkts {
		for _, wire := range []uint32{uint32(len(pkt)), uint32(len(pkt)) + 100} {
			want, got := vm.Run(vp, pkt, wire, nil), vm.Run(vq, pkt, wire, nil)
			if want != got {
				t.Fatalf("packet % x (wire %d): original returns %d, optimized %d\ninput:\n%s\noptimized:\n%s", pkt, wire, want, got, show(p), show(q))
			}
		}
	}
	return q
}

func show(p spec.Program) string {
	var b bytes.Buffer
	if err := spec.FormatListing(&b, p); err != nil {
		return err.Error()
	}
	return b.String()
}

// TestProgenAgree: for random verified programs from internal/progen,
// the optimized program verifies and returns the same as the original
// under the VM on random packets aimed at the program's comparisons.
func TestProgenAgree(t *testing.T) {
	n := 4000
	if testing.Short() {
		n = 400
	}
	for _, cfg := range []progen.Config{
		{Mode: progen.Valid, NoAncillary: true, NoLong: true},
		{Mode: progen.Valid, NoLong: true, MaxLen: 200},
		{Mode: progen.Valid, NoLong: true, Record: true, HeaderRelative: true},
	} {
		g := progen.New(11, cfg)
		opts := verifier.Options{NoAncillary: cfg.NoAncillary, Record: cfg.Record}
		shrunk := 0
		for i := 0; i < n; i++ {
			p := g.Program()
			if _, err := verifier.Verify(p, opts); err != nil {
				t.Fatalf("progen gave a program that does not verify: %v", err)
			}
			pkts := make([][]byte, 30)
			for j := range pkts {
				pkts[j] = g.Packet(p)
			}
			if q := agree(t, p, opts, pkts); len(q) < len(p) {
				shrunk++
			}
		}
		t.Logf("%+v: %d of %d programs got shorter", cfg, shrunk, n)
	}
}

// TestCornersAgree: progen's fixed corner cases that verify.
func TestCornersAgree(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	pkts := make([][]byte, 50)
	for i := range pkts {
		pkts[i] = make([]byte, r.IntN(100))
		for j := range pkts[i] {
			pkts[i][j] = byte(r.Uint32())
		}
	}
	n := 0
	for _, p := range progen.Corners() {
		if _, err := verifier.Verify(p, verifier.Options{}); err != nil {
			continue
		}
		agree(t, p, verifier.Options{}, pkts)
		n++
	}
	t.Logf("%d verified corner programs agree", n)
}
