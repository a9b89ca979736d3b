package spec_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/wringcap/wring/spec"
)

func TestParseFormat(t *testing.T) {
	for _, f := range []spec.Format{spec.TextAuto, spec.TextListing, spec.TextC, spec.TextDecimal, spec.TextAsm} {
		got, err := spec.ParseFormat(f.String())
		if err != nil || got != f {
			t.Errorf("ParseFormat(%q) = %v, %v", f.String(), got, err)
		}
	}
	for name, want := range map[string]spec.Format{"ddd": spec.TextDecimal, "-dd": spec.TextC, "d": spec.TextListing, "bpf_asm": spec.TextAsm} {
		if got, err := spec.ParseFormat(name); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %v, %v; want %v", name, got, err, want)
		}
	}
	if _, err := spec.ParseFormat("hex"); err == nil || !strings.Contains(err.Error(), `"hex"`) {
		t.Errorf("ParseFormat(hex) error = %v", err)
	}
}

func TestDetectFormat(t *testing.T) {
	cases := []struct {
		src  string
		want spec.Format
	}{
		{"(000) ret      #0\n", spec.TextListing},
		{"\n  (000) ldh [12]", spec.TextListing},
		{"{ 0x6, 0, 0, 0x00000000 },\n", spec.TextC},
		{"/* generated */\nstruct sock_filter code[] = {\n{ 0x6, 0, 0, 0 },\n};\n", spec.TextC},
		{"/*\n * generated\n */\n{ 0x6, 0, 0, 0 },\n", spec.TextC},
		{"1\n6 0 0 0\n", spec.TextDecimal},
		{"4,40 0 0 12,21 0 1 2048,6 0 0 65535,6 0 0 0,", spec.TextDecimal},
		{"ldh [12]\nret #0\n", spec.TextAsm},
		{"; comment\n# another\nret #0\n", spec.TextAsm},
		{"L1: ret a", spec.TextAsm},
		{"", spec.TextAsm},
	}
	for _, c := range cases {
		if got := spec.DetectFormat([]byte(c.src)); got != c.want {
			t.Errorf("DetectFormat(%q) = %v, want %v", c.src, got, c.want)
		}
	}
}

// TestParseText checks programs in each format against hand-assembled
// instructions.
func TestParseText(t *testing.T) {
	want := spec.Program{
		spec.Stmt(spec.ClassLD|spec.SizeH|spec.ModeABS, 12),
		spec.Jump(spec.ClassJMP|spec.JumpJEQ|spec.SrcK, 0x800, 0, 1),
		spec.Stmt(spec.ClassRET|spec.RetK, 0xffffffff),
		spec.Stmt(spec.ClassRET|spec.RetK, 0),
	}
	cases := []struct {
		name string
		f    spec.Format
		src  string
	}{
		{"listing", spec.TextListing, "(000) ldh      [12]\n(001) jeq      #0x800           jt 2\tjf 3\n(002) ret      #-1\n(003) ret      #0\n"},
		{"listing with comments", spec.TextListing, "; tcpdump -d\n(000) ldh [12] ; 0x28\n(001) jeq #2048 jt 2 jf 3 ; taken\n(002) ret #4294967295\n(003) ret #0x0 ; 0x0006\n"},
		{"c", spec.TextC, "{ 0x28, 0, 0, 0x0000000c },\n{ 0x15, 0, 1, 0x00000800 },\n{ 0x6, 0, 0, 0xffffffff },\n{ 0x6, 0, 0, 0x00000000 },\n"},
		{"c declaration", spec.TextC, "struct sock_filter code[] = {\n\t{ 0x28,  0,  0, 0x0000000c }, // ldh [12]\n\t{ 0x15,  0,  1, 0x00000800 },\n\t{ 0x06,  0,  0, 0xffffffff },\n\t{ 0x06,  0,  0, 0000000000 }\n};\n"},
		{"decimal", spec.TextDecimal, "4\n40 0 0 12\n21 0 1 2048\n6 0 0 4294967295\n6 0 0 0\n"},
		{"decimal one line", spec.TextDecimal, "4,40 0 0 12,21 0 1 2048,6 0 0 4294967295,6 0 0 0,\n"},
		{"asm", spec.TextAsm, "  ldh [12]\n  jne #0x800, drop ; not IPv4\n  ret #-1\ndrop: ret #0\n"},
		{"asm caseless", spec.TextAsm, "/* block\n comment */\n# line comment\nLDH [12]\nJEQ #2048, keep, drop\nkeep: RET #0xffffffff\ndrop: RET #0\n"},
	}
	for _, c := range cases {
		got, err := spec.ParseText([]byte(c.src), c.f)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s:\n- want: %v\n-  got: %v", c.name, want, got)
		}
		if auto, err := spec.ParseText([]byte(c.src), spec.TextAuto); err != nil || !slices.Equal(auto, want) {
			t.Errorf("%s: auto-detected parse: %v, %v", c.name, auto, err)
		}
	}
}

