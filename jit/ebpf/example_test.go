package ebpf_test

import (
	"fmt"
	"strings"

	"github.com/cilium/ebpf/asm"
	"github.com/wringcap/wring/jit/ebpf"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
)

// A filter spliced into a caller's XDP program: the caller keeps the
// context in R6, and places the labels the filter jumps to.
func ExampleTranslate() {
	// ip: ldh [12]; jeq #0x800 jt 2 jf 3; ret #262144; ret #0
	p, err := verifier.Verify(spec.Program{
		spec.Stmt(spec.ClassLD|spec.ModeABS|spec.SizeH, 12),
		spec.Jump(spec.ClassJMP|spec.JumpJEQ|spec.SrcK, 0x800, 0, 1),
		spec.Stmt(spec.ClassRET|spec.RetK, 262144),
		spec.Stmt(spec.ClassRET|spec.RetK, 0),
	}, verifier.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	filter, err := ebpf.Translate(p, ebpf.Options{
		Target:       ebpf.XDP,
		MatchLabel:   "capture",
		NoMatchLabel: "pass",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	prog := asm.Instructions{asm.Mov.Reg(asm.R6, asm.R1)}
	prog = append(prog, filter...)
	prog = append(prog,
		asm.Mov.Imm(asm.R0, ebpf.XDPDrop).WithSymbol("capture"), // or redirect to an AF_XDP socket
		asm.Return(),
		asm.Mov.Imm(asm.R0, ebpf.XDPPass).WithSymbol("pass"),
		asm.Return(),
	)
	for i, ins := range prog {
		if sym := ins.Symbol(); sym != "" {
			fmt.Printf("%s:\n", sym)
		}
		fmt.Printf("%2d: %s\n", i, strings.TrimSpace(fmt.Sprint(ins)))
	}
	// Output:
	//  0: MovReg dst: r6 src: r1
	//  1: LdXMemW dst: r2 src: r6 off: 0 imm: 0
	//  2: LdXMemW dst: r3 src: r6 off: 4 imm: 0
	//  3: MovImm32 dst: r7 imm: 0
	//  4: MovImm32 dst: r8 imm: 0
	//  5: MovReg dst: r9 src: r2
	//  6: AddImm dst: r9 imm: 14
	//  7: JGTReg dst: r9 off: -1 src: r3 <pass>
	//  8: LdXMemH dst: r7 src: r2 off: 12 imm: 0
	//  9: SwapBE dst: r7
	// 10: JNE32Imm dst: r7 off: -1 imm: 2048 <pass>
	// 11: MovImm32 dst: r7 imm: 262144
	// 12: Ja off: -1 <capture>
	// capture:
	// 13: MovImm dst: r0 imm: 1
	// 14: Exit
	// pass:
	// 15: MovImm dst: r0 imm: 2
	// 16: Exit
}
