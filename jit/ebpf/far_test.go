//go:build linux

package ebpf

import (
	"testing"

	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/vm"
)

// TestFarOffsets loads programs whose packet offsets need the long forms
// (beyond eBPF's 16-bit load offset, near and past the largest XDP frame,
// in the upper half of the 32-bit space) into the kernel for both targets
// and checks their verdicts on packets too short for them and on packets
// long enough for the near ones.
func TestFarOffsets(t *testing.T) {
	needKernel(t)
	ld := func(size uint16, k uint32) spec.Instruction {
		return spec.Stmt(spec.ClassLD|spec.ModeABS|size, k)
	}
	ind := func(size uint16, k uint32) spec.Instruction {
		return spec.Stmt(spec.ClassLD|spec.ModeIND|size, k)
	}
	retA := spec.Stmt(spec.ClassRET|spec.RetA, 0)
	ldx := func(k uint32) spec.Instruction { return spec.Stmt(spec.ClassLDX|spec.ModeIMM, k) }
	add1 := spec.Stmt(spec.ClassALU|spec.ALUAdd|spec.SrcK, 1)
	progs := map[string]spec.Program{
		"ld [40000]":             {ld(spec.SizeB, 40000), add1, retA},
		"ldh [65533]":            {ld(spec.SizeH, 65533), add1, retA},
		"ldh [65534]":            {ld(spec.SizeH, 65534), add1, retA},
		"ld [0x7ffffffe]":        {ld(spec.SizeW, 0x7ffffffe), add1, retA},
		"ldb [0x80000000]":       {ld(spec.SizeB, 0x80000000), add1, retA},
		"ldb [0xffcfffff]":       {ld(spec.SizeB, 0xffcfffff), add1, retA},
		"ldh [x+40000]":          {ldx(1000), ind(spec.SizeH, 40000), add1, retA},
		"ldh [x+65534]":          {ind(spec.SizeH, 65534), add1, retA},
		"ld [x+0xfffffff0] x=32": {ldx(32), ind(spec.SizeW, 0xfffffff0), add1, retA},
		"ldb [x+1] x=0xffffffff": {ldx(0xffffffff), ind(spec.SizeB, 1), add1, retA},
		"ldb [x+3000] x=100":     {ldx(100), ind(spec.SizeB, 3000), add1, retA},
		"ld [3000]":              {ld(spec.SizeW, 3000), add1, retA},
		"ldxb 4*([3100]&0xf)":    {spec.Stmt(spec.ClassLDX|spec.ModeMSH|spec.SizeB, 3100), spec.Stmt(spec.ClassMISC|spec.MiscTXA, 0), add1, retA},
	}
	short := make([]byte, 64)
	long := make([]byte, 3400)
	for i := range long {
		long[i] = byte(i*7 + 1)
	}
	buf := make([]byte, 0, maxTestRun)
	for name, prog := range progs {
		p := mustVerify(t, prog)
		for _, target := range []Target{XDP, SocketFilter} {
			kp, err := load(p, target)
			if err != nil {
				t.Errorf("%s %s: %v", target, name, err)
				continue
			}
			for _, pkt := range [][]byte{short, long} {
				want := vm.Run(p, pkt, uint32(len(pkt)), &xdpMeta)
				if target == XDP {
					got, err := runXDP(kp, pkt)
					if err != nil {
						t.Fatal(err)
					}
					if got != (want != 0) {
						t.Errorf("xdp %s on %d bytes: kernel match=%v, vm %d", name, len(pkt), got, want)
					}
					continue
				}
				got, err := runSocket(kp, pkt, &buf)
				if err != nil {
					t.Fatal(err)
				}
				if got != want {
					t.Errorf("socket %s on %d bytes: kernel %d, vm %d", name, len(pkt), got, want)
				}
			}
			kp.Close()
		}
	}
}