// TestAsmSyntax covers bpf_asm forms beyond what the printers write.
func TestAsmSyntax(t *testing.T) {
	cases := []struct {
		src  string
		want spec.Instruction
	}{
		{"ld len", spec.Stmt(spec.ClassLD|spec.SizeW|spec.ModeLEN, 0)},
		{"ldx #len", spec.Stmt(spec.ClassLDX|spec.SizeW|spec.ModeLEN, 0)},
		{"ld proto", spec.Stmt(spec.ClassLD|spec.SizeW|spec.ModeABS, spec.AncillaryBase+spec.AncProtocol)},
		{"ldb #vlan_pr", spec.Stmt(spec.ClassLD|spec.SizeB|spec.ModeABS, spec.AncillaryBase+spec.AncVLANTagPresent)},
		{"ld #vlan_avail", spec.Stmt(spec.ClassLD|spec.SizeW|spec.ModeABS, spec.AncillaryBase+spec.AncVLANTagPresent)},
		{"ld #rand", spec.Stmt(spec.ClassLD|spec.SizeW|spec.ModeABS, spec.AncillaryBase+spec.AncRandom)},
		{"ldi 5", spec.Stmt(spec.ClassLD|spec.ModeIMM, 5)},
		{"ldxi #0b101", spec.Stmt(spec.ClassLDX|spec.ModeIMM, 5)},
		{"ld #010", spec.Stmt(spec.ClassLD|spec.ModeIMM, 8)},
		{"ldx 4*([14]&0xf)", spec.Stmt(spec.ClassLDX|spec.ModeMSH|spec.SizeB, 14)},
		{"ldh [%x + -2]", spec.Stmt(spec.ClassLD|spec.SizeH|spec.ModeIND, 0xfffffffe)},
		{"add %x", spec.Stmt(spec.ClassALU|spec.ALUAdd|spec.SrcX, 0)},
		{"ret %a", spec.Stmt(spec.ClassRET|spec.RetA, 0)},
		{"ret x", spec.Stmt(spec.ClassRET|0x08, 0)},
		{"jlt #5, end\nld #1\nend: ret a", spec.Jump(spec.ClassJMP|spec.JumpJGE, 5, 0, 1)},
		{"ld random\nja random\nrandom: ret a", spec.Stmt(spec.ClassLD|spec.SizeW|spec.ModeABS, spec.AncillaryBase+spec.AncRandom)},
	}
	for _, c := range cases {
		got, err := spec.ParseText([]byte(c.src), spec.TextAsm)
		if err != nil || len(got) == 0 || got[0] != c.want {
			t.Errorf("%q: got %v, %v; want %v", c.src, got, err, c.want)
		}
	}
}

