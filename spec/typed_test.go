package spec_test

import (
	"errors"
	"fmt"
	"sort"
	"testing"

	"golang.org/x/net/bpf"

	"github.com/wringcap/wring/spec"
)

// sampleKs are the constants each opcode is tried with: small, scratch
// edge, every ancillary offset and a bad one, record loads, Linux's
// negative offsets.
func sampleKs() []uint32 {
	ks := []uint32{0, 5, 15, 16, 0x800, 0x7fffffff, 0xffffffff,
		spec.AncillaryBase + 1, spec.AncillaryBase + spec.AncMax, spec.NetOff + 9, spec.LLOff,
		spec.RecordBase, spec.RecordBase + spec.RecDstPort, spec.RecordEnd}
	for off := uint32(0); off < spec.AncMax; off += 4 {
		ks = append(ks, spec.AncillaryBase+off)
	}
	return ks
}

// TestDisassembleRoundTrip checks every 16-bit opcode: Disassemble then
// Assemble gives back the instruction (its canonical form when it has a
// typed form), and every opcode Known reports has a typed form.
func TestDisassembleRoundTrip(t *testing.T) {
	typed, raw := 0, 0
	for op := 0; op <= 0xffff; op++ {
		for _, k := range sampleKs() {
			ins := spec.Instruction{Op: uint16(op), Jt: 3, Jf: 7, K: k}
			in := spec.Disassemble(ins)
			got, err := in.Assemble()
			if err != nil {
				t.Fatalf("%+v: Assemble(%#v): %v", ins, in, err)
			}
			if r, isRaw := in.(spec.Instruction); isRaw {
				raw++
				if r != ins || got != ins {
					t.Fatalf("%+v: raw passthrough changed it to %+v", ins, got)
				}
				scratch := (ins.Op == 0x60 || ins.Op == 0x61 || ins.Op == 0x02 || ins.Op == 0x03) && k >= 16
				if ins.Known() && ins.Op != 0x0e && !scratch {
					t.Fatalf("%+v: known opcode has no typed form", ins)
				}
				continue
			}
			typed++
			if got != ins.Canonical() {
				t.Fatalf("%+v: %#v assembles to %+v, want %+v", ins, in, got, ins.Canonical())
			}
			if !ins.Known() {
				t.Fatalf("%+v: unknown opcode disassembled to %#v", ins, in)
			}
		}
	}
	t.Logf("%d instructions decoded to typed forms, %d kept raw", typed, raw)
}

func TestAssembleErrors(t *testing.T) {
	for _, in := range []spec.Insn{
		spec.LoadAbsolute{Off: 1, Size: 3},
		spec.LoadIndirect{Size: 8},
		spec.LoadScratch{N: 16},
		spec.StoreScratch{Src: spec.RegX, N: -1},
		spec.LoadConstant{Dst: 2},
		spec.ALUOpConstant{Op: 0x80},
		spec.ALUOpX{Op: 0xb0},
		spec.JumpIf{Cond: 8},
		spec.LoadExtension{Num: 2},
		spec.LoadExtension{Num: spec.ExtLen, Size: 1},
		spec.LoadRecord{Off: spec.RecordSize, Size: 4},
	} {
		if _, err := in.Assemble(); !errors.Is(err, spec.ErrAssemble) {
			t.Errorf("%#v: Assemble error = %v, want ErrAssemble", in, err)
		}
	}
	if _, err := spec.AssembleAll([]spec.Insn{spec.ReturnA{}, spec.LoadAbsolute{Size: 3}}); err == nil || err.Error()[:13] != "instruction 1" {
		t.Errorf("AssembleAll error = %v, want it to name instruction 1", err)
	}
}

