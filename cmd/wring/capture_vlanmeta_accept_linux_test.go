package main

import (
	"encoding/binary"
	"fmt"
	"net"
	"os/exec"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"

	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/internal/netns"
	"github.com/wringcap/wring/spec"
)

// tagVLANMetadata tags every frame between p's ends with VLAN id the way
// a VLAN subinterface on a device with VLAN offload does: in the skb's
// metadata, never in the frame (this kernel has no 802.1Q devices). A tcx
// egress program at the head of each end's chain pushes the tag and
// returns TCX_NEXT, so the programs after it, the passive capture's among
// them, see the tagged skb (netns.TagVLAN's returns TCX_PASS, which ends
// the chain before them); a tcx ingress program at the tail pops it after
// the taps and the capture have seen it. rx- and tx-vlan-offload are on.
func tagVLANMetadata(t *testing.T, p *netns.Pair, id uint16) {
	t.Helper()
	if _, err := exec.LookPath("ethtool"); err != nil {
		corpus.Unavailable(t, "the VLAN offload test needs ethtool")
	}
	var be [2]byte
	binary.BigEndian.PutUint16(be[:], 0x8100)
	push, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.SchedCLS, License: "GPL", Instructions: asm.Instructions{
		asm.Mov.Imm(asm.R2, int32(binary.NativeEndian.Uint16(be[:]))),
		asm.Mov.Imm(asm.R3, int32(id)),
		asm.FnSkbVlanPush.Call(),
		asm.Mov.Imm(asm.R0, -1), // TCX_NEXT
		asm.Return(),
	}})
	if err != nil {
		t.Fatalf("vlan push program: %v", err)
	}
	t.Cleanup(func() { push.Close() })
	pop, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.SchedCLS, License: "GPL", Instructions: asm.Instructions{
		asm.FnSkbVlanPop.Call(),
		asm.Mov.Imm(asm.R0, -1),
		asm.Return(),
	}})
	if err != nil {
		t.Fatalf("vlan pop program: %v", err)
	}
	t.Cleanup(func() { pop.Close() })
	for _, end := range [][2]string{{p.NSA, p.IfA}, {p.NSB, p.IfB}} {
		if out, err := exec.Command("ip", "netns", "exec", end[0], "ethtool", "-K", end[1], "rxvlan", "on", "txvlan", "on").CombinedOutput(); err != nil {
			t.Fatalf("ethtool -K %s rxvlan on txvlan on: %v: %s", end[1], err, out)
		}
		err := netns.Do(end[0], func() error {
			ifi, err := net.InterfaceByName(end[1])
			if err != nil {
				return err
			}
			for _, a := range []struct {
				prog   *ebpf.Program
				at     ebpf.AttachType
				anchor link.Anchor
			}{{push, ebpf.AttachTCXEgress, link.Head()}, {pop, ebpf.AttachTCXIngress, link.Tail()}} {
				l, err := link.AttachTCX(link.TCXOptions{Interface: ifi.Index, Program: a.prog, Attach: a.at, Anchor: a.anchor})
				if err != nil {
					return fmt.Errorf("attach to %s: %w", end[1], err)
				}
				t.Cleanup(func() { l.Close() })
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestAcceptDefaultVLANOffload: the default mode (passive) with VLAN tags
// that travel in skb metadata both ways, against tcpdump with the same
// `vlan 9 and (...)` filter: every reply arrives, and wring's frames are
// tcpdump's, byte for byte, each with the tag put back in the frame.
func TestAcceptDefaultVLANOffload(t *testing.T) {
	p := netns.New(t, 1)
	a, _, err := p.AddAddresses(86)
	if err != nil {
		t.Fatal(err)
	}
	tagVLANMetadata(t, p, 9)
	res := compareDefaultWithTcpdump(t, netns.Comparison{NS: p.NSA, Interface: p.IfA, Filter: "vlan 9 and (" + acceptFilter + ")",
		ServerNS: p.NSA, ClientNS: p.NSB, Server: a}, spec.LinkEthernet, "passive")
	checkBothWays(t, res)
	for i, f := range res.Got.Frames {
		if len(f.Data) < 16 || f.Data[12] != 0x81 || f.Data[13] != 0 || f.Data[15] != 9 {
			t.Fatalf("frame %d has no VLAN 9 tag: % x", i, f.Data[:min(len(f.Data), 18)])
		}
	}
}
