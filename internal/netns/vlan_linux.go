package netns

import (
	"encoding/binary"
	"fmt"
	"net"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
)

// TagVLAN makes every frame between IfA and IfB cross the veth pair
// tagged with VLAN id, for kernels without 802.1Q devices (this one has
// neither CONFIG_VLAN_8021Q nor act_vlan): a tc egress program on each end
// pushes the tag (bpf_skb_vlan_push) and a tc ingress program pops it
// after the packet taps have seen it. A capture on either end therefore
// sees tagged frames both ways, while the hosts talk untagged. The
// programs go with the namespaces.
func (p *Pair) TagVLAN(tb testing.TB, id uint16) {
	tb.Helper()
	var proto [2]byte
	binary.BigEndian.PutUint16(proto[:], 0x8100)
	push, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.SchedCLS, License: "GPL", Instructions: asm.Instructions{
		asm.Mov.Imm(asm.R2, int32(binary.NativeEndian.Uint16(proto[:]))), // vlan_proto in network order
		asm.Mov.Imm(asm.R3, int32(id)),
		asm.FnSkbVlanPush.Call(),
		asm.Mov.Imm(asm.R0, 0), // TCX_PASS
		asm.Return(),
	}})
	if err != nil {
		tb.Fatalf("vlan push program: %v", err)
	}
	tb.Cleanup(func() { push.Close() })
	pop, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.SchedCLS, License: "GPL", Instructions: asm.Instructions{
		asm.FnSkbVlanPop.Call(),
		asm.Mov.Imm(asm.R0, 0),
		asm.Return(),
	}})
	if err != nil {
		tb.Fatalf("vlan pop program: %v", err)
	}
	tb.Cleanup(func() { pop.Close() })
	for _, end := range [][2]string{{p.NSA, p.IfA}, {p.NSB, p.IfB}} {
		err := Do(end[0], func() error {
			ifi, err := net.InterfaceByName(end[1])
			if err != nil {
				return err
			}
			for _, a := range []struct {
				prog *ebpf.Program
				at   ebpf.AttachType
			}{{push, ebpf.AttachTCXEgress}, {pop, ebpf.AttachTCXIngress}} {
				l, err := link.AttachTCX(link.TCXOptions{Interface: ifi.Index, Program: a.prog, Attach: a.at})
				if err != nil {
					return fmt.Errorf("attach to %s: %w", end[1], err)
				}
				tb.Cleanup(func() { l.Close() })
			}
			return nil
		})
		if err != nil {
			tb.Fatalf("tag VLAN %d: %v", id, err)
		}
	}
}
