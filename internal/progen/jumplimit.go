package progen

import "github.com/wringcap/wring/spec"

// JumpLimit returns a program of 4096 instructions made of instructions
// that Linux expands into many eBPF instructions (packet loads, ancillary
// loads, ldx msh, ret #k) and, by an estimate of that expansion, placed to
// straddle one of the two limits of Linux's conversion to eBPF: either a ja
// at the start whose target lies near the 32767-instruction reach of an
// eBPF jump, or a jump placed near eBPF instruction 32768 (Linux's first
// conversion pass rejects a forward jump placed past it). The verifier's
// ErrJumpTooFar must agree with the kernel on each.
func (g *Generator) JumpLimit() spec.Program {
	r := g.r
	n := spec.MaxInstructions
	p := make(spec.Program, n)
	est := make([]int, n+1) // est[i]: estimated eBPF length of p[:i], without the prologue
	for i := 0; i < n-1; i++ {
		var ins spec.Instruction
		var e int
		switch w := r.IntN(100); {
		case w < 50:
			k, size := uint32(r.IntN(1500)), pick(r, sizes...)
			e = 14
			if r.IntN(8) == 0 {
				k, e = 1<<15+uint32(r.IntN(1000)), 16
			}
			if size == spec.SizeB {
				e--
			}
			ins = spec.Stmt(ld|size|spec.ModeABS, k)
		case w < 65:
			ins, e = spec.Stmt(ldx|spec.SizeB|spec.ModeMSH, 1+uint32(r.IntN(64))), 19
		case w < 75:
			ins, e = spec.Stmt(ld|pick(r, sizes...)|spec.ModeIND, 1+uint32(r.IntN(64))), 9
		case w < 85:
			off := uint32(r.IntN(spec.AncMax/4)) * 4
			ins, e = spec.Stmt(ld|pick(r, sizes...)|spec.ModeABS, spec.AncillaryBase+off), ancillaryLen[off/4]
		case w < 92:
			ins, e = spec.Stmt(ret|spec.RetK, uint32(r.IntN(100))), 2
		default:
			ins, e = spec.Stmt(alu|pick[uint16](r, spec.ALUAdd, spec.ALUOr, spec.ALUXor)|spec.SrcX, 0), 1
		}
		p[i] = ins
		est[i+1] = est[i] + e
	}
	p[n-1] = spec.Stmt(ret|spec.RetA, 0)
	goal := 1<<15 - 1 + r.IntN(81) - 40
	if r.IntN(2) == 0 {
		// ja at 0 lands at 1+k; it skips est[1+k]-est[1] instructions.
		k := 0
		for k+2 < n && est[1+k+1]-est[1] <= goal {
			k++
		}
		p[0] = spec.Stmt(jmp|spec.JumpJA, uint32(k))
		return p
	}
	// A jump at the first pc whose estimated position (with a 7-instruction
	// prologue) reaches the goal.
	pc := 0
	for pc+3 < n && 7+est[pc] < goal {
		pc++
	}
	if r.IntN(2) == 0 {
		p[pc] = spec.Stmt(jmp|spec.JumpJA, 0)
	} else {
		p[pc] = spec.Jump(jmp|pick(r, condOps...)|spec.SrcK, pick[uint32](r, 1, 0x80000000), uint8(r.IntN(2)), uint8(r.IntN(2)))
	}
	return p
}

// ancillaryLen is the length of Linux's eBPF conversion of each ancillary
// load (SKF_AD offset / 4), for aiming only.
var ancillaryLen = [spec.AncMax / 4]int{2, 2, 4, 4, 4, 1, 1, 4, 1, 4, 1, 1, 3, 4, 4, 2}
