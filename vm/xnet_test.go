package vm

import (
	"testing"

	"golang.org/x/net/bpf"

	"github.com/wringcap/wring/internal/progen"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
)

// xnetVM converts prog for golang.org/x/net/bpf, or returns nil when x/net
// refuses it or cannot represent one of its instructions (its decoder turns
// ldx #len into ld #len, for one).
func xnetVM(prog spec.Program) *bpf.VM {
	insns := make([]bpf.Instruction, len(prog))
	for i, ins := range prog {
		insns[i] = bpf.RawInstruction(ins).Disassemble()
		if raw, err := insns[i].Assemble(); err != nil || normalize(spec.Instruction(raw)) != normalize(ins) {
			return nil
		}
	}
	v, err := bpf.NewVM(insns)
	if err != nil {
		return nil
	}
	return v
}

// TestAgainstXNet runs random valid programs (without Linux ancillary
// loads, which x/net does not implement) on random packets in both VMs.
// x/net has no wire length, so the wire length is the captured length; it
// does not implement neg and decodes ldx #len as ld #len: such runs are
// counted apart.
func TestAgainstXNet(t *testing.T) {
	n := 20000
	if testing.Short() {
		n = 2000
	}
	g := progen.New(3, progen.Config{Mode: progen.Valid, NoAncillary: true, MaxLen: 128})
	var runs, same, cannot int
	for i := range n {
		prog := g.Program()
		p, err := verifier.Verify(prog, verifier.Options{NoAncillary: true})
		if err != nil {
			t.Fatalf("program %d: %v", i, err)
		}
		x := xnetVM(prog)
		for range 8 {
			pkt := g.Packet(prog)
			runs++
			if x == nil {
				cannot++
				continue
			}
			want, err := x.Run(pkt)
			if err != nil {
				cannot++
				continue
			}
			got := Run(p, pkt, uint32(len(pkt)), nil)
			if uint32(want) != got {
				t.Fatalf("program %d on % x: vm %d, x/net %d\n%v", i, pkt, got, want, prog)
			}
			same++
		}
	}
	t.Logf("%d runs: %d agree with x/net, %d x/net cannot run (neg, ldx #len)", runs, same, cannot)
	if same < runs*3/4 {
		t.Fatalf("only %d of %d runs compared", same, runs)
	}
}

// normalize clears the fields an instruction ignores (jt and jf off
// conditional jumps, k where the operand is X or there is none), which
// x/net's decoder drops.
func normalize(ins spec.Instruction) spec.Instruction {
	class := ins.Op & 0x07
	if class != spec.ClassJMP || ins.Op == spec.OpJa {
		ins.Jt, ins.Jf = 0, 0
	}
	switch {
	case (class == spec.ClassALU || class == spec.ClassJMP) && ins.Op&spec.SrcX != 0,
		ins.Op == spec.OpTax, ins.Op == spec.OpTxa, ins.Op == spec.OpRetA, ins.Op == spec.OpLdLen, ins.Op == spec.OpLdxLen, ins.Op == spec.OpNeg:
		ins.K = 0
	}
	return ins
}
