package ebpf

import (
	"fmt"
	"math"

	"github.com/cilium/ebpf/asm"
	"github.com/wringcap/wring/spec"
)

// emitAll writes the prologue, the code of every reachable instruction in
// program order, and the match and no-match actions.
func (t *translator) emitAll() error {
	r := t.r
	if t.xdp() {
		t.emit(
			asm.LoadMem(r.Data, r.Ctx, xdpData, asm.Word),
			asm.LoadMem(r.DataEnd, r.Ctx, xdpDataEnd, asm.Word),
		)
	}
	// Classic BPF starts with A = X = 0; the kernel verifier also refuses
	// a read of a register never written.
	t.emit(asm.Mov.Imm32(r.A, 0), asm.Mov.Imm32(r.X, 0))
	prologueEnd := len(t.out)
	if t.o.Annotate {
		what := "prologue: A = X = 0"
		if t.xdp() {
			what = "prologue: data, data_end; A = X = 0"
		}
		t.out[0] = t.out[0].WithSource(asm.Comment(what))
	}

	for pc := 0; pc < t.n; pc++ {
		if !t.reach[pc] {
			continue
		}
		if t.target[pc] {
			t.label(t.pcLabel(pc))
		}
		start := len(t.out)
		if err := t.emitPC(pc); err != nil {
			return err
		}
		t.st.translated++
		if t.o.Annotate && len(t.out) > start {
			ins := t.p.At(pc)
			t.out[start] = t.out[start].WithSource(asm.Comment(spec.ListingLine(ins, pc)))
		}
	}

	// The actions, each only if something jumps to it: the kernel refuses
	// code no path reaches.
	if t.o.NoMatchLabel == "" && t.refs[t.noMatch] > 0 {
		t.label(t.noMatch)
		if len(t.o.OnNoMatch) > 0 {
			t.emit(t.o.OnNoMatch...)
		} else if t.xdp() {
			t.emit(asm.Mov.Imm(asm.R0, XDPPass), asm.Return())
		} else {
			t.emit(asm.Mov.Imm(asm.R0, 0), asm.Return())
		}
	}
	if t.o.MatchLabel == "" && t.refs[t.match] > 0 {
		t.label(t.match)
		t.emit(t.o.OnMatch...)
	}
	if t.pending != "" {
		return fmt.Errorf("label %s placed after the last instruction: %w", t.pending, ErrOptions)
	}

	// A caller's label the filter never jumps to would leave the caller's
	// code unreachable, which the kernel refuses. Reference it with a jump
	// the kernel's verifier proves is never taken (A is 0 here).
	var dummies asm.Instructions
	for _, l := range []string{t.o.NoMatchLabel, t.o.MatchLabel} {
		if l != "" && t.refs[l] == 0 {
			dummies = append(dummies, asm.JNE.Imm(r.A, 0, l))
		}
	}
	if len(dummies) > 0 {
		t.out = append(t.out[:prologueEnd], append(dummies, t.out[prologueEnd:]...)...)
	}

	// Labels that ended up on the same instruction as another one.
	for i := range t.out {
		ref := t.out[i].Reference()
		if ref == "" {
			continue
		}
		to := ref
		for {
			next, ok := t.alias[to]
			if !ok {
				break
			}
			to = next
		}
		if to != ref {
			t.out[i] = t.out[i].WithReference(to)
		}
	}
	return t.checkJumps()
}

// checkJumps makes sure every jump to a label of the filter fits eBPF's
// 16-bit jump offset (a classic program of 4096 instructions can grow past
// it).
func (t *translator) checkJumps() error {
	at := map[string]int{}
	off := 0
	for _, ins := range t.out {
		if s := ins.Symbol(); s != "" {
			at[s] = off
		}
		off += int(ins.Size() / asm.InstructionSize)
	}
	off = 0
	for _, ins := range t.out {
		if to, ok := at[ins.Reference()]; ok {
			if d := to - off - 1; d > math.MaxInt16 || d < math.MinInt16 {
				return fmt.Errorf("the translation is %d instructions long and needs a jump of %d, past eBPF's 16-bit offsets: %w", len(t.out), d, ErrTooLarge)
			}
		}
		off += int(ins.Size() / asm.InstructionSize)
	}
	return nil
}

