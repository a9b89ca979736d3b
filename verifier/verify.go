package verifier

import (
	"fmt"

	"github.com/wringcap/wring/spec"
)

// Verify checks prog against every rule of Linux's classic checker, plus
// wring's rules for parse-record loads, and returns the verified program
// with its facts. On rejection the error is an *Error naming the first
// offending instruction, in the order Linux checks: length, then each
// instruction in turn, then the final return, then scratch initialisation,
// then the reach of ja once converted to eBPF.
//
// The instructions are copied: later changes to prog do not affect the
// returned Program.
func Verify(prog spec.Program, opts Options) (*Program, error) {
	n := len(prog)
	if n == 0 {
		return nil, errorf(ErrEmpty, 0, "a program needs at least one instruction")
	}
	if n > spec.MaxInstructions {
		return nil, errorf(ErrTooLong, spec.MaxInstructions, "%d instructions, the limit is %d", n, spec.MaxInstructions)
	}
	p := &Program{insns: append(spec.Program(nil), prog...), opts: opts}
	for pc, ins := range p.insns {
		if err := p.checkInsn(pc, ins); err != nil {
			return nil, err
		}
	}
	if last := p.insns[n-1]; last.Op != spec.OpRetK && last.Op != spec.OpRetA {
		return nil, errorf(ErrNoReturn, n-1, "the last instruction (opcode 0x%02x) must be ret #k or ret a", last.Op)
	}
	if err := checkScratch(p.insns); err != nil {
		return nil, err
	}
	if err := checkConvertedJumps(p.insns); err != nil {
		return nil, err
	}
	p.computeFacts()
	return p, nil
}

// checkInsn applies the per-instruction rules of bpf_check_classic and
// records the extensions and scratch slots the instruction uses.
func (p *Program) checkInsn(pc int, ins spec.Instruction) error {
	n := len(p.insns)
	if !ValidOpcode(ins.Op) {
		return errorf(ErrInvalidOpcode, pc, "opcode 0x%04x is not a classic BPF instruction", ins.Op)
	}
	switch ins.Op {
	case opDivK, opModK:
		if ins.K == 0 {
			name := "div"
			if ins.Op == opModK {
				name = "mod"
			}
			return errorf(ErrDivByZero, pc, "%s #0", name)
		}
	case opLshK, opRshK:
		if ins.K >= 32 {
			name := "lsh"
			if ins.Op == opRshK {
				name = "rsh"
			}
			return errorf(ErrShiftTooLarge, pc, "%s #%d shifts by 32 or more", name, ins.K)
		}
	case spec.OpLdMem, spec.OpLdxMem, spec.OpSt, spec.OpStx:
		if ins.K >= spec.MemWords {
			return errorf(ErrScratchIndex, pc, "M[%d] is past the last slot M[%d]", ins.K, spec.MemWords-1)
		}
		p.scratch |= 1 << ins.K
	case spec.OpJa:
		if ins.K >= uint32(n-pc-1) {
			if int32(ins.K) < 0 {
				return errorf(ErrBackwardJump, pc, "ja %d jumps back to PC %d (loops are not allowed)", int32(ins.K), pc+1+int(int32(ins.K)))
			}
			return errorf(ErrJumpOutOfRange, pc, "ja +%d lands at PC %d, past the last instruction %d", ins.K, uint64(pc)+1+uint64(ins.K), n-1)
		}
	case spec.OpJeqK, spec.OpJeqX, spec.OpJgtK, spec.OpJgtX, spec.OpJgeK, spec.OpJgeX, spec.OpJsetK, spec.OpJsetX:
		if pc+int(ins.Jt)+1 >= n {
			return errorf(ErrJumpOutOfRange, pc, "jt +%d lands at PC %d, past the last instruction %d", ins.Jt, pc+int(ins.Jt)+1, n-1)
		}
		if pc+int(ins.Jf)+1 >= n {
			return errorf(ErrJumpOutOfRange, pc, "jf +%d lands at PC %d, past the last instruction %d", ins.Jf, pc+int(ins.Jf)+1, n-1)
		}
	case spec.OpLdAbsW, spec.OpLdAbsH, spec.OpLdAbsB:
		return p.checkAbsLoad(pc, ins)
	}
	return nil
}

// checkAbsLoad checks the ancillary and parse-record ranges of an absolute
// load.
func (p *Program) checkAbsLoad(pc int, ins spec.Instruction) error {
	switch k := ins.K; {
	case spec.IsAncillary(k):
		off := k - spec.AncillaryBase
		if off >= spec.AncMax || off%4 != 0 {
			return errorf(ErrUnknownExtension, pc, "offset 0x%08x (SKF_AD_OFF%+d) is not a Linux ancillary load", k, int32(off))
		}
		if p.opts.NoAncillary {
			return errorf(ErrAncillaryNotAllowed, pc, "ancillary load %q with NoAncillary set", spec.AncillaryNames[off])
		}
		p.ext |= Ancillary(off)
	case spec.IsRecordLoad(k):
		off := k - spec.RecordBase
		if !p.opts.Record {
			return errorf(ErrRecordNotAllowed, pc, "load from parse record offset %d needs Options.Record", off)
		}
		if size := spec.LoadSize(ins.Op); off+size > spec.RecordSize {
			return errorf(ErrRecordOffset, pc, "%d-byte load at record offset %d ends past the %d-byte record", size, off, spec.RecordSize)
		}
		p.ext |= ExtRecord
	}
	return nil
}

// checkScratch is Linux's check_load_and_stores: one forward pass with a
// 16-bit mask of written slots, AND-merged into each jump target. As in
// Linux, a return does not reset the mask, so an unreachable instruction
// after a return is checked with the mask of the path before it, and the
// instruction after a jump starts from "all written" unless a jump targets
// it.
func checkScratch(insns spec.Program) error {
	masks := make([]uint16, len(insns))
	for i := range masks {
		masks[i] = 0xffff
	}
	var valid uint16
	for pc, ins := range insns {
		valid &= masks[pc]
		switch ins.Op {
		case spec.OpSt, spec.OpStx:
			valid |= 1 << ins.K
		case spec.OpLdMem, spec.OpLdxMem:
			if valid&(1<<ins.K) == 0 {
				return errorf(ErrUninitScratch, pc, "M[%d] is read before it is written on some path", ins.K)
			}
		case spec.OpJa:
			masks[pc+1+int(ins.K)] &= valid
			valid = 0xffff
		case spec.OpJeqK, spec.OpJeqX, spec.OpJgtK, spec.OpJgtX, spec.OpJgeK, spec.OpJgeX, spec.OpJsetK, spec.OpJsetX:
			masks[pc+1+int(ins.Jt)] &= valid
			masks[pc+1+int(ins.Jf)] &= valid
			valid = 0xffff
		}
	}
	return nil
}

// String describes the program's facts in one line, for logs.
func (p *Program) String() string {
	return fmt.Sprintf("%d instructions, max packet offset %d, scratch %016b, extensions %#x",
		len(p.insns), p.maxOff, p.scratch, uint64(p.ext))
}
