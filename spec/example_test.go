package spec_test

import (
	"fmt"
	"os"

	"golang.org/x/net/bpf"

	"github.com/wringcap/wring/spec"
)

// Read tcpdump -d output and print it as bpf_asm assembly with labels.
func ExampleParseText() {
	listing := `(000) ldh      [12]
(001) jeq      #0x800           jt 2	jf 5
(002) ldb      [23]
(003) jeq      #0x6             jt 4	jf 5
(004) ret      #262144
(005) ret      #0
`
	prog, err := spec.ParseText([]byte(listing), spec.TextAuto)
	if err != nil {
		fmt.Println(err)
		return
	}
	spec.FormatAsm(os.Stdout, prog)
	// Output:
	// 	ldh [12]
	// 	jneq #0x800, L5
	// 	ldb [23]
	// 	jneq #0x6, L5
	// 	ret #262144
	// L5:	ret #0
}

// Syntax errors carry the line and column.
func ExampleSyntaxError() {
	_, err := spec.ParseText([]byte("ldh [12]\njeq #0x800, ipv4\nret #0\n"), spec.TextAsm)
	fmt.Println(err)
	// Output:
	// line 2, column 13: no such label "ipv4"
}

// Write a program the way tcpdump -ddd does (the count, then one
// instruction per line).
func ExampleFormatDecimal() {
	prog := spec.Program{
		spec.Stmt(spec.ClassLD|spec.SizeH|spec.ModeABS, 12),
		spec.Jump(spec.ClassJMP|spec.JumpJEQ|spec.SrcK, 0x86dd, 0, 1),
		spec.Stmt(spec.ClassRET|spec.RetK, 262144),
		spec.Stmt(spec.ClassRET|spec.RetK, 0),
	}
	spec.FormatDecimal(os.Stdout, prog)
	// Output:
	// 4
	// 40 0 0 12
	// 21 0 1 34525
	// 6 0 0 262144
	// 6 0 0 0
}

// Decode raw instructions into typed ones and encode them again.
func ExampleDisassemble() {
	prog := spec.Program{
		{Op: 0x28, K: 12},
		{Op: 0x15, Jt: 0, Jf: 1, K: 0x800},
		{Op: 0x30, K: spec.AncillaryBase + spec.AncVLANTagPresent},
		{Op: 0x06, K: 0xffff},
	}
	insns, all := prog.Disassemble()
	for _, in := range insns {
		fmt.Printf("%#v\n", in)
	}
	back, _ := spec.AssembleAll(insns)
	fmt.Println(all, back[2] == prog[2])
	// Output:
	// spec.LoadAbsolute{Off:0xc, Size:2}
	// spec.JumpIf{Cond:0x0, Val:0x800, SkipTrue:0x0, SkipFalse:0x1}
	// spec.LoadExtension{Num:0x30, Size:1}
	// spec.RetConstant{Val:0xffff}
	// true true
}

// Instructions convert to and from golang.org/x/net/bpf with plain Go
// conversions: spec.Instruction is bpf.RawInstruction's layout, and typed
// kinds with plain integer fields match x/net's field for field.
func Example_xnetConversion() {
	ins := spec.Instruction{Op: 0x28, K: 12}
	raw := bpf.RawInstruction(ins) // spec → x/net
	fmt.Printf("%#v\n", raw.Disassemble())
	fmt.Printf("%+v\n", spec.Instruction(raw)) // x/net → spec

	typed := bpf.LoadAbsolute(spec.LoadAbsolute{Off: 23, Size: 1})
	fmt.Printf("%#v\n", typed)
	fmt.Printf("%#v\n", spec.RetConstant(bpf.RetConstant{Val: 96}))
	// Output:
	// bpf.LoadAbsolute{Off:0xc, Size:2}
	// {Op:40 Jt:0 Jf:0 K:12}
	// bpf.LoadAbsolute{Off:0x17, Size:1}
	// spec.RetConstant{Val:0x60}
}
