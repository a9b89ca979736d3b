package jit

import (
	"testing"

	"github.com/wringcap/wring/internal/benchdata"
	"github.com/wringcap/wring/internal/progen"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
)

// tcpPort80 returns libpcap's program for "tcp port 80" on Ethernet.
func tcpPort80(t testing.TB) spec.Program {
	for _, f := range benchdata.Filters() {
		if f.Name == "tcp_port_80" {
			return f.Program
		}
	}
	t.Fatal("benchdata has no tcp_port_80 filter")
	return nil
}

// loads counts the packet loads of a program.
func loads(p *verifier.Program) int {
	n := 0
	for pc := range p.Len() {
		ins := p.At(pc)
		if (ins.Class() == spec.ClassLD && (ins.Mode() == spec.ModeABS || ins.Mode() == spec.ModeIND)) ||
			ins.Op == spec.OpLdxMsh {
			n++
		}
	}
	return n
}

// TestCoalescedChecks: the benchmark filters check the packet length a
// handful of times, far fewer than they load, in both backends, and the
// native code holds exactly the checks the plan counted. For "tcp port 80"
// (libpcap 1.10's program, 9 loads): the verifier's guards check 24 bytes
// at the start (what both the IPv4 and the IPv6 path need), 56 on the IPv6
// path and 58 before its destination port, and the two X-relative port
// loads of the IPv4 path check X+16 and X+18 (a match on the source port
// returns before the second): 5 checks.
func TestCoalescedChecks(t *testing.T) {
	for _, bf := range benchdata.Filters() {
		p := mustVerify(t, bf.Program, verifier.Options{})
		for _, opts := range []Options{{}, {Portable: true}} {
			f, err := Compile(p, opts)
			if err != nil {
				t.Fatal(err)
			}
			n, l := f.Checks(), loads(p)
			if pl := makePlan(p); f.checks != (checkCount{pl.absChecks, pl.indChecks, pl.other}) {
				t.Errorf("%s: code has %+v checks, plan %d guards, %d indirect, %d header-relative", bf.Name, f.checks, pl.absChecks, pl.indChecks, pl.other)
			}
			t.Logf("%s (native=%v): %d length checks for %d loads", bf.Name, f.Native(), n, l)
			if n == 0 || n >= l {
				t.Errorf("%s: %d checks for %d loads: not coalesced", bf.Name, n, l)
			}
			if bf.Name == "tcp_port_80" && n > 6 {
				t.Errorf("tcp port 80: %d checks, want at most 6", n)
			}
			f.Close()
		}
	}
}

// TestPlanMatchesVerifier: the plan re-derives the length known at each
// instruction; on every corpus program and random program it equals the
// verifier's Known(pc), so no extra check is ever placed.
func TestPlanMatchesVerifier(t *testing.T) {
	var all []*verifier.Program
	progs, _ := corpusPrograms(t)
	for _, cp := range progs {
		all = append(all, cp.p)
	}
	g := progen.New(5, progen.Config{Mode: progen.Valid, Record: true, HeaderRelative: true})
	for range randomCount(3000) {
		all = append(all, mustVerify(t, g.Program(), verifier.Options{Record: true}))
	}
	for i, p := range all {
		pl := makePlan(p)
		if f, err := Compile(p, Options{}); err == nil && f.Native() {
			// The native code holds exactly the checks the plan counts.
			if f.checks != (checkCount{pl.absChecks, pl.indChecks, pl.other}) {
				t.Errorf("program %d: code has %+v checks, plan %d guards, %d indirect, %d header-relative", i, f.checks, pl.absChecks, pl.indChecks, pl.other)
			}
			f.Close()
		}
		if pl.extra != 0 {
			t.Errorf("program %d: %d absolute loads not covered by the verifier's guards", i, pl.extra)
		}
		for pc := range p.Len() {
			if pl.known[pc] != uint64(p.Known(pc)) {
				t.Errorf("program %d pc %d: plan knows %d, verifier %d", i, pc, pl.known[pc], p.Known(pc))
				break
			}
			if g := p.Guard(pc); g != 0 && pl.absGuard[pc] != g {
				t.Errorf("program %d pc %d: guard %d, verifier %d", i, pc, pl.absGuard[pc], g)
			}
		}
	}
}

