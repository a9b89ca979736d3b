//go:build linux

package rulemaps

import (
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
)

// TestFetchAdd checks the workaround in fetchAdd: the kernel returns the
// old value, 0, 1, 2.
func TestFetchAdd(t *testing.T) {
	needKernel(t)
	mp, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer mp.Close()
	insns := asm.Instructions{
		asm.Mov.Imm(asm.R1, 0),
		asm.StoreMem(asm.RFP, -8, asm.R1, asm.DWord),
		asm.LoadMapPtr(asm.R1, mp.FD()),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -8),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "out"),
		asm.Mov.Imm(asm.R1, 1),
		fetchAdd(asm.R0, asm.R1),
		asm.Mov.Reg(asm.R0, asm.R1),
		asm.Return(),
		asm.Mov.Imm(asm.R0, 99).WithSymbol("out"),
		asm.Return(),
	}
	p, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.SchedCLS, License: "GPL", Instructions: insns})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for want := uint32(0); want < 3; want++ {
		r, err := p.Run(&ebpf.RunOptions{Data: make([]byte, 60)})
		if err != nil {
			t.Fatal(err)
		}
		if r != want {
			t.Errorf("run %d: fetch-add returned %d", want, r)
		}
	}
}
