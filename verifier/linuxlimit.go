package verifier

import "github.com/wringcap/wring/spec"

// Linux runs a classic program by converting it to eBPF (bpf_convert_filter
// in net/core/filter.c), and rejects the program (EINVAL) when a jump of the
// converted program does not fit eBPF's signed 16-bit offset. Conditional
// jumps skip at most 255 instructions, which never expand that far; a ja
// can. maxConvertedJump is the largest offset that fits.
const maxConvertedJump = 1<<15 - 1

// convertedLen returns the number of eBPF instructions Linux's conversion
// emits for ins on x86-64 and arm64 (checked against Linux 6.18 by
// internal/kernel's tests). Older kernels emitted fewer for vlan_avail (2
// or 1): for them this is an upper bound, so the verifier may only be
// stricter.
func convertedLen(ins spec.Instruction) int {
	switch ins.Op {
	case spec.OpLdAbsW, spec.OpLdAbsH, spec.OpLdAbsB:
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
	case spec.OpLdIndW, spec.OpLdIndH, spec.OpLdIndB:
		// 3 argument moves, X to the 4th, the add of k, the call, the
		// error check and exit
		if ins.K != 0 {
			return 9
		}
		return 8
	case spec.OpLdxMsh:
		return 1 + absLoadLen(spec.OpLdAbsB, ins.K) + 5
	case spec.ClassALU | spec.ALUDiv | spec.SrcX, spec.ClassALU | spec.ALUMod | spec.SrcX:
		return 5
	case spec.OpRetK:
		return 2
	case spec.OpJeqK, spec.OpJgtK, spec.OpJgeK, spec.OpJsetK, spec.OpJeqX, spec.OpJgtX, spec.OpJgeX, spec.OpJsetX:
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
	if op != spec.OpLdAbsB {
		n++ // byte swap
	}
	return n + slow
}

// jumpSlot is one eBPF jump the conversion emits for a classic jump: its
// index within the instruction's expansion and its target.
type jumpSlot struct{ idx, target int }

// convertedJumps lists the eBPF jumps of the classic jump at pc.
func convertedJumps(pc int, ins spec.Instruction) []jumpSlot {
	if ins.Op == spec.OpJa {
		return []jumpSlot{{0, pc + 1 + int(ins.K)}}
	}
	pre := 0 // a constant of 2^31 or more is first moved to a register
	if ins.Op&spec.SrcX == 0 && int32(ins.K) < 0 {
		pre = 1
	}
	jt, jf := pc+1+int(ins.Jt), pc+1+int(ins.Jf)
	switch {
	case ins.Jf == 0:
		return []jumpSlot{{pre, jt}}
	case ins.Jt == 0 && ins.Op&0xf0 != spec.JumpJSET:
		return []jumpSlot{{pre, jf}}
	}
	return []jumpSlot{{pre, jt}, {pre + 1, jf}}
}

// checkConvertedJumps applies the two jump limits of Linux's conversion.
// The conversion runs over the program twice with a table of eBPF
// addresses (prologue included) that is still empty for forward targets
// on the first pass, so there every forward jump has offset -addr-1-idx:
// a jump placed past eBPF instruction 32767 is rejected whatever its
// target. On the second pass the real offset must fit in 32767.
func checkConvertedJumps(insns spec.Program) error {
	seenLoad := false // the prologue caches the packet pointer and length
	for _, ins := range insns {
		switch ins.Op {
		case spec.OpLdIndW, spec.OpLdIndH, spec.OpLdIndB, spec.OpLdxMsh:
			seenLoad = true
		case spec.OpLdAbsW, spec.OpLdAbsH, spec.OpLdAbsB:
			seenLoad = seenLoad || !spec.IsAncillary(ins.K)
		}
	}
	addr := make([]int, len(insns)+1) // addr[i]: eBPF index of instruction i
	addr[0] = 3
	if seenLoad {
		addr[0] = 7
	}
	for i, ins := range insns {
		addr[i+1] = addr[i] + convertedLen(ins)
	}
	for pc, ins := range insns {
		if ins.Op != spec.OpJa && !isCondJump(ins.Op) {
			continue
		}
		for _, j := range convertedJumps(pc, ins) {
			if at := addr[pc] + j.idx; at > maxConvertedJump {
				return errorf(ErrJumpTooFar, pc, "the jump becomes eBPF instruction %d of Linux's conversion, which rejects forward jumps past instruction %d", at, maxConvertedJump)
			}
			if off := addr[j.target] - addr[pc] - 1 - j.idx; off > maxConvertedJump {
				return errorf(ErrJumpTooFar, pc, "the jump skips %d instructions once Linux converts the program to eBPF, more than %d", off, maxConvertedJump)
			}
		}
	}
	return nil
}
