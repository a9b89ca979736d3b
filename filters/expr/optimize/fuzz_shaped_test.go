package optimize_test

import (
	"testing"

	"github.com/wringcap/wring/filters/expr/optimize"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
	"github.com/wringcap/wring/vm"
)

// shapedOps are the opcodes FuzzOptimizeShaped builds programs from.
var shapedOps = []uint16{
	spec.ClassLD | spec.SizeW | spec.ModeABS, spec.ClassLD | spec.SizeH | spec.ModeABS, spec.ClassLD | spec.SizeB | spec.ModeABS,
	spec.ClassLD | spec.SizeH | spec.ModeIND, spec.ClassLD | spec.SizeB | spec.ModeIND,
	spec.ClassLDX | spec.SizeB | spec.ModeMSH, spec.ClassLD | spec.ModeIMM, spec.ClassLDX | spec.ModeIMM,
	spec.ClassLD | spec.ModeMEM, spec.ClassLDX | spec.ModeMEM, spec.ClassST, spec.ClassSTX,
	spec.ClassLD | spec.SizeW | spec.ModeLEN,
	spec.ClassALU | spec.ALUAdd, spec.ClassALU | spec.ALUSub, spec.ClassALU | spec.ALUAnd, spec.ClassALU | spec.ALUOr,
	spec.ClassALU | spec.ALUXor, spec.ClassALU | spec.ALULsh, spec.ClassALU | spec.ALURsh, spec.ClassALU | spec.ALUMul,
	spec.ClassALU | spec.ALUDiv, spec.ClassALU | spec.ALUMod, spec.ClassALU | spec.ALUNeg,
	spec.ClassALU | spec.ALUAdd | spec.SrcX, spec.ClassALU | spec.ALUSub | spec.SrcX, spec.ClassALU | spec.ALUDiv | spec.SrcX,
	spec.ClassALU | spec.ALUAnd | spec.SrcX, spec.ClassALU | spec.ALULsh | spec.SrcX,
	spec.ClassMISC | spec.MiscTAX, spec.ClassMISC | spec.MiscTXA,
	spec.ClassJMP | spec.JumpJEQ, spec.ClassJMP | spec.JumpJEQ, spec.ClassJMP | spec.JumpJEQ, spec.ClassJMP | spec.JumpJGT,
	spec.ClassJMP | spec.JumpJGE, spec.ClassJMP | spec.JumpJSET, spec.ClassJMP | spec.JumpJEQ | spec.SrcX,
	spec.ClassJMP | spec.JumpJA, spec.ClassRET | spec.RetK, spec.ClassRET | spec.RetA,
}

// shapedProgram turns bytes into a program that usually verifies: three
// bytes per instruction (opcode choice, constant, jump offsets), scratch
// slots 0-3 written first, a return last.
func shapedProgram(data []byte) spec.Program {
	p := spec.Program{spec.Stmt(spec.ClassLD|spec.ModeIMM, 0)}
	for m := uint32(0); m < 4; m++ {
		p = append(p, spec.Stmt(spec.ClassST, m))
	}
	n := len(data) / 3
	consts := []uint32{0, 1, 2, 6, 8, 12, 14, 17, 20, 23, 0x800, 0x86dd, 0x1fff, 0xff, 0xffffffff}
	for i := 0; i < n; i++ {
		c, kb, jb := data[3*i], data[3*i+1], data[3*i+2]
		op := shapedOps[int(c)%len(shapedOps)]
		k := uint32(kb)
		if kb >= 0xf0 {
			k = consts[int(kb-0xf0)%len(consts)]
		}
		rest := n - 1 - i // instructions after this one, before the final return
		ins := spec.Instruction{Op: op, K: k}
		switch {
		case op&0x07 == spec.ClassLD && op&0xe0 == spec.ModeMEM, op&0x07 == spec.ClassLDX && op&0xe0 == spec.ModeMEM,
			op == spec.ClassST, op == spec.ClassSTX:
			ins.K = k % 4
		case op == spec.ClassALU|spec.ALUDiv || op == spec.ClassALU|spec.ALUMod:
			ins.K = k | 1
		case op == spec.ClassALU|spec.ALULsh || op == spec.ClassALU|spec.ALURsh:
			ins.K = k % 32
		case op&0x07 == spec.ClassJMP && op&0xf0 == spec.JumpJA:
			ins.K = uint32(int(jb) % (rest + 1))
		case op&0x07 == spec.ClassJMP:
			ins.Jt = uint8(int(jb&0x0f) % (rest + 1))
			ins.Jf = uint8(int(jb>>4) % (rest + 1))
		}
		p = append(p, ins)
	}
	return append(p, spec.Stmt(spec.ClassRET|spec.RetA, 0))
}

// FuzzOptimizeShaped feeds the optimizer programs built to verify, so that
// fuzzing explores the optimizer rather than the verifier's rejections:
// the optimized program verifies, is no longer, and returns the same on
// the packet (the input's last bytes) and its prefixes.
func FuzzOptimizeShaped(f *testing.F) {
	f.Add([]byte{0, 0xfa, 0, 31, 0xfa, 0x12, 40, 1, 0, 2, 23, 0, 32, 6, 0x21}, []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 8, 0, 0x45, 0, 0, 40, 0, 0, 0, 0, 64, 6})
	f.Add([]byte{5, 14, 0, 3, 14, 0, 31, 0xf1, 0x10, 13, 0, 0, 4, 16, 0, 33, 80, 0x10}, make([]byte, 60))
	f.Fuzz(func(t *testing.T, shape, pkt []byte) {
		if len(shape) > 3*300 {
			shape = shape[:3*300]
		}
		p := shapedProgram(shape)
		opts := verifier.Options{}
		vp, err := verifier.Verify(p, opts)
		if err != nil {
			return
		}
		q := optimize.Program(p)
		if len(q) > len(p) {
			t.Fatalf("optimized program is longer: %d > %d", len(q), len(p))
		}
		vq, err := verifier.Verify(q, opts)
		if err != nil {
			t.Fatalf("optimized program fails verification: %v\n%s---\n%s", err, show(p), show(q))
		}
		for n := 0; n <= len(pkt); n += 1 + n/3 {
			b := pkt[:n]
			if want, got := vm.Run(vp, b, uint32(len(pkt)), nil), vm.Run(vq, b, uint32(len(pkt)), nil); want != got {
				t.Fatalf("packet % x: original returns %d, optimized %d\n%s---\n%s", b, want, got, show(p), show(q))
			}
		}
	})
}
