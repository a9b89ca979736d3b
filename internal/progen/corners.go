package progen

import "github.com/wringcap/wring/spec"

// Corners returns a fixed list of hand-picked edge programs: every
// ancillary offset (known, unknown, misaligned) with every load size, the
// lengths 0, 1, 4096 and 4097, jumps to the last instruction and one past
// it, the scratch-mask quirks of Linux, constant division and shifts at
// their limits, and parse-record and header-relative loads.
func Corners() []spec.Program {
	retA := spec.Stmt(ret|spec.RetA, 0)
	ret1 := spec.Stmt(ret|spec.RetK, 1)
	var out []spec.Program
	for off := uint32(0); off <= spec.AncMax+4; off++ {
		for _, s := range sizes {
			out = append(out, spec.Program{spec.Stmt(ld|s|spec.ModeABS, spec.AncillaryBase+off), retA})
		}
	}
	for _, k := range []uint32{0xffc, 0xfff, 0xffffffff} {
		out = append(out, spec.Program{spec.Stmt(ld|spec.SizeW|spec.ModeABS, spec.AncillaryBase+k), retA})
	}
	for _, k := range []uint32{spec.RecordBase, spec.RecordEnd - 1, spec.RecordEnd, spec.LLOff, spec.NetOff, spec.AncillaryBase - 1, 0x7fffffff, 0x80000000} {
		out = append(out,
			spec.Program{spec.Stmt(ld|spec.SizeH|spec.ModeABS, k), retA},
			spec.Program{spec.Stmt(ldx|spec.SizeB|spec.ModeMSH, k), retA},
			spec.Program{spec.Stmt(ld|spec.SizeB|spec.ModeIND, k), retA})
	}
	out = append(out, nil, spec.Program{ret1}, spec.Program{retA})
	for _, n := range []int{spec.MaxInstructions - 1, spec.MaxInstructions, spec.MaxInstructions + 1} {
		p := make(spec.Program, n)
		for i := range p {
			p[i] = ret1
		}
		out = append(out, p)
		q := append(spec.Program(nil), p...)
		q[0] = spec.Stmt(jmp|spec.JumpJA, uint32(n-2))
		out = append(out, q)
		q = append(spec.Program(nil), p...)
		q[0] = spec.Stmt(jmp|spec.JumpJA, uint32(n-1))
		out = append(out, q)
	}
	for _, k := range []uint32{0, 1, 2, 3, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff} {
		out = append(out, spec.Program{spec.Stmt(jmp|spec.JumpJA, k), ret1, ret1})
	}
	for _, j := range []uint8{0, 1, 2, 255} {
		out = append(out,
			spec.Program{spec.Jump(jmp|spec.JumpJEQ|spec.SrcK, 0, j, 0), ret1, ret1},
			spec.Program{spec.Jump(jmp|spec.JumpJSET|spec.SrcX, 0, 0, j), ret1, ret1})
	}
	for _, op := range []uint16{spec.ALUDiv, spec.ALUMod, spec.ALULsh, spec.ALURsh} {
		for _, k := range []uint32{0, 1, 31, 32, 0xffffffff} {
			out = append(out, spec.Program{spec.Stmt(alu|op|spec.SrcK, k), retA})
		}
	}
	for _, k := range []uint32{15, 16} {
		out = append(out,
			spec.Program{spec.Stmt(spec.ClassST, k), spec.Stmt(ld|spec.ModeMEM, k), retA},
			spec.Program{spec.Stmt(spec.ClassSTX, k), spec.Stmt(ldx|spec.ModeMEM, k), retA})
	}
	out = append(out,
		// read after a return: Linux keeps the mask of the path before it
		spec.Program{ret1, spec.Stmt(ld|spec.ModeMEM, 0), retA},
		spec.Program{spec.Stmt(spec.ClassST, 0), ret1, spec.Stmt(ld|spec.ModeMEM, 0), retA},
		// read after a ja: Linux starts from "all written"
		spec.Program{spec.Stmt(jmp|spec.JumpJA, 1), spec.Stmt(ld|spec.ModeMEM, 0), retA},
		// written on one path only
		spec.Program{spec.Jump(jmp|spec.JumpJEQ|spec.SrcK, 0, 0, 1), spec.Stmt(spec.ClassST, 3), spec.Stmt(ld|spec.ModeMEM, 3), retA},
		// written on both paths
		spec.Program{spec.Jump(jmp|spec.JumpJEQ|spec.SrcK, 0, 0, 2), spec.Stmt(spec.ClassST, 3), spec.Stmt(jmp|spec.JumpJA, 1), spec.Stmt(spec.ClassSTX, 3), spec.Stmt(ld|spec.ModeMEM, 3), retA},
	)
	// Every 16-bit opcode in front of a return: the whole opcode table.
	for op := 0; op < 1<<16; op += opStep(op) {
		out = append(out, spec.Program{{Op: uint16(op), K: 1}, ret1})
	}
	return out
}

// opStep walks every opcode below 0x400 and a sparse sample above.
func opStep(op int) int {
	if op < 0x400 {
		return 1
	}
	return 0x101
}
