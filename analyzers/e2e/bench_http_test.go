package e2e_test

import (
	"testing"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/internal/analyzertest"
	"github.com/wringcap/wring/internal/corpus"
)

// BenchmarkHTTP measures the bundled HTTP analyzer over the generated mixed
// capture (5000 packets, in batches of 256): ns/op is per packet.
func BenchmarkHTTP(b *testing.B) {
	path := analyzertest.MixedCapture(b, 5000)
	c, err := corpus.ReadCapture(path)
	if err != nil {
		b.Fatal(err)
	}
	const n = 256
	var batches []*packet.Batch
	for i := 0; i < len(c.Packets); i += n {
		end := min(i+n, len(c.Packets))
		bt := &packet.Batch{Verdicts: make([]packet.Verdict, end-i)}
		for _, p := range c.Packets[i:end] {
			info := packet.Info{Timestamp: p.TsNanos, CapLen: uint32(len(p.Data)), WireLen: p.WireLen, LinkType: c.LinkType}
			pk := packet.Packet{Info: info, Data: p.Data}
			packet.Parse(info, pk.Data, &pk.Record)
			bt.Packets = append(bt.Packets, pk)
		}
		batches = append(batches, bt)
	}
	b.Run("mixed/wring", func(b *testing.B) {
		h := analyzertest.HostConfig(b, "http", "streams=0", nil) // packet mode, as before streams
		w := h.NewWorker()
		for _, bt := range batches { // warm up: the guest's heap and the event buffer reach their size
			w.Handle(bt)
		}
		b.ReportAllocs()
		b.ResetTimer()
		done, k := 0, 0
		for done < b.N {
			bt := batches[k%len(batches)]
			clear(bt.Verdicts)
			w.Handle(bt)
			done += len(bt.Packets)
			k++
		}
		b.StopTimer()
		if s := h.Stats()[0]; s.Failures != 0 {
			b.Fatalf("%+v %+v", s, h.Counters())
		}
		b.ReportMetric(float64(done)/b.Elapsed().Seconds(), "pkts/s")
	})
}
