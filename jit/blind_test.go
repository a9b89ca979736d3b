package jit

import (
	"bytes"
	"encoding/hex"
	"testing"

	"github.com/wringcap/wring/internal/progen"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
)

// The blinding property, precisely. For a program P let T(P) be the set of
// 32-bit values made of every instruction constant k of P with k >= 0x100
// (a value that needs at least two bytes) and every packet length the
// compiled code checks. A 4-byte window of code "contains v verbatim" when
// its bytes are the little-endian encoding of v, the way an imm32 or
// disp32 field holds it. For code compiled with blinding:
//
//  1. no window that overlaps a keyed field (a field computed from a
//     random key) contains any v of T(P) — Compile redraws the keys until
//     this holds, so it holds for every Filter it returns;
//  2. no window at all contains any v of T(P), except windows that are
//     exactly the rel32 field of a jump (those hold code distances, fixed
//     by the program's layout; no JIT blinds them).
//
// Values below 0x100 are left out: single bytes such as 6 (TCP) or 0x45
// occur in any x86 code. Without blinding the same programs do show their
// constants verbatim, which shows the scan can see them.

// codeOf returns a native filter's machine code.
func codeOf(t *testing.T, f *Filter) []byte {
	t.Helper()
	if f.native == nil {
		t.Fatal("not a native filter")
	}
	return f.native.bytes()[:f.layout.size]
}

// verbatim returns the offsets of the windows of code that contain a value
// of targets, leaving out windows that start at a jump's rel32 field.
func verbatim(code []byte, jumps []span, targets map[[4]byte]bool) []int {
	skip := map[int]bool{}
	for _, j := range jumps {
		skip[j.at] = true
	}
	var out []int
	for at := 0; at+4 <= len(code); at++ {
		if !skip[at] && targets[[4]byte(code[at:at+4])] {
			out = append(out, at)
		}
	}
	return out
}

// targetsOf returns T(P).
func targetsOf(p *verifier.Program) map[[4]byte]bool {
	ks := make([]uint32, p.Len())
	for pc := range ks {
		ks[pc] = p.At(pc).K
	}
	return blindTargets(ks, makePlan(p))
}

// TestBlindingHidesConstants is acceptance line 3 (blinding) over the
// corpus programs and random programs.
func TestBlindingHidesConstants(t *testing.T) {
	if !nativeSupported {
		t.Skip("no native backend on this platform: nothing lands in executable memory")
	}
	progs, _ := corpusPrograms(t)
	var all []*verifier.Program
	for _, cp := range progs {
		all = append(all, cp.p)
	}
	g := progen.New(42, progen.Config{Mode: progen.Valid, MaxLen: 200})
	for range randomCount(1000) {
		all = append(all, mustVerify(t, g.Program(), verifier.Options{}))
	}
	var checked, shownPlain, targets int
	for i, p := range all {
		tg := targetsOf(p)
		targets += len(tg)
		blind, err := Compile(p, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !blind.Native() {
			blind.Close()
			continue
		}
		code := codeOf(t, blind)
		if at := verbatimAt(code, blind.layout.keyed, tg); at >= 0 {
			t.Errorf("program %d: keyed window at %d holds a constant: % x", i, at, code[at:at+4])
		}
		if hits := verbatim(code, blind.layout.jumps, tg); len(hits) > 0 {
			t.Errorf("program %d: %d windows hold a program constant, first at %d: % x", i, len(hits), hits[0], code[hits[0]:hits[0]+4])
		}
		checked++

		// The control: compare constants >= 0x100 that the unblinded code
		// encodes as imm32 must be visible there.
		plain, err := Compile(p, Options{NoBlinding: true})
		if err != nil {
			t.Fatal(err)
		}
		pcode := codeOf(t, plain)
		for pc := range p.Len() {
			ins := p.At(pc)
			if !isCondJump(ins) || ins.Src() != spec.SrcK || ins.K < 0x100 || ins.K >= 0xffffff80 || ins.Jt == ins.Jf {
				continue
			}
			w := le32(ins.K)
			if !bytes.Contains(pcode, w[:]) {
				t.Errorf("program %d pc %d: unblinded code lacks constant %#x:\n%s", i, pc, ins.K, hex.Dump(pcode))
			}
			shownPlain++
		}
		blind.Close()
		plain.Close()
	}
	t.Logf("%d programs, %d distinct constants and lengths hidden; control: %d compare constants visible without blinding", checked, targets, shownPlain)
	if shownPlain == 0 {
		t.Fatal("the control found no constant in unblinded code: the scan sees nothing")
	}
}

// TestBlindingKeysDiffer: two compiles of one program differ in their
// keyed bytes (the keys are drawn per compile), and run the same.
func TestBlindingKeysDiffer(t *testing.T) {
	if !nativeSupported {
		t.Skip("no native backend on this platform")
	}
	p := mustVerify(t, tcpPort80(t), verifier.Options{})
	a, err := Compile(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Compile(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if bytes.Equal(codeOf(t, a), codeOf(t, b)) {
		t.Fatal("two blinded compiles produced identical code")
	}
	for _, pkt := range syntheticPackets() {
		if x, y := a.Run(pkt, uint32(len(pkt))), b.Run(pkt, uint32(len(pkt))); x != y {
			t.Fatalf("%d-byte packet: %d vs %d", len(pkt), x, y)
		}
	}
}

// TestBlindingGuaranteeHoldsAgainstChosenConstants: a program whose
// constants are chosen to look like the code around them (x86 opcode
// bytes of the blinding sequence itself) still compiles, and its keyed
// windows hold none of them.
func TestBlindingGuaranteeHoldsAgainstChosenConstants(t *testing.T) {
	if !nativeSupported {
		t.Skip("no native backend on this platform")
	}
	var prog spec.Program
	// mov r8d, imm32 is 41 b8; xor r8d, imm32 is 41 81 f0; cmp eax, r8d 44 39 c0.
	for _, k := range []uint32{0x41b84181, 0xf0443941, 0xc0b84181, 0x8141b841, 0x000041b8} {
		prog = append(prog, spec.Jump(spec.ClassJMP|spec.JumpJEQ|spec.SrcK, k, 0, 0))
	}
	prog = append(prog, spec.Stmt(spec.ClassRET|spec.RetK, 0x41b8c3c3))
	p := mustVerify(t, prog, verifier.Options{})
	for range 50 {
		f, err := Compile(p, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if at := verbatimAt(codeOf(t, f), f.layout.keyed, targetsOf(p)); at >= 0 {
			t.Fatalf("keyed window at %d holds a constant", at)
		}
		f.Close()
	}
}
