package capture_test

import (
	"context"
	"fmt"

	"github.com/wringcap/wring/capture"
	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/capture/pcapfile"
	"github.com/wringcap/wring/capture/sample"
)

// The pipeline reads the bundled sample, and a handler (where an analyzer
// would plug in) counts the TCP packets to port 80 and drops the rest.
// (tshark -Y "tcp.dstport == 80" counts the same 64 packets, through their
// VLAN tags and MPLS labels.)
func Example() {
	r, err := pcapfile.NewReaderBytes(sample.Pcap, sample.Name)
	if err != nil {
		panic(err)
	}
	http := 0
	h := capture.HandlerFunc(func(b *packet.Batch) error {
		for i := range b.Packets {
			rec := &b.Packets[i].Record
			if rec.IPProto() == packet.ProtoTCP && rec.DstPort() == 80 {
				http++
			} else {
				b.Verdicts[i].Action = packet.ActionDrop
			}
		}
		return nil
	})
	p, err := capture.New(capture.Config{Sources: []capture.Source{capture.NewFileSource(r)}, Handlers: []capture.Handler{h}})
	if err != nil {
		panic(err)
	}
	if err := p.Run(context.Background()); err != nil {
		panic(err)
	}
	fmt.Println(http, "packets to TCP port 80")
	fmt.Println(p.Counters()[0])
	// Output:
	// 64 packets to TCP port 80
	// queue 0: received 500, filtered out 0, delivered 64, dropped 436 (handler 436)
}
