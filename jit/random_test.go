package jit

import (
	"fmt"
	"os"
	"strconv"
	"testing"

	"github.com/wringcap/wring/internal/progen"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
)

// randomCount is the number of random programs per configuration;
// WRING_JIT_RANDOM raises it for longer sweeps.
func randomCount(def int) int {
	if s := os.Getenv("WRING_JIT_RANDOM"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			return n
		}
	}
	if testing.Short() {
		return def / 10
	}
	return def
}

// TestRandomDifferential is acceptance line 1 on random verified
// programs: progen's valid programs (with ancillary, parse-record and
// header-relative loads, some long) and its edge programs that verify,
// each run on random packets aimed at its loads, agree with vm.Run in
// every engine.
func TestRandomDifferential(t *testing.T) {
	configs := []struct {
		name string
		cfg  progen.Config
		opts verifier.Options
		n    int
	}{
		{"valid", progen.Config{Mode: progen.Valid}, verifier.Options{}, 4000},
		{"valid-record-hdr", progen.Config{Mode: progen.Valid, Record: true, HeaderRelative: true}, verifier.Options{Record: true}, 4000},
		{"valid-long", progen.Config{Mode: progen.Valid, MaxLen: 4096, PacketLen: 256}, verifier.Options{}, 150},
		{"edges", progen.Config{NoLong: true}, verifier.Options{}, 6000},
	}
	for ci, c := range configs {
		t.Run(c.name, func(t *testing.T) {
			g := progen.New(uint64(1000+ci), c.cfg)
			n := randomCount(c.n)
			var programs, runs, disagree int
			for i := range n {
				prog := g.Program()
				p, err := verifier.Verify(prog, c.opts)
				if err != nil {
					if c.cfg.Mode == progen.Valid {
						t.Fatalf("program %d does not verify: %v", i, err)
					}
					continue
				}
				programs++
				e := compileAll(t, p)
				var batch [][]byte
				var bwl []uint32
				for j := range 24 {
					pkt := g.Packet(prog)
					batch = append(batch, pkt)
					bwl = append(bwl, uint32(len(pkt))+uint32(j%3)*7)
					runs++
					wl := uint32(len(pkt)) + uint32(j%3)*7
					if msg := e.check(pkt, wl, testMeta(i*31+j, pkt)); msg != "" {
						disagree++
						if disagree <= 10 {
							t.Errorf("seed %d program %d packet %d (%d bytes): %s\n%s", 1000+ci, i, j, len(pkt), msg, listing(prog))
						}
					}
				}
				if msg := e.checkBatch(batch, bwl); msg != "" {
					disagree++
					if disagree <= 10 {
						t.Errorf("seed %d program %d: %s\n%s", 1000+ci, i, msg, listing(prog))
					}
				}
				e.close(t)
			}
			t.Logf("%d verified programs, %d packet runs x 3 engines, %d disagreements", programs, runs, disagree)
			if programs == 0 {
				t.Fatal("no program verified")
			}
		})
	}
}

// listing prints a program as tcpdump -dd would.
func listing(prog spec.Program) string {
	s := ""
	for _, ins := range prog {
		s += fmt.Sprintf("{ 0x%x, %d, %d, 0x%08x },\n", ins.Op, ins.Jt, ins.Jf, ins.K)
	}
	return s
}

// TestNearJumpLayout forces the fallback layout (near jumps only, no short
// jump or nearby return target), which a program only gets when the
// layout passes do not settle, and runs the differential test on it.
func TestNearJumpLayout(t *testing.T) {
	if !nativeSupported {
		t.Skip("no native backend on this platform")
	}
	saved := maxPasses
	maxPasses = 0
	defer func() { maxPasses = saved }()
	g := progen.New(77, progen.Config{Mode: progen.Valid, MaxLen: 300, Record: true, HeaderRelative: true})
	var runs int
	for i := range randomCount(1500) {
		prog := g.Program()
		p, err := verifier.Verify(prog, verifier.Options{Record: true})
		if err != nil {
			t.Fatal(err)
		}
		e := compileAll(t, p)
		var batch [][]byte
		for j := range 12 {
			pkt := g.Packet(prog)
			batch = append(batch, pkt)
			runs++
			if msg := e.check(pkt, uint32(len(pkt)), testMeta(i+j, pkt)); msg != "" {
				t.Fatalf("program %d: %s\n%s", i, msg, listing(prog))
			}
		}
		if msg := e.checkBatch(batch, nil); msg != "" {
			t.Fatalf("program %d: %s\n%s", i, msg, listing(prog))
		}
		e.close(t)
	}
	t.Logf("%d packet runs with near jumps only, no disagreement", runs)
}
