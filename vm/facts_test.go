package vm

import (
	"testing"

	"github.com/wringcap/wring/internal/progen"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
)

// traceRun is a second, slower interpreter written by instruction class
// (not by full opcode, as Run is) for plain classic BPF without extensions.
// It records the pcs it executes.
func traceRun(prog spec.Program, pkt []byte, wirelen uint32, trace []int) (uint32, []int) {
	var a, x uint32
	var mem [16]uint32
	load := func(off uint64, size uint64) (uint32, bool) {
		if off+size > uint64(len(pkt)) {
			return 0, false
		}
		var v uint32
		for i := range size {
			v = v<<8 | uint32(pkt[off+i])
		}
		return v, true
	}
	sizeOf := map[uint16]uint64{spec.SizeW: 4, spec.SizeH: 2, spec.SizeB: 1}
	for pc := 0; pc < len(prog); pc++ {
		ins := prog[pc]
		trace = append(trace, pc)
		switch ins.Class() {
		case spec.ClassLD, spec.ClassLDX:
			var v uint32
			switch ins.Mode() {
			case spec.ModeIMM:
				v = ins.K
			case spec.ModeLEN:
				v = wirelen
			case spec.ModeMEM:
				v = mem[ins.K]
			case spec.ModeABS, spec.ModeIND:
				off := uint64(ins.K)
				if ins.Mode() == spec.ModeIND {
					off += uint64(x)
				}
				var ok bool
				if v, ok = load(off, sizeOf[ins.Size()]); !ok {
					return 0, trace
				}
			case spec.ModeMSH:
				b, ok := load(uint64(ins.K), 1)
				if !ok {
					return 0, trace
				}
				v = (b & 0xf) * 4
			}
			if ins.Class() == spec.ClassLD {
				a = v
			} else {
				x = v
			}
		case spec.ClassST:
			mem[ins.K] = a
		case spec.ClassSTX:
			mem[ins.K] = x
		case spec.ClassALU:
			v := ins.K
			if ins.Src() == spec.SrcX {
				v = x
			}
			switch ins.Operation() {
			case spec.ALUAdd:
				a += v
			case spec.ALUSub:
				a -= v
			case spec.ALUMul:
				a *= v
			case spec.ALUDiv, spec.ALUMod:
				if v == 0 {
					return 0, trace
				}
				if ins.Operation() == spec.ALUDiv {
					a /= v
				} else {
					a %= v
				}
			case spec.ALUOr:
				a |= v
			case spec.ALUAnd:
				a &= v
			case spec.ALUXor:
				a ^= v
			case spec.ALULsh:
				a = uint32(uint64(a) << min(v, 32))
			case spec.ALURsh:
				a = uint32(uint64(a) >> min(v, 32))
			case spec.ALUNeg:
				a = 0 - a
			}
		case spec.ClassJMP:
			if ins.Operation() == spec.JumpJA {
				pc += int(ins.K)
				continue
			}
			v := ins.K
			if ins.Src() == spec.SrcX {
				v = x
			}
			var c bool
			switch ins.Operation() {
			case spec.JumpJEQ:
				c = a == v
			case spec.JumpJGT:
				c = a > v
			case spec.JumpJGE:
				c = a >= v
			case spec.JumpJSET:
				c = a&v != 0
			}
			if c {
				pc += int(ins.Jt)
			} else {
				pc += int(ins.Jf)
			}
		case spec.ClassRET:
			if ins.Op&0x18 == spec.RetA {
				return a, trace
			}
			return ins.K, trace
		case spec.ClassMISC:
			if ins.Op&0xf8 == spec.MiscTXA {
				a = x
			} else {
				x = a
			}
		}
	}
	panic("fell off the end of a verified program")
}

// TestFactsHold runs random valid programs on random packets with a second
// interpreter and checks the verifier's facts on every run: Run agrees with
// the trace; on a run that returns non-zero, every executed pc has
// Known(pc) <= len(packet) (so the guards never turn a keep into a drop);
// and every absolute load the run executes ends at or before Known(pc).
func TestFactsHold(t *testing.T) {
	n := 20000
	if testing.Short() {
		n = 2000
	}
	g := progen.New(5, progen.Config{Mode: progen.Valid, NoAncillary: true, MaxLen: 96})
	var trace []int
	kept := 0
	for i := range n {
		prog := g.Program()
		p, err := verifier.Verify(prog, verifier.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for range 8 {
			pkt := g.Packet(prog)
			want, tr := traceRun(prog, pkt, uint32(len(pkt)), trace[:0])
			trace = tr
			if got := Run(p, pkt, uint32(len(pkt)), nil); got != want {
				t.Fatalf("program %d: Run %d, trace interpreter %d on % x\n%v", i, got, want, pkt, prog)
			}
			for _, pc := range tr {
				ins := prog[pc]
				if ins.Class() == spec.ClassLD && ins.Mode() == spec.ModeABS || ins.Op == spec.OpLdxMsh {
					end := uint64(ins.K) + map[uint16]uint64{spec.SizeW: 4, spec.SizeH: 2, spec.SizeB: 1}[ins.Size()]
					if end > uint64(p.Known(pc)) {
						t.Fatalf("program %d pc %d: load ends at %d, Known %d\n%v", i, pc, end, p.Known(pc), prog)
					}
				}
				if want != 0 && uint64(p.Known(pc)) > uint64(len(pkt)) {
					t.Fatalf("program %d pc %d: kept a %d-byte packet, Known %d (guard %d)\n%v", i, pc, len(pkt), p.Known(pc), p.Guard(pc), prog)
				}
			}
			if want != 0 {
				kept++
			}
		}
	}
	t.Logf("%d runs, %d kept the packet", 8*n, kept)
}
