//go:build linux

package live

import (
	"encoding/binary"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"

	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/internal/netns"
)

// tagInMetadata makes the frames between p's ends carry a VLAN tag the
// way a VLAN subinterface on a device with VLAN offload sends them (this
// kernel has no 802.1Q devices): a tcx egress program at the head of each
// end's chain puts a tag into the skb's metadata (bpf_skb_vlan_push on an
// untagged skb sets skb->vlan_tci, not the frame): VLAN 100 on IPv4 UDP,
// 101 on everything else. It returns TCX_NEXT, so the programs after it
// (the passive capture's) see the tagged skb. The tag crosses the veth in
// metadata, the receiving end's taps and tc ingress see it there, and a
// tcx ingress program at the tail of the chain pops it, so the hosts talk
// untagged. txvlan sets the devices' tx-vlan-offload: on, the tag stays
// in metadata down to the device; off, the kernel writes it into the frame
// after tc egress, before the taps. rx-vlan-offload is on.
func tagInMetadata(t *testing.T, p *netns.Pair, txvlan bool) {
	t.Helper()
	if _, err := exec.LookPath("ethtool"); err != nil {
		corpus.Unavailable(t, "the VLAN offload test needs ethtool")
	}
	tx := map[bool]string{true: "on", false: "off"}[txvlan]
	for _, end := range [][2]string{{p.NSA, p.IfA}, {p.NSB, p.IfB}} {
		if out, err := exec.Command("ip", "netns", "exec", end[0], "ethtool", "-K", end[1], "rxvlan", "on", "txvlan", tx).CombinedOutput(); err != nil {
			t.Fatalf("ethtool -K %s rxvlan on txvlan %s: %v: %s", end[1], tx, err, out)
		}
	}
	var be [2]byte
	binary.BigEndian.PutUint16(be[:], 0x0800)
	ipv4 := int32(binary.NativeEndian.Uint16(be[:])) // skb->protocol as the context holds it
	binary.BigEndian.PutUint16(be[:], 0x8100)
	ctag := int32(binary.NativeEndian.Uint16(be[:]))
	push, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.SchedCLS, License: "GPL", Instructions: asm.Instructions{
		asm.Mov.Reg(asm.R6, asm.R1),
		asm.Mov.Imm(asm.R7, 101),
		asm.LoadMem(asm.R2, asm.R6, 16, asm.Word), // skb->protocol
		asm.JNE.Imm(asm.R2, ipv4, "push"),
		asm.Mov.Reg(asm.R1, asm.R6),
		asm.Mov.Imm(asm.R2, 14+9), // the IPv4 protocol byte
		asm.Mov.Reg(asm.R3, asm.RFP),
		asm.Add.Imm(asm.R3, -8),
		asm.Mov.Imm(asm.R4, 1),
		asm.FnSkbLoadBytes.Call(),
		asm.JNE.Imm(asm.R0, 0, "push"),
		asm.LoadMem(asm.R2, asm.RFP, -8, asm.Byte),
		asm.JNE.Imm(asm.R2, 17, "push"),
		asm.Mov.Imm(asm.R7, 100),
		asm.Mov.Reg(asm.R1, asm.R6).WithSymbol("push"),
		asm.Mov.Imm(asm.R2, ctag),
		asm.Mov.Reg(asm.R3, asm.R7),
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

// TestPassiveVLANOffload is acceptance 1 with VLAN tags the kernel keeps
// out of the frame (skb->vlan_tci), in both directions, on the default
// path: the UDP echo and TCP request/response load runs over VLAN 100
// (UDP) and 101 (TCP) with the tags in metadata, while the capture (auto
// mode: passive) and tcpdump capture it with `vlan N and (...)`. The
// passive programs put the tag back into their copy from the skb's
// metadata, as libpcap does from the socket's auxiliary data, so the
// frames must be tcpdump's byte for byte, per flow and direction, and each
// filter must keep exactly its VLAN's protocol, as tcpdump's does. With
// tx-vlan-offload off, the kernel writes the tag into outgoing frames
// after tc egress, before the taps: the result must be the same.
func TestPassiveVLANOffload(t *testing.T) {
	for _, tc := range []struct {
		txvlan bool
		vid    int
		proto  string // the protocol the VLAN carries, as flowKey names it
		per    int    // frames per echo round each way
	}{
		{true, 100, "proto 17", 1},
		{true, 101, "proto 6", 1},
		{false, 100, "proto 17", 1},
	} {
		t.Run(fmt.Sprintf("txvlan=%v/vlan=%d", tc.txvlan, tc.vid), func(t *testing.T) {
			p := netns.New(t, 2)
			ipRun(t, [][]string{
				{"-n", p.NSA, "addr", "add", echoAddrA + "/24", "dev", p.IfA},
				{"-n", p.NSB, "addr", "add", echoAddrB + "/24", "dev", p.IfB},
			})
			tagInMetadata(t, p, tc.txvlan)
			flows := echoCompare(t, p, echoAddrA, fmt.Sprintf("vlan %d and (%s)", tc.vid, echoExpr), tc.per)
			want := fmt.Sprintf(" vlan %d %s ", tc.vid, tc.proto)
			for k := range flows {
				if !strings.Contains(k, want) {
					t.Errorf("tcpdump's flow %q is not of VLAN %d and %s", k, tc.vid, tc.proto)
				}
			}
			if len(flows) == 0 {
				t.Error("no flow captured")
			}
		})
	}
}
