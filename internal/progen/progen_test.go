package progen

import (
	"errors"
	"reflect"
	"testing"

	"github.com/wringcap/wring/verifier"
)

func TestValidModeVerifies(t *testing.T) {
	for _, cfg := range []Config{
		{Mode: Valid},
		{Mode: Valid, MaxLen: 4096, Record: true, HeaderRelative: true},
		{Mode: Valid, NoAncillary: true},
	} {
		g := New(1, cfg)
		opts := verifier.Options{Record: cfg.Record, NoAncillary: cfg.NoAncillary}
		for i := range 20000 {
			p := g.Program()
			if _, err := verifier.Verify(p, opts); err != nil {
				t.Fatalf("cfg %+v program %d: %v\n%v", cfg, i, err, p)
			}
		}
	}
}

func TestDeterministic(t *testing.T) {
	a, b := New(42, Config{}), New(42, Config{})
	for range 1000 {
		pa, pb := a.Program(), b.Program()
		if !reflect.DeepEqual(pa, pb) {
			t.Fatal("same seed, different programs")
		}
		if !reflect.DeepEqual(a.Packet(pa), b.Packet(pb)) {
			t.Fatal("same seed, different packets")
		}
	}
}

// TestEdgesCoverEveryRule checks that Edges mode and Corners reach every
// rule of the verifier, and that a fair share of Edges programs verify.
func TestEdgesCoverEveryRule(t *testing.T) {
	seen := map[verifier.ErrorCode]int{}
	accepted := 0
	count := func(err error) {
		var ve *verifier.Error
		switch {
		case err == nil:
			accepted++
		case errors.As(err, &ve):
			seen[ve.Code]++
		default:
			t.Fatalf("not a *verifier.Error: %v", err)
		}
	}
	g := New(7, Config{})
	const n = 20000
	for range n {
		_, err := verifier.Verify(g.Program(), verifier.Options{})
		count(err)
	}
	if accepted < n/5 || accepted > n*3/4 {
		t.Errorf("%d of %d Edges programs verify; want between a fifth and three quarters", accepted, n)
	}
	for _, p := range Corners() {
		_, err := verifier.Verify(p, verifier.Options{})
		count(err)
	}
	for code := verifier.ErrEmpty; code <= verifier.ErrRecordNotAllowed; code++ {
		if code == verifier.ErrAncillaryNotAllowed {
			continue // needs Options.NoAncillary
		}
		if seen[code] == 0 {
			t.Errorf("no program broke %v", code)
		}
	}
	t.Logf("accepted %d, rejected by rule: %v", accepted, seen)
}