// Instruction opcodes, spelled out.
const (
	opLdImm  = spec.ClassLD | spec.ModeIMM
	opLdLen  = spec.ClassLD | spec.ModeLEN | spec.SizeW
	opLdMem  = spec.ClassLD | spec.ModeMEM
	opLdxImm = spec.ClassLDX | spec.ModeIMM
	opLdxLen = spec.ClassLDX | spec.ModeLEN | spec.SizeW
	opLdxMem = spec.ClassLDX | spec.ModeMEM
	opLdxMsh = spec.ClassLDX | spec.ModeMSH | spec.SizeB
	opSt     = spec.ClassST
	opStx    = spec.ClassSTX
	opTax    = spec.ClassMISC | spec.MiscTAX
	opTxa    = spec.ClassMISC | spec.MiscTXA
	opNeg    = spec.ClassALU | spec.ALUNeg
)

// emitPC writes the code for the classic instruction at pc.
func (t *translator) emitPC(pc int) error {
	r := t.r
	ins := t.p.At(pc)
	if t.dead[pc] {
		// Needs more bytes than an XDP frame can have: always fails.
		t.emit(asm.Ja.Label(t.ref(t.noMatch)))
		return nil
	}

	// Bounds guard hoisted by the verifier (XDP).
	known, knownX := t.in[pc], t.inX[pc]
	if pc == 0 {
		known, knownX = 0, 0
	}
	if g := t.guard(pc); g > known {
		t.packetGuard(g)
		t.st.guards++
		known = g
	}
	if end, ok := packetEnd(ins); ok && t.xdp() && end > known {
		// The facts should always cover an absolute load; stay safe if
		// they do not, and count it so tests notice.
		t.packetGuard(end)
		t.st.extraGuards++
		known = end
	}
	defer func() {
		if writesX(ins) {
			knownX = 0
		}
		fall, jumps := t.edges(pc)
		t.flow(fall, known, knownX)
		for _, j := range jumps {
			t.flow(j, known, knownX)
		}
	}()

	switch ins.Class() {
	case spec.ClassLD:
		return t.emitLoad(pc, ins, r.A, &knownX)
	case spec.ClassLDX:
		if ins.Op == opLdxMsh {
			switch {
			case t.xdp() && ins.K >= spec.NetOff:
				return &Error{PC: pc, Target: t.o.Target, What: fmt.Sprintf("ldx msh relative to the network header (k 0x%x)", ins.K), Err: ErrUnsupported}
			case t.xdp() && ins.K >= spec.LLOff:
				t.packetGuard(ins.K - spec.LLOff + 1)
				t.loadPacket(r.X, ins.K-spec.LLOff, asm.Byte)
			case t.xdp():
				t.loadPacket(r.X, ins.K, asm.Byte)
			default:
				t.emit(asm.LoadAbs(int32(ins.K), asm.Byte), asm.Mov.Reg32(r.X, asm.R0))
			}
			t.emit(asm.And.Imm32(r.X, 0xf), asm.LSh.Imm32(r.X, 2))
			return nil
		}
		return t.emitLoad(pc, ins, r.X, &knownX)
	case spec.ClassST:
		t.emit(asm.StoreMem(asm.RFP, t.slot(ins.K), r.A, asm.Word))
	case spec.ClassSTX:
		t.emit(asm.StoreMem(asm.RFP, t.slot(ins.K), r.X, asm.Word))
	case spec.ClassALU:
		t.emitALU(pc, ins)
	case spec.ClassJMP:
		t.emitJump(pc, ins)
	case spec.ClassRET:
		if ins.Op == opRetA {
			t.emit(asm.JEq.Imm32(r.A, 0, t.ref(t.noMatch)), asm.Ja.Label(t.ref(t.match)))
		} else if ins.K == 0 {
			t.emit(asm.Ja.Label(t.ref(t.noMatch)))
		} else {
			t.emit(asm.Mov.Imm32(r.A, int32(ins.K)), asm.Ja.Label(t.ref(t.match)))
		}
	case spec.ClassMISC:
		if ins.Op == opTax {
			t.emit(asm.Mov.Reg32(r.X, r.A))
		} else {
			t.emit(asm.Mov.Reg32(r.A, r.X))
		}
	default:
		return &Error{PC: pc, Target: t.o.Target, What: fmt.Sprintf("opcode 0x%04x", ins.Op), Err: ErrUnsupported}
	}
	return nil
}
