package ebpf

import (
	"fmt"

	"github.com/cilium/ebpf/asm"
	"github.com/wringcap/wring/spec"
)

// emitAncillary writes a Linux ancillary load (SKF_AD_*) into A. As in
// Linux, the load's size does not matter: the whole value is loaded.
//
// The socket filter target reads the same sk_buff fields through
// __sk_buff as classic BPF does in the kernel. XDP sees only what xdp_md
// carries: the ingress ifindex and the RX queue. Everything else (the
// protocol, packet type, mark, hash, offloaded VLAN tag, hardware type,
// payload offset, netlink attributes, CPU, random numbers) is an *Error.
func (t *translator) emitAncillary(pc int, off uint32) error {
	r := t.r
	if off == spec.AncAluXorX {
		t.emit(asm.Xor.Reg32(r.A, r.X))
		return nil
	}
	name := spec.AncillaryNames[off]
	if name == "" {
		name = fmt.Sprintf("offset %d", off)
	}
	unsupported := &Error{PC: pc, Target: t.o.Target, What: "ancillary load " + name, Err: ErrUnsupported}
	if t.xdp() {
		switch off {
		case spec.AncIfindex:
			t.emit(asm.LoadMem(r.A, r.Ctx, xdpIngressIfindex, asm.Word))
		case spec.AncQueue:
			t.emit(asm.LoadMem(r.A, r.Ctx, xdpRxQueueIndex, asm.Word))
		default:
			return unsupported
		}
		return nil
	}
	field := func(off int16) { t.emit(asm.LoadMem(r.A, r.Ctx, off, asm.Word)) }
	switch off {
	case spec.AncProtocol:
		field(skbProtocol) // network byte order in the sk_buff
		t.emit(asm.HostTo(asm.BE, r.A, asm.Half))
	case spec.AncPktType:
		field(skbPktType)
	case spec.AncIfindex:
		field(skbIfindex)
	case spec.AncMark:
		field(skbMark)
	case spec.AncQueue:
		field(skbQueueMap)
	case spec.AncRxHash:
		field(skbHash)
	case spec.AncVLANTag:
		field(skbVLANTCI)
	case spec.AncVLANTagPresent:
		field(skbVLANPresent)
	case spec.AncVLANTPID:
		field(skbVLANProto)
		t.emit(asm.HostTo(asm.BE, r.A, asm.Half))
	case spec.AncCPU:
		t.emit(asm.FnGetSmpProcessorId.Call(), asm.Mov.Reg32(r.A, asm.R0))
	case spec.AncRandom:
		t.emit(asm.FnGetPrandomU32.Call(), asm.Mov.Reg32(r.A, asm.R0))
	default:
		return unsupported
	}
	return nil
}
