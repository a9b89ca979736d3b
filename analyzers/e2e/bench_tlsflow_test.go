package e2e_test

import (
	"testing"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/internal/analyzertest"
	"github.com/wringcap/wring/internal/corpus"
)

// BenchmarkBundledAnalyzer measures the bundled TLS and flow analyzers over
// the generated mixed capture (5000 packets, in batches of 256) through one
// worker: ns/op is per packet. The native parsers' costs are
// BenchmarkTLSParse (analyzers/tls) and BenchmarkFlowTable (analyzers/flow).
func BenchmarkBundledAnalyzer(b *testing.B) {
	path := analyzertest.MixedCapture(b, 5000)
	c, err := corpus.ReadCapture(path)
	if err != nil {
		b.Fatal(err)
	}
	pkts := parsed(c, func(_ int, ts int64) int64 { return ts })
	const n = 256
	var batches []*packet.Batch
	for i := 0; i < len(pkts); i += n {
		end := min(i+n, len(pkts))
		batches = append(batches, &packet.Batch{Packets: pkts[i:end], Verdicts: make([]packet.Verdict, end-i)})
	}
	for _, name := range []string{"tls", "flow"} {
		b.Run("mixed_"+name+"/wring", func(b *testing.B) {
			h := analyzertest.Host(b, name, nil)
			w := h.NewWorker()
			w.Handle(batches[0])
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
			if s := h.Stats()[0]; s.Failures != 0 || s.EventsLost != 0 {
				b.Fatalf("%+v", s)
			}
		})
	}
}
