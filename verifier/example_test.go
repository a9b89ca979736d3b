package verifier_test

import (
	"errors"
	"fmt"

	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
)

func ExampleVerify() {
	// ldh [12]; jeq #0x800, accept, drop
	prog := spec.Program{
		spec.Stmt(spec.ClassLD|spec.SizeH|spec.ModeABS, 12),
		spec.Jump(spec.ClassJMP|spec.JumpJEQ|spec.SrcK, 0x800, 0, 1),
		spec.Stmt(spec.ClassRET|spec.RetK, 0xffff),
		spec.Stmt(spec.ClassRET|spec.RetK, 0),
	}
	p, err := verifier.Verify(prog, verifier.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("guard at 0:", p.Guard(0), "max offset:", p.MaxOffset())

	prog[1].Jf = 9 // past the end
	_, err = verifier.Verify(prog, verifier.Options{})
	fmt.Println(err)
	fmt.Println(errors.Is(err, verifier.ErrJumpOutOfRange))
	// Output:
	// guard at 0: 14 max offset: 14
	// PC 1: jump out of range: jf +9 lands at PC 11, past the last instruction 3
	// true
}
