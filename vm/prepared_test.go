package vm

import (
	"testing"

	"github.com/wringcap/wring/internal/benchdata"
	"github.com/wringcap/wring/internal/progen"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
)

// TestPreparedAgrees holds New(p).Run to Run: random valid programs from
// progen (every opcode, ancillary and record loads, scratch, jumps to
// returns and to jumps) on generated packets with and without meta, the
// corner programs on short packets, and the benchmark filters on the
// benchmark working set.
func TestPreparedAgrees(t *testing.T) {
	n := 30000
	if testing.Short() {
		n = 3000
	}
	rec := new([spec.RecordSize]byte)
	for i := range rec {
		rec[i] = byte(i * 7)
	}
	metas := []*Meta{nil, {Protocol: 0x800, VLANPresent: true, VLANTCI: 5, NetOffset: 14, NetOffsetValid: true, Record: rec, Random: 9}}
	runs, slow := 0, 0
	var seen [sSlow + 1]int
	check := func(what string, p *verifier.Program, pkt []byte, wirelen uint32) {
		q := New(p)
		for _, m := range metas {
			want := Run(p, pkt, wirelen, m)
			if got := q.Run(pkt, wirelen, m); got != want {
				t.Fatalf("%s: New(p).Run %d, Run %d\nprogram:\n%v\npacket % x", what, got, want, p.Instructions(), pkt)
			}
			runs++
		}
		hands := false
		for _, s := range q.steps {
			seen[s.op]++
			hands = hands || s.op == sSlow
		}
		if hands {
			slow++
		}
	}
	g := progen.New(7, progen.Config{})
	for i := range n {
		prog := g.Program()
		p, err := verifier.Verify(prog, verifier.Options{Record: true})
		if err != nil {
			continue
		}
		pkt := g.Packet(prog)
		check("random", p, pkt, uint32(len(pkt))+uint32(i%3))
	}
	for _, prog := range progen.Corners() {
		p, err := verifier.Verify(prog, verifier.Options{Record: true})
		if err != nil {
			continue
		}
		for _, l := range []int{0, 1, 14, 60} {
			pkt := make([]byte, l)
			for i := range pkt {
				pkt[i] = byte(i * 13)
			}
			check("corner", p, pkt, uint32(l))
		}
	}
	ws := benchdata.WorkingSet(t)
	for _, bf := range benchdata.Filters() {
		p, err := verifier.Verify(bf.Program, verifier.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, pk := range ws {
			check(bf.Name, p, pk.Data, pk.WireLen)
		}
	}
	for op, c := range seen {
		if c == 0 {
			t.Errorf("no program decoded to step %d", op)
		}
	}
	if runs < 2*n || slow == 0 {
		t.Fatalf("%d runs, %d programs through the hand-over: the test covers too little", runs, slow)
	}
	t.Logf("%d runs agree; %d programs hand over to the interpreter", runs, slow)
}
