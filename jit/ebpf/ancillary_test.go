//go:build linux

package ebpf

import (
	"testing"

	"github.com/cilium/ebpf"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/vm"
)

// skBuffIn is the head of struct __sk_buff, as a socket filter test run's
// context input: the kernel lets a test set mark, priority, ifindex and cb
// and requires the other fields to be zero.
type skBuffIn struct {
	Len, PktType, Mark, QueueMapping, Protocol, VLANPresent, VLANTCI, VLANProto uint32
	Priority, IngressIfindex, Ifindex, TCIndex                                  uint32
	CB                                                                          [5]uint32
}

// TestSocketAncillary runs every ancillary load the socket filter target
// translates, in every load size, with a mark set through the test run's
// context, and compares each value with vm.Run given the same metadata.
func TestSocketAncillary(t *testing.T) {
	needKernel(t)
	meta := socketMeta
	meta.Mark = 0x8badf00d
	ctx := skBuffIn{Mark: meta.Mark, Ifindex: meta.Ifindex}
	pkt := []byte{0x45, 0, 0, 20, 1, 2, 3, 4}
	buf := append(append([]byte(nil), socketPrefix...), pkt...)
	offs := []uint32{spec.AncProtocol, spec.AncPktType, spec.AncIfindex, spec.AncMark, spec.AncQueue,
		spec.AncRxHash, spec.AncVLANTag, spec.AncVLANTagPresent, spec.AncVLANTPID, spec.AncAluXorX}
	for _, off := range offs {
		for _, size := range []uint16{spec.SizeW, spec.SizeH, spec.SizeB} {
			prog := spec.Program{
				spec.Stmt(spec.ClassLDX|spec.ModeIMM, 0x0f0f0f0f),
				spec.Stmt(spec.ClassLD|spec.ModeIMM, 0x12345678),
				spec.Stmt(spec.ClassLD|spec.ModeABS|size, spec.AncillaryBase+off),
				// Return the value plus one, so 0 is not mistaken for a drop.
				spec.Stmt(spec.ClassALU|spec.ALUAdd|spec.SrcK, 1),
				spec.Stmt(spec.ClassRET|spec.RetA, 0),
			}
			p := mustVerify(t, prog)
			kp, err := load(p, SocketFilter)
			if err != nil {
				t.Fatalf("%s: %v", spec.AncillaryNames[off], err)
			}
			got, err := kp.Run(&ebpf.RunOptions{Data: buf, Context: ctx})
			kp.Close()
			if err != nil {
				t.Fatalf("%s: %v", spec.AncillaryNames[off], err)
			}
			if want := vm.Run(p, pkt, uint32(len(pkt)), &meta); got != want {
				t.Errorf("%s size 0x%02x: kernel %#x, vm %#x", spec.AncillaryNames[off], size, got, want)
			}
		}
	}
}

// TestXDPAncillary does the same for the loads XDP can see.
func TestXDPAncillary(t *testing.T) {
	needKernel(t)
	pkt := make([]byte, 60)
	for _, off := range []uint32{spec.AncIfindex, spec.AncQueue, spec.AncAluXorX} {
		prog := spec.Program{
			spec.Stmt(spec.ClassLDX|spec.ModeIMM, 0x0f0f0f0f),
			spec.Stmt(spec.ClassLD|spec.ModeABS|spec.SizeW, spec.AncillaryBase+off),
			spec.Stmt(spec.ClassALU|spec.ALUAdd|spec.SrcK, 1),
			// Match when the value equals what the vm computes: the XDP
			// program only tells match from no match.
			spec.Jump(spec.ClassJMP|spec.JumpJEQ|spec.SrcK, vmValue(t, off)+1, 0, 1),
			spec.Stmt(spec.ClassRET|spec.RetK, 1),
			spec.Stmt(spec.ClassRET|spec.RetK, 0),
		}
		p := mustVerify(t, prog)
		kp, err := load(p, XDP)
		if err != nil {
			t.Fatalf("%s: %v", spec.AncillaryNames[off], err)
		}
		got, err := runXDP(kp, pkt)
		kp.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !got {
			t.Errorf("%s: the kernel's value differs from the vm's (%#x)", spec.AncillaryNames[off], vmValue(t, off))
		}
	}
}

// vmValue returns what vm.Run loads for an ancillary offset with xdpMeta
// and X = 0x0f0f0f0f, A = 0.
func vmValue(tb testing.TB, off uint32) uint32 {
	p := mustVerify(tb, spec.Program{
		spec.Stmt(spec.ClassLDX|spec.ModeIMM, 0x0f0f0f0f),
		spec.Stmt(spec.ClassLD|spec.ModeABS|spec.SizeW, spec.AncillaryBase+off),
		spec.Stmt(spec.ClassRET|spec.RetA, 0),
	})
	return vm.Run(p, nil, 0, &xdpMeta)
}