// TestSyntaxErrors checks that bad text is reported with its line, column
// and a message naming the problem.
func TestSyntaxErrors(t *testing.T) {
	cases := []struct {
		f         spec.Format
		src       string
		line, col int
		msg       string
	}{
		{spec.TextListing, "(000) ldh [12]\n(002) ret #0\n", 2, 2, "out of sequence"},
		{spec.TextListing, "(000) lda [12]\n", 1, 7, `unknown instruction "lda"`},
		{spec.TextListing, "(000) ldh [bogus]\n", 1, 12, `unknown ancillary load "bogus"`},
		{spec.TextListing, "(000) jeq #1 jt 0 jf 2\n", 1, 17, "jt target 0"},
		{spec.TextListing, "(000) ret #99999999999\n", 1, 12, "out of the 32-bit range"},
		{spec.TextListing, "(000) ret #1 ; 0x0016\n", 1, 16, "does not match"},
		{spec.TextListing, "(000) tax junk\n", 1, 11, `unexpected "junk"`},
		{spec.TextC, "{ 0x6, 0, 0 },\n", 1, 13, `expected ","`},
		{spec.TextC, "{ 0x6, 0, 256, 0 },\n", 1, 11, "does not fit in 8 bits"},
		{spec.TextC, "{ 0x10000, 0, 0, 0 },\n", 1, 3, "does not fit in 16 bits"},
		{spec.TextC, "/* open", 1, 1, "unterminated"},
		{spec.TextDecimal, "2\n6 0 0 0\n", 1, 1, "count says 2"},
		{spec.TextDecimal, "1\n6 0 0 0\n6 0 0 0\n", 3, 1, "more instructions than the count"},
		{spec.TextDecimal, "1\n6 0 0\n", 3, 1, "incomplete"},
		{spec.TextDecimal, "1\n6 0 x 0\n", 2, 5, "expected a number"},
		{spec.TextAsm, "ldh [12]\njeq #1, nowhere\nret #0\n", 2, 9, `no such label "nowhere"`},
		{spec.TextAsm, "a1: ret #0\na1: ret #1\n", 2, 1, "defined twice"},
		{spec.TextAsm, "ret #0\nend:\n", 2, 1, "not followed by an instruction"},
		{spec.TextAsm, "ld [x - 1]\n", 1, 7, `expected "+"`},
		{spec.TextAsm, "ldxb 3*([14]&0xf)\n", 1, 6, "only 4*([k]&0xf)"},
		{spec.TextAsm, "frob #1\n", 1, 1, `unknown instruction "frob"`},
		{spec.TextAsm, "len: ret #0\n", 1, 1, "reserved word"},
		{spec.TextAsm, "M: ret #0\n", 1, 1, "reserved word"},
		{spec.TextAsm, "ldx proto\n", 1, 5, "ldx cannot load an ancillary value"},
		{spec.TextAsm, "ret #0 @\n", 1, 8, `expected an instruction, found "@"`},
	}
	for _, c := range cases {
		_, err := spec.ParseText([]byte(c.src), c.f)
		var se *spec.SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("%v %q: error %v is not a *SyntaxError", c.f, c.src, err)
			continue
		}
		if se.Line != c.line || se.Col != c.col || !strings.Contains(se.Msg, c.msg) {
			t.Errorf("%v %q:\n- want: line %d, column %d: ...%s...\n-  got: %v", c.f, c.src, c.line, c.col, c.msg, err)
		}
		if !strings.HasPrefix(err.Error(), "line ") {
			t.Errorf("%v %q: error text %q does not start with the line", c.f, c.src, err)
		}
	}
}

// TestAsmLongJump checks that a conditional jump further than 255
// instructions is reported, not truncated.
func TestAsmLongJump(t *testing.T) {
	var b strings.Builder
	b.WriteString("jeq #1, far\n")
	for range 256 {
		b.WriteString("ld #0\n")
	}
	b.WriteString("far: ret #0\n")
	_, err := spec.ParseText([]byte(b.String()), spec.TextAsm)
	var se *spec.SyntaxError
	if !errors.As(err, &se) || se.Line != 1 || se.Col != 9 || !strings.Contains(se.Msg, "out of range") {
		t.Fatalf("got %v", err)
	}
}

// TestFormatAsmErrors checks that programs assembly cannot express are
// refused with the PC.
func TestFormatAsmErrors(t *testing.T) {
	for _, p := range []spec.Program{
		{spec.Jump(spec.ClassJMP|spec.JumpJEQ, 0, 5, 0), spec.Stmt(spec.ClassRET, 0)},
		{spec.Stmt(spec.ClassJMP|spec.JumpJA, 1), spec.Stmt(spec.ClassRET, 0)},
		{spec.Stmt(spec.ClassRET, 0), spec.Stmt(0xff, 0)},
	} {
		var b strings.Builder
		err := spec.FormatAsm(&b, p)
		if err == nil || !strings.Contains(err.Error(), "pc ") {
			t.Errorf("FormatAsm(%v) = %v", p, err)
		}
	}
}
