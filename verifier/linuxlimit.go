package verifier

import "github.com/wringcap/wring/spec"

// Linux runs a classic program by converting it to eBPF (bpf_convert_filter
// in net/core/filter.c), and rejects the program (EINVAL) when a jump of the
// converted program does not fit eBPF's signed 16-bit offset. Conditional
// jumps skip at most 255 instructions, which never expand that far; a ja
// can. maxConvertedJump is the largest offset that fits.
const maxConvertedJump = 1<<15 - 1

// convertedLen returns an upper bound of the number of eBPF instructions
// Linux's conversion emits for ins (exact for the kernels of 2024-2026,
// where the bound and the count agree except that vlan_avail takes 3
// instructions on some and fewer on others).
func convertedLen(ins spec.Instruction) int {
	switch ins.Op {
	case opLdAbsW, opLdAbsH, opLdAbsB:
		if spec.IsAncillary(ins.K) {
			switch ins.K - spec.AncillaryBase {
			case spec.AncIfindex, spec.AncHaType, spec.AncPayOffset, spec.AncNLAttr,
				spec.AncNLAttrNest, spec.AncCPU, spec.AncRandom:
				return 4
			case spec.AncVLANTagPresent:
				return 3
			case spec.AncProtocol, spec.AncPktType, spec.AncVLANTPID:
				return 2
			}
			return 1
		}
		return absLoadLen(ins.Op, ins.K)
	case opLdIndW, opLdIndH, opLdIndB:
		if ins.K != 0 {
			return 8
		}
		return 7
	case opLdxMsh:
		return 1 + absLoadLen(opLdAbsB, ins.K) + 5
	case spec.ClassALU | spec.ALUDiv | spec.SrcX, spec.ClassALU | spec.ALUMod | spec.SrcX:
		return 5
	case opRetK:
		return 2
	case opJeqK, opJgtK, opJgeK, opJsetK, opJeqX, opJgtX, opJgeX, opJsetX:
		n := 2
		if ins.Jf == 0 || (ins.Jt == 0 && ins.Op&0xf0 != spec.JumpJSET) {
			n = 1
		}
		if ins.Op&spec.SrcX == 0 && int32(ins.K) < 0 {
			n++
		}
		return n
	}
	return 1
}

// absLoadLen is convert_bpf_ld_abs's length for a packet load at k: an
// inline fast path for non-negative offsets, then the helper call.
func absLoadLen(op uint16, k uint32) int {
	const slow = 8 // 4 argument moves, the call, the error check and exit
	if int32(k) < 0 {
		return slow
	}
	n := 3 // mov, jslt, ja
	if k != 0 {
		n++ // sub
	}
	if k <= 1<<15-1 {
		n++ // ldx
	} else {
		n += 3 // mov, add, ldx
	}
	if op != opLdAbsB {
		n++ // byte swap
	}
	return n + slow
}

// checkConvertedJumps rejects a ja that skips more eBPF instructions than
// Linux's conversion can encode.
func checkConvertedJumps(insns spec.Program) error {
	// addr[i] is the eBPF index of instruction i.
	addr := make([]int, len(insns)+1)
	for i, ins := range insns {
		addr[i+1] = addr[i] + convertedLen(ins)
	}
	for pc, ins := range insns {
		if ins.Op != opJa {
			continue
		}
		target := pc + 1 + int(ins.K)
		if off := addr[target] - addr[pc] - 1; off > maxConvertedJump {
			return errorf(ErrJumpTooFar, pc, "ja +%d skips %d instructions once Linux converts the program to eBPF, more than %d", ins.K, off, maxConvertedJump)
		}
	}
	return nil
}
