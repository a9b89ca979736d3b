package ebpf

import (
	"fmt"

	"github.com/cilium/ebpf/asm"
	"github.com/wringcap/wring/spec"
)

// slot returns the stack offset of scratch slot k.
func (t *translator) slot(k uint32) int16 {
	return -(t.o.StackOffset + 4*int16(k+1))
}

// packetGuard checks that the XDP frame has at least n bytes, going to the
// no-match action otherwise. The kernel verifier then allows loads from
// Data up to offset n.
func (t *translator) packetGuard(n uint32) {
	r := t.r
	t.emit(
		asm.Mov.Reg(r.Tmp, r.Data),
		asm.Add.Imm(r.Tmp, int32(n)),
		asm.JGT.Reg(r.Tmp, r.DataEnd, t.ref(t.noMatch)),
	)
}

// size returns the eBPF size of a classic load.
func size(ins spec.Instruction) (asm.Size, uint32) {
	switch ins.Size() {
	case spec.SizeH:
		return asm.Half, 2
	case spec.SizeB:
		return asm.Byte, 1
	}
	return asm.Word, 4
}

// loadPacket loads the big-endian value at offset k of the XDP frame into
// dst; a guard has already shown the frame long enough.
func (t *translator) loadPacket(dst asm.Register, k uint32, sz asm.Size) {
	r := t.r
	if k <= 0x7fff {
		t.emit(asm.LoadMem(dst, r.Data, int16(k), sz))
	} else {
		t.emit(asm.Mov.Reg(r.Tmp, r.Data), asm.Add.Imm(r.Tmp, int32(k)), asm.LoadMem(dst, r.Tmp, 0, sz))
	}
	t.toHost(dst, sz)
}

// toHost converts a value loaded in network byte order to host order.
func (t *translator) toHost(dst asm.Register, sz asm.Size) {
	switch sz {
	case asm.Half:
		t.emit(asm.HostTo(asm.BE, dst, asm.Half))
	case asm.Word:
		t.emit(asm.HostTo(asm.BE, dst, asm.Word))
	}
}

// emitLoad writes ld/ldx: immediate, length, scratch, packet (absolute or
// indirect) and extension loads.
func (t *translator) emitLoad(pc int, ins spec.Instruction, dst asm.Register, knownX *uint32) error {
	r := t.r
	switch ins.Op {
	case opLdImm, opLdxImm:
		t.emit(asm.Mov.Imm32(dst, int32(ins.K)))
		return nil
	case opLdLen, opLdxLen:
		if t.xdp() {
			// The linear frame's length: data_end - data.
			t.emit(asm.Mov.Reg(dst, r.DataEnd), asm.Sub.Reg(dst, r.Data))
		} else {
			t.emit(asm.LoadMem(dst, r.Ctx, skbLen, asm.Word))
		}
		return nil
	case opLdMem, opLdxMem:
		t.emit(asm.LoadMem(dst, asm.RFP, t.slot(ins.K), asm.Word))
		return nil
	}
	sz, n := size(ins)
	switch ins.Mode() {
	case spec.ModeABS:
		switch {
		case spec.IsRecordLoad(ins.K):
			return &Error{PC: pc, Target: t.o.Target, What: fmt.Sprintf("parse record load at offset %d", ins.K-spec.RecordBase), Err: ErrUnsupported}
		case spec.IsAncillary(ins.K):
			return t.emitAncillary(pc, ins.K-spec.AncillaryBase)
		case !t.xdp():
			// The kernel's LD_ABS: past the end (or at an offset Linux
			// gives no meaning) it ends the program with 0; SKF_NET_OFF
			// and SKF_LL_OFF offsets read relative to the sk_buff's
			// network and link-layer headers.
			t.emit(asm.LoadAbs(int32(ins.K), sz), asm.Mov.Reg32(dst, asm.R0))
			return nil
		case ins.K >= spec.NetOff:
			return &Error{PC: pc, Target: t.o.Target, What: fmt.Sprintf("load relative to the network header (k 0x%x)", ins.K), Err: ErrUnsupported}
		case ins.K >= spec.LLOff:
			// The frame starts with the link-layer header. The verifier's
			// facts do not cover these loads: check here.
			off := ins.K - spec.LLOff
			t.packetGuard(off + n)
			t.loadPacket(dst, off, sz)
			return nil
		}
		t.loadPacket(dst, ins.K, sz)
		return nil
	case spec.ModeIND:
		if t.xdp() {
			*knownX = t.loadIndirectXDP(pc, ins.K, sz, n, *knownX)
		} else {
			t.loadIndirect(ins.K, sz, n)
		}
		return nil
	}
	return &Error{PC: pc, Target: t.o.Target, What: fmt.Sprintf("load opcode 0x%04x", ins.Op), Err: ErrUnsupported}
}

// loadIndirect writes A = P[X+k:n] for the socket filter target. X+k does
// not wrap at 32 bits (as in libpcap and the vm); plan has already sent a
// k too large for any packet to the no-match action, so k fits an eBPF
// immediate here. The offset is kept a non-negative int, so the kernel
// never reads it as SKF_NET_OFF/SKF_LL_OFF-relative; past the end, LD_IND
// ends the program with 0.
func (t *translator) loadIndirect(k uint32, sz asm.Size, n uint32) {
	r := t.r
	t.st.indirectGuards++
	t.st.indirectLoads++
	t.emit(asm.Mov.Reg32(r.Tmp, r.X))
	if k != 0 {
		t.emit(asm.Add.Imm(r.Tmp, int32(k)))
	}
	t.emit(
		asm.JGT.Imm(r.Tmp, int32(0x7fffffff-n), t.ref(t.noMatch)),
		asm.LoadInd(asm.R0, r.Tmp, 0, sz),
		asm.Mov.Reg32(r.A, asm.R0),
	)
}

// loadIndirectXDP writes A = P[X+k:n] in XDP and returns the number of
// bytes past data+X now checked. XPtr holds data+X from the last check
// until X changes. When the checked length does not cover this load, the
// check is made for needX (every later X+k load on the way to a non-zero
// return), after bounding X so the kernel verifier can track data+X.
func (t *translator) loadIndirectXDP(pc int, k uint32, sz asm.Size, n, knownX uint32) uint32 {
	r := t.r
	t.st.indirectLoads++
	if k+n > knownX {
		g := max(t.needX[pc], k+n) // plan made needX[pc] <= maxLinear
		t.st.indirectGuards++
		t.emit(
			asm.Mov.Reg32(r.XPtr, r.X),
			asm.JGT.Imm(r.XPtr, int32(maxLinear-g), t.ref(t.noMatch)),
			asm.Add.Reg(r.XPtr, r.Data),
			asm.Mov.Reg(r.Tmp, r.XPtr),
			asm.Add.Imm(r.Tmp, int32(g)),
			asm.JGT.Reg(r.Tmp, r.DataEnd, t.ref(t.noMatch)),
		)
		knownX = g
	}
	if k <= 0x7fff {
		t.emit(asm.LoadMem(r.A, r.XPtr, int16(k), sz))
	} else {
		t.emit(asm.Mov.Reg(r.Tmp, r.XPtr), asm.Add.Imm(r.Tmp, int32(k)), asm.LoadMem(r.A, r.Tmp, 0, sz))
	}
	t.toHost(r.A, sz)
	return knownX
}
