package wasm_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/internal/analyzertest"
	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/wasm"
)

// BenchmarkStreamsVsPackets runs the same test analyzer (FNV-1a over TCP
// payload bytes) in packet mode (whole packets copied, one wring_process
// call per 256) and in stream mode (the host reassembles, one
// wring_streams call per 256 chunks) over the generated mixed capture,
// and reports packets per second. streams-quiet is the stream twin that,
// like the packet mode, writes no events (streams writes one per flow);
// streams-wat is the stream path with a guest that only counts chunks (the
// host's share). Each iteration shifts the
// capture times past the idle timeout, so the stream host ends the previous
// pass's flows and reassembles the same conversations again.
func BenchmarkStreamsVsPackets(b *testing.B) {
	c, err := corpus.ReadCapture(analyzertest.MixedCapture(b, 20000))
	if err != nil {
		b.Fatal(err)
	}
	for _, mode := range []string{"packets", "streams-quiet", "streams", "streams-wat"} {
		b.Run(mode, func(b *testing.B) {
			// streams-wat: the host's share, with a stream analyzer in
			// WebAssembly text that only counts its chunks.
			bin := streamWAT(b, "")
			if mode != "streams-wat" {
				bin = streamGuest(b, mode)
			}
			h, err := wasm.NewHost(context.Background(), analyzertest.Config().WithLogger(slog.New(slog.DiscardHandler)),
				wasm.Analyzer{Name: mode, Binary: bin})
			if err != nil {
				b.Fatal(err)
			}
			defer h.Close(context.Background())
			w := h.NewWorker()
			batches := analyzertest.Batches(c, 256)
			var shift int64
			pass := func() {
				for _, bt := range batches {
					for j := range bt.Packets {
						bt.Packets[j].Info.Timestamp += shift
						bt.Verdicts[j] = packet.Verdict{}
					}
					if err := w.Handle(bt); err != nil {
						b.Fatal(err)
					}
				}
				shift = 120e9
			}
			pass() // instantiate, warm up
			for b.Loop() {
				pass()
			}
			b.ReportMetric(float64(b.N*len(c.Packets))/b.Elapsed().Seconds(), "pkts/s")
			st := h.Stats()[0]
			if st.StreamChunks != 0 {
				b.ReportMetric(float64(st.StreamChunks)/float64(b.N+1), "chunks/pass")
			}
			if st.Failures != 0 || st.StreamLost != 0 {
				b.Fatalf("stats %+v", st)
			}
		})
	}
}
