package vm_test

import (
	"fmt"

	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
	"github.com/wringcap/wring/vm"
)

func ExampleRun() {
	// ldh [12]; jeq #0x800, keep 96 bytes, drop
	p, err := verifier.Verify(spec.Program{
		spec.Stmt(spec.ClassLD|spec.SizeH|spec.ModeABS, 12),
		spec.Jump(spec.ClassJMP|spec.JumpJEQ|spec.SrcK, 0x800, 0, 1),
		spec.Stmt(spec.ClassRET|spec.RetK, 96),
		spec.Stmt(spec.ClassRET|spec.RetK, 0),
	}, verifier.Options{})
	if err != nil {
		panic(err)
	}
	ipv4 := make([]byte, 60)
	ipv4[12], ipv4[13] = 0x08, 0x00
	fmt.Println(vm.Run(p, ipv4, 60, nil))
	fmt.Println(vm.Run(p, ipv4[:13], 60, nil)) // too short for ldh [12]
	// Output:
	// 96
	// 0
}
