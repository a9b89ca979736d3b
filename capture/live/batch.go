package live

import "github.com/wringcap/wring/capture/packet"

// batch is a worker's reusable batch: the packet and verdict slices are
// allocated once, so the capture loop allocates nothing per packet.
type batch struct {
	packet.Batch
	packets  []packet.Packet
	verdicts []packet.Verdict
}

func newBatch(n int) *batch {
	return &batch{packets: make([]packet.Packet, n), verdicts: make([]packet.Verdict, n)}
}

func (b *batch) reset() {
	b.Packets = b.packets[:0]
	b.Verdicts = b.verdicts[:0]
}

// add appends a packet and fills its record.
func (b *batch) add(info packet.Info, data []byte) {
	i := len(b.Packets)
	b.Packets = b.packets[:i+1]
	b.Verdicts = b.verdicts[:i+1]
	p := &b.Packets[i]
	p.Info = info
	p.Data = data
	packet.Parse(info, data, &p.Record)
	b.Verdicts[i] = packet.Verdict{}
}
