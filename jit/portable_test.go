package jit

import (
	"testing"

	"github.com/wringcap/wring/internal/benchdata"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
	"github.com/wringcap/wring/vm"
)

// portableScratch uses what the portable backend runs as general
// statements: scratch memory, a parse-record load, an ancillary load, a
// header-relative ldx msh and indirect loads with jumps on X.
const portableScratch = `
	ld #len
	st M[3]
	ldh [12]
	jeq #0x800, v4, drop
v4:	ldx M[3]
	ldb [0xffd00000]
	add x
	st M[0]
	ld #proto
	tax
	ldxb 4*([0xfff00000]&0xf)
	ldh [x+16]
	jgt x, big, small
big:	ld M[0]
	ret a
small:	ldb [x+14]
	jset x, drop, keep
keep:	ret #1
drop:	ret #0
`

// TestPortableAllocatesNothing: the portable backend allocates nothing
// per packet, on the benchmark filters over their working set and on a
// program that uses scratch memory and the loads above the packet.
func TestPortableAllocatesNothing(t *testing.T) {
	ws := benchdata.WorkingSet(t)
	type prog struct {
		name string
		p    *verifier.Program
	}
	var progs []prog
	for _, bf := range benchdata.Filters() {
		progs = append(progs, prog{bf.Name, mustVerify(t, bf.Program, verifier.Options{})})
	}
	sp, err := spec.ParseText([]byte(portableScratch), spec.TextAsm)
	if err != nil {
		t.Fatal(err)
	}
	progs = append(progs, prog{"scratch", mustVerify(t, sp, verifier.Options{Record: true})})
	meta := Meta{NetOffset: 14, NetOffsetValid: true, Record: new([spec.RecordSize]byte)}
	meta.Record[0] = 7
	for _, pr := range progs {
		f, err := Compile(pr.p, Options{Portable: true})
		if err != nil {
			t.Fatal(err)
		}
		var sink uint32
		i := 0
		n := testing.AllocsPerRun(2*len(ws), func() {
			pk := ws[i%len(ws)]
			i++
			sink += f.RunMeta(pk.Data, pk.WireLen, &meta)
		})
		if n != 0 {
			t.Errorf("%s: the portable backend allocates %.2f times per packet", pr.name, n)
		}
		matched := 0
		for _, pk := range ws {
			got, want := f.RunMeta(pk.Data, pk.WireLen, &meta), vm.Run(pr.p, pk.Data, pk.WireLen, &meta)
			if got != want {
				t.Fatalf("%s: portable %d, vm %d", pr.name, got, want)
			}
			if got != 0 {
				matched++
			}
		}
		if matched == 0 || matched == len(ws) {
			t.Errorf("%s: %d of %d packets match; the set exercises one outcome only", pr.name, matched, len(ws))
		}
		f.Close()
	}
}

// TestPortableStopResume: a program of nothing but loads above the packet
// (a record load, an ancillary load and an add each time, up to the
// instruction limit) stops and resumes the loop at every load; it gives
// vm.Run's result and allocates nothing per packet.
func TestPortableStopResume(t *testing.T) {
	var prog spec.Program
	for len(prog)+5 <= spec.MaxInstructions {
		prog = append(prog,
			spec.Stmt(spec.OpLdAbsB, spec.RecordBase+uint32(len(prog)%spec.RecordSize)),
			spec.Stmt(spec.OpTax, 0),
			spec.Stmt(spec.OpLdAbsW, spec.AncillaryBase), // SKF_AD_PROTOCOL
			spec.Stmt(spec.ClassALU|spec.ALUAdd|spec.SrcX, 0))
	}
	prog = append(prog, spec.Stmt(spec.OpRetA, 0))
	p := mustVerify(t, prog, verifier.Options{Record: true})
	f, err := Compile(p, Options{Portable: true})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pkt := make([]byte, 64)
	pkt[12], pkt[13] = 0x86, 0xdd
	for i := range 8 {
		meta := testMeta(i+1, pkt) // i+1: a record in most
		got, want := f.RunMeta(pkt, 64, (*Meta)(meta)), vm.Run(p, pkt, 64, meta)
		if got != want {
			t.Fatalf("metadata %d: portable %d, vm %d", i, got, want)
		}
		if i == 0 && got == 0 {
			t.Fatalf("the loads gave 0: the test shows nothing")
		}
	}
	meta := testMeta(1, pkt)
	if n := testing.AllocsPerRun(20, func() { f.RunMeta(pkt, 64, (*Meta)(meta)) }); n != 0 {
		t.Errorf("%.1f allocations per packet", n)
	}
}
