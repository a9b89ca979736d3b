package jit_test

import (
	"fmt"

	"github.com/wringcap/wring/jit"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
)

// Compile a verified program and run it on a packet: "ip" on Ethernet.
func Example() {
	prog := spec.Program{
		spec.Stmt(spec.ClassLD|spec.SizeH|spec.ModeABS, 12),           // ldh [12]
		spec.Jump(spec.ClassJMP|spec.JumpJEQ|spec.SrcK, 0x0800, 0, 1), // jeq #0x800, match, miss
		spec.Stmt(spec.ClassRET|spec.RetK, 262144),                    // ret #262144
		spec.Stmt(spec.ClassRET|spec.RetK, 0),                         // ret #0
	}
	p, err := verifier.Verify(prog, verifier.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	f, err := jit.Compile(p, jit.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()

	ipv4 := make([]byte, 34)
	ipv4[12], ipv4[13] = 0x08, 0x00
	arp := make([]byte, 42)
	arp[12], arp[13] = 0x08, 0x06
	fmt.Println(f.Run(ipv4, 60), f.Run(arp, 60), f.Run(ipv4[:13], 60))

	out := make([]uint32, 2)
	if err := f.RunBatch([][]byte{ipv4, arp}, nil, out); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(out)
	// Output:
	// 262144 0 0
	// [262144 0]
}