// TestNegatedJumps checks that the negated tests swap the targets.
func TestNegatedJumps(t *testing.T) {
	for _, c := range []struct {
		in   spec.Insn
		want spec.Instruction
	}{
		{spec.JumpIf{Cond: spec.JumpNotEqual, Val: 6, SkipTrue: 2}, spec.Jump(0x15, 6, 0, 2)},
		{spec.JumpIf{Cond: spec.JumpLessThan, Val: 6, SkipTrue: 2, SkipFalse: 1}, spec.Jump(0x35, 6, 1, 2)},
		{spec.JumpIfX{Cond: spec.JumpLessOrEqual, SkipFalse: 4}, spec.Jump(0x2d, 0, 4, 0)},
		{spec.JumpIf{Cond: spec.JumpBitsNotSet, Val: 1, SkipTrue: 9}, spec.Jump(0x45, 1, 0, 9)},
	} {
		got, err := c.in.Assemble()
		if err != nil || got != c.want {
			t.Errorf("%#v: got %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
}

// xnetDivergence classifies the instructions on which x/net/bpf's
// Disassemble → Assemble does not give back the instruction, where
// spec's does.
func xnetDivergence(ins spec.Instruction) string {
	switch {
	case ins.Op == spec.ClassLDX|spec.SizeW|spec.ModeLEN:
		return "ldx #len decodes to ld #len"
	case ins.Class() == spec.ClassLD && ins.Mode() == spec.ModeABS && ins.K >= spec.AncillaryBase && ins.Size() != spec.SizeW:
		return "ldb/ldh of an ancillary offset decodes to a 4-byte load"
	case ins.Class() == spec.ClassLD && ins.Mode() == spec.ModeABS && ins.K == spec.AncillaryBase+1:
		return "ancillary offset 1 decodes to ExtLen"
	}
	return ""
}

// TestXNetInterop checks the raw conversion both ways on every canonical
// known instruction and compares typed decoding with x/net/bpf's: both
// must give back the instruction, except on the x/net shortcomings
// listed in xnetDivergence (each must still occur, so the list stays true).
func TestXNetInterop(t *testing.T) {
	seen := map[string]int{}
	checked := 0
	for op := 0; op <= 0xffff; op++ {
		for _, k := range sampleKs() {
			ins := spec.Instruction{Op: uint16(op), Jt: 3, Jf: 7, K: k}.Canonical()
			if !ins.Known() || ins.Op == 0x0e {
				continue
			}
			if spec.Instruction(bpf.RawInstruction(ins)) != ins {
				t.Fatalf("%+v: raw conversion is not the identity", ins)
			}
			xin := bpf.RawInstruction(ins).Disassemble()
			xraw, err := xin.Assemble()
			if err != nil {
				t.Fatalf("%+v: x/net cannot assemble its own %#v: %v", ins, xin, err)
			}
			checked++
			if spec.Instruction(xraw) == ins {
				continue
			}
			why := xnetDivergence(ins)
			if why == "" {
				t.Errorf("%+v: x/net decodes to %#v = %+v; not a listed divergence", ins, xin, xraw)
				continue
			}
			seen[why]++
		}
	}
	var kinds []string
	for k, n := range seen {
		kinds = append(kinds, fmt.Sprintf("%s: %d", k, n))
	}
	sort.Strings(kinds)
	t.Logf("%d canonical instructions; x/net/bpf round trip differs on: %v", checked, kinds)
	if len(seen) != 3 {
		t.Errorf("expected all 3 listed x/net divergences to occur, saw %v", kinds)
	}
}

// TestXNetPlainConversions shows the typed kinds that convert to and from
// x/net/bpf with a plain Go conversion, and that both sides assemble alike.
func TestXNetPlainConversions(t *testing.T) {
	pairs := []struct {
		ours   spec.Insn
		theirs bpf.Instruction
	}{
		{spec.LoadAbsolute{Off: 12, Size: 2}, bpf.LoadAbsolute(spec.LoadAbsolute{Off: 12, Size: 2})},
		{spec.LoadIndirect{Off: 14, Size: 1}, bpf.LoadIndirect(spec.LoadIndirect{Off: 14, Size: 1})},
		{spec.LoadMemShift{Off: 14}, bpf.LoadMemShift(spec.LoadMemShift{Off: 14})},
		{spec.JumpAlways{Skip: 3}, bpf.Jump(spec.JumpAlways{Skip: 3})},
		{spec.RetConstant{Val: 0xffff}, bpf.RetConstant(spec.RetConstant{Val: 0xffff})},
		{spec.ReturnA{}, bpf.RetA(spec.ReturnA{})},
		{spec.NegateA{}, bpf.NegateA(spec.NegateA{})},
		{spec.TAX{}, bpf.TAX(spec.TAX{})},
		{spec.TXA{}, bpf.TXA(spec.TXA{})},
	}
	for _, p := range pairs {
		a, err1 := p.ours.Assemble()
		b, err2 := p.theirs.Assemble()
		if err1 != nil || err2 != nil || a != spec.Instruction(b) {
			t.Errorf("%#v: ours %+v (%v), x/net %+v (%v)", p.ours, a, err1, b, err2)
		}
	}
	// And back.
	if got := spec.LoadAbsolute(bpf.LoadAbsolute{Off: 23, Size: 1}); got != (spec.LoadAbsolute{Off: 23, Size: 1}) {
		t.Errorf("conversion from x/net: %#v", got)
	}
}

// TestTypedStrings spot-checks the bpf_asm text of typed instructions.
func TestTypedStrings(t *testing.T) {
	for _, c := range []struct {
		in   fmt.Stringer
		want string
	}{
		{spec.LoadAbsolute{Off: 12, Size: 2}, "ldh [12]"},
		{spec.LoadIndirect{Off: 14, Size: 4}, "ld [x + 14]"},
		{spec.LoadConstant{Dst: spec.RegX, Val: 8}, "ldx #0x8"},
		{spec.LoadScratch{Dst: spec.RegA, N: 3}, "ld M[3]"},
		{spec.StoreScratch{Src: spec.RegX, N: 3}, "stx M[3]"},
		{spec.LoadExtension{Num: spec.ExtVLANTagPresent, Size: 1}, "ldb #vlan_avail"},
		{spec.LoadExtension{Num: spec.ExtLen}, "ld #len"},
		{spec.LoadRecord{Off: spec.RecDstPort, Size: 2}, "ldh [0xffd0002c]"},
		{spec.ALUOpConstant{Op: spec.ALUOpAnd, Val: 0xf0}, "and #0xf0"},
		{spec.ALUOpConstant{Op: spec.ALUOpShiftRight, Val: 4}, "rsh #4"},
		{spec.ALUOpX{Op: spec.ALUOpMod}, "mod x"},
		{spec.JumpIf{Cond: spec.JumpEqual, Val: 0x800, SkipFalse: 3}, "jeq #0x800, +0, +3"},
		{spec.JumpIfX{Cond: spec.JumpGreaterThan, SkipTrue: 1}, "jgt x, +1, +0"},
		{spec.RetConstant{Val: 262144}, "ret #262144"},
	} {
		if got := c.in.String(); got != c.want {
			t.Errorf("%#v.String() = %q, want %q", c.in, got, c.want)
		}
	}
}
