package optimize

import (
	"encoding/binary"
	"fmt"

	"github.com/wringcap/wring/spec"
)

// run is a reference interpreter for the tests, with spec/ISA.md's
// semantics: A, X and scratch start at 0, a load past the captured bytes or
// a division by a zero X returns 0, shifts by 32 or more give 0. Programs
// must jump forward only.
func run(p spec.Program, pkt []byte, wire uint32) uint32 {
	var a, x uint32
	var mem [spec.MemWords]uint32
	load := func(off uint64, size uint16) (uint32, bool) {
		var n uint64 = 1
		switch size {
		case spec.SizeW:
			n = 4
		case spec.SizeH:
			n = 2
		}
		if off+n > uint64(len(pkt)) {
			return 0, false
		}
		switch n {
		case 4:
			return binary.BigEndian.Uint32(pkt[off:]), true
		case 2:
			return uint32(binary.BigEndian.Uint16(pkt[off:])), true
		}
		return uint32(pkt[off]), true
	}
	for pc := 0; pc < len(p); pc++ {
		ins := p[pc]
		switch ins.Class() {
		case spec.ClassLD:
			switch ins.Mode() {
			case spec.ModeIMM:
				a = ins.K
			case spec.ModeLEN:
				a = wire
			case spec.ModeMEM:
				a = mem[ins.K]
			case spec.ModeABS:
				v, ok := load(uint64(ins.K), ins.Size())
				if !ok {
					return 0
				}
				a = v
			case spec.ModeIND:
				v, ok := load(uint64(x+ins.K), ins.Size())
				if !ok {
					return 0
				}
				a = v
			}
		case spec.ClassLDX:
			switch ins.Mode() {
			case spec.ModeIMM:
				x = ins.K
			case spec.ModeLEN:
				x = wire
			case spec.ModeMEM:
				x = mem[ins.K]
			case spec.ModeMSH:
				v, ok := load(uint64(ins.K), spec.SizeB)
				if !ok {
					return 0
				}
				x = 4 * (v & 0xf)
			}
		case spec.ClassST:
			mem[ins.K] = a
		case spec.ClassSTX:
			mem[ins.K] = x
		case spec.ClassALU:
			b := ins.K
			if ins.Src() == spec.SrcX {
				b = x
			}
			r, ok := evalALU(ins.Operation(), a, b)
			if !ok {
				return 0
			}
			a = r
		case spec.ClassJMP:
			if ins.Operation() == spec.JumpJA {
				pc += int(ins.K)
				continue
			}
			b := ins.K
			if ins.Src() == spec.SrcX {
				b = x
			}
			if jumpTaken(ins.Operation(), a, b) {
				pc += int(ins.Jt)
			} else {
				pc += int(ins.Jf)
			}
		case spec.ClassRET:
			if ins.Op == spec.ClassRET|spec.RetA {
				return a
			}
			return ins.K
		case spec.ClassMISC:
			if ins.Op&0xf8 == spec.MiscTAX {
				x = a
			} else {
				a = x
			}
		}
	}
	panic("fell off the end")
}

// wellFormed checks what the optimizer promises of its output: known
// opcodes, forward jumps in range, a return or jump last, and no read of a
// scratch slot that is not written on every path before it (when the input
// had none).
func wellFormed(p spec.Program) error {
	if len(p) == 0 || len(p) > spec.MaxInstructions {
		return fmt.Errorf("length %d", len(p))
	}
	written := make([]uint32, len(p)+1) // slots written on every path to pc
	reached := make([]bool, len(p)+1)
	reached[0] = true
	for pc := range written {
		written[pc] = 0xffff
	}
	written[0] = 0
	for pc, ins := range p {
		if err := checkOp(ins); err != nil {
			return fmt.Errorf("pc %d: %w", pc, err)
		}
		if !reached[pc] {
			continue
		}
		w := written[pc]
		use, def := useDef(ins)
		if use>>slotM&^slots(w) != 0 && ins.Class() != spec.ClassJMP {
			return fmt.Errorf("pc %d: reads scratch %#x not always written", pc, use>>slotM&^slots(w))
		}
		w |= uint32(def >> slotM)
		flow := func(t int) error {
			if t >= len(p) {
				return fmt.Errorf("pc %d: jump to %d past the end", pc, t)
			}
			reached[t] = true
			written[t] &= w
			return nil
		}
		switch ins.Class() {
		case spec.ClassRET:
		case spec.ClassJMP:
			if ins.Operation() == spec.JumpJA {
				if err := flow(pc + 1 + int(ins.K)); err != nil {
					return err
				}
			} else {
				if err := flow(pc + 1 + int(ins.Jt)); err != nil {
					return err
				}
				if err := flow(pc + 1 + int(ins.Jf)); err != nil {
					return err
				}
			}
		default:
			if err := flow(pc + 1); err != nil {
				return err
			}
		}
	}
	return nil
}

// scratchSafe reports whether p reads no scratch slot before writing it on
// every path (the verifier's rule), so wellFormed may demand it of the
// output.
func scratchSafe(p spec.Program) bool {
	return wellFormed(p) == nil
}