// TestIndirectChecksCoalesce: a run of indirect loads off one X needs one
// check, a new X starts a new one, and a later load beyond the checked
// length needs its own.
func TestIndirectChecksCoalesce(t *testing.T) {
	ldInd := func(size uint16, k uint32) spec.Instruction {
		return spec.Stmt(spec.ClassLD|size|spec.ModeIND, k)
	}
	jeq := func(k uint32, jt, jf uint8) spec.Instruction {
		return spec.Jump(spec.ClassJMP|spec.JumpJEQ|spec.SrcK, k, jt, jf)
	}
	ret := func(k uint32) spec.Instruction { return spec.Stmt(spec.ClassRET|spec.RetK, k) }
	cases := []struct {
		name string
		prog spec.Program
		ind  int
	}{
		{"one epoch, all needed", spec.Program{
			spec.Stmt(spec.ClassLDX|spec.SizeB|spec.ModeMSH, 14),
			ldInd(spec.SizeH, 14), jeq(80, 0, 3),
			ldInd(spec.SizeH, 16), jeq(80, 0, 1),
			ret(1), ret(0),
		}, 1},
		{"return between", spec.Program{ // tcp port 80's shape: a match may end the run before the second load
			spec.Stmt(spec.ClassLDX|spec.SizeB|spec.ModeMSH, 14),
			ldInd(spec.SizeH, 14), jeq(80, 2, 0),
			ldInd(spec.SizeH, 16), jeq(80, 0, 1),
			ret(1), ret(0),
		}, 2},
		{"X small enough", spec.Program{ // ldx #2 and a 64-byte guard cover [x+10:2]
			spec.Stmt(spec.ClassLD|spec.SizeW|spec.ModeABS, 60),
			spec.Stmt(spec.ClassLDX|spec.ModeIMM, 2),
			ldInd(spec.SizeH, 10),
			spec.Stmt(spec.ClassRET|spec.RetA, 0),
		}, 0},
		{"new X", spec.Program{
			spec.Stmt(spec.ClassLDX|spec.SizeB|spec.ModeMSH, 14),
			ldInd(spec.SizeB, 20),
			spec.Stmt(spec.ClassMISC|spec.MiscTAX, 0),
			ldInd(spec.SizeB, 0),
			ret(1),
		}, 2},
	}
	for _, c := range cases {
		p := mustVerify(t, c.prog, verifier.Options{})
		if got := makePlan(p).indChecks; got != c.ind {
			t.Errorf("%s: %d indirect checks, want %d", c.name, got, c.ind)
		}
		e := compileAll(t, p)
		pkt := make([]byte, 80)
		pkt[14] = 0x45
		pkt[35], pkt[37] = 80, 80
		for n := range pkt {
			if msg := e.check(pkt[:n], uint32(n), nil); msg != "" {
				t.Errorf("%s, %d bytes: %s", c.name, n, msg)
			}
		}
		e.close(t)
	}
}

// TestMshAboveNetOff: ldx 4*([k]&0xf) at offsets from SKF_NET_OFF up,
// including the ancillary range, which the verifier admits for msh, counts
// from the network header as vm.Run does.
func TestMshAboveNetOff(t *testing.T) {
	for _, k := range []uint32{spec.NetOff, spec.NetOff + 6, spec.AncillaryBase - 1, spec.AncillaryBase, 0xffffffff, spec.LLOff + 3, spec.RecordBase, spec.RecordEnd} {
		prog := spec.Program{
			spec.Stmt(spec.ClassLDX|spec.SizeB|spec.ModeMSH, k),
			spec.Stmt(spec.ClassMISC|spec.MiscTXA, 0),
			spec.Stmt(spec.ClassRET|spec.RetA, 0),
		}
		p, err := verifier.Verify(prog, verifier.Options{Record: true})
		if err != nil {
			t.Logf("k=%#x: not verified (%v)", k, err)
			continue
		}
		e := compileAll(t, p)
		// Over 1 MiB, so that offsets from the ancillary range reach it.
		pkt := make([]byte, 1<<20+0x1000)
		for i := range pkt {
			pkt[i] = byte(i*7 + 3)
		}
		for _, off := range []uint32{0, 14, 60, 0xffffffff - 0x100000} {
			m := testMeta(1, pkt)
			m.NetOffset, m.NetOffsetValid = off, true
			for _, n := range []int{64, len(pkt)} {
				if msg := e.check(pkt[:n], uint32(n), m); msg != "" {
					t.Errorf("k=%#x net offset %d, %d bytes: %s", k, off, n, msg)
				}
			}
		}
		e.close(t)
	}
}
