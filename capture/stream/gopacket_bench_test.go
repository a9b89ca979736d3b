package stream

import (
	"net"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/reassembly"
)

// The anchor for the choice to write this package: gopacket's reassembly
// on the same in-order and swapped workloads (RATIONALE.md).

type gpStream struct{}

func (gpStream) Accept(*layers.TCP, gopacket.CaptureInfo, reassembly.TCPFlowDirection, reassembly.Sequence, *bool, reassembly.AssemblerContext) bool {
	return true
}
func (gpStream) ReassembledSG(sg reassembly.ScatterGather, _ reassembly.AssemblerContext) {
	_, _ = sg.Lengths()
}
func (gpStream) ReassemblyComplete(reassembly.AssemblerContext) bool { return true }

type gpFactory struct{}

func (gpFactory) New(gopacket.Flow, gopacket.Flow, *layers.TCP, reassembly.AssemblerContext) reassembly.Stream {
	return gpStream{}
}

type gpContext struct{ ci gopacket.CaptureInfo }

func (c *gpContext) GetCaptureInfo() gopacket.CaptureInfo { return c.ci }

func gopacketBench(b *testing.B, swapped bool) {
	a := reassembly.NewAssembler(reassembly.NewStreamPool(gpFactory{}))
	ip := &layers.IPv4{SrcIP: net.IP{10, 0, 0, 1}, DstIP: net.IP{10, 0, 0, 2}, Protocol: layers.IPProtocolTCP}
	flow := ip.NetworkFlow()
	ctx := &gpContext{}
	p := make([]byte, 1460)
	syn := &layers.TCP{SrcPort: 40000, DstPort: 80, Seq: 0, SYN: true}
	a.AssembleWithContext(flow, syn, ctx)
	seq := uint32(1)
	t := &layers.TCP{SrcPort: 40000, DstPort: 80, ACK: true}
	t.Payload = p
	seg := func(s uint32) {
		t.Seq = s
		a.AssembleWithContext(flow, t, ctx)
	}
	b.SetBytes(int64(len(p)))
	if swapped {
		b.SetBytes(int64(2 * len(p)))
	}
	b.ReportAllocs()
	for b.Loop() {
		if swapped {
			seg(seq + 1460)
			seg(seq)
			seq += 2920
			continue
		}
		seg(seq)
		seq += 1460
	}
}

func BenchmarkGopacketInOrder(b *testing.B) { gopacketBench(b, false) }
func BenchmarkGopacketSwapped(b *testing.B) { gopacketBench(b, true) }
