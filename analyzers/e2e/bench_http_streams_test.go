package e2e_test

import (
	"testing"
	"time"

	"github.com/wringcap/wring/internal/analyzertest"
	"github.com/wringcap/wring/internal/corpus"
)

// BenchmarkHTTPStreams measures the bundled HTTP analyzer over the
// generated mixed capture (5000 packets, batches of 256) in packet mode
// (streams=0) and in stream mode (the default: the host reassembles TCP
// and the analyzer parses the streams): ns/op is per packet. Each pass
// over the capture is moved two minutes later in capture time, so that the
// host's idle timeout ends the previous pass's flows and the next pass's
// segments start new streams instead of repeating old bytes (which the
// reassembler would drop as overlaps, flattering stream mode).
func BenchmarkHTTPStreams(b *testing.B) {
	c, err := corpus.ReadCapture(analyzertest.MixedCapture(b, 5000))
	if err != nil {
		b.Fatal(err)
	}
	batches := analyzertest.Batches(c, 256)
	for _, mode := range []struct{ name, config string }{{"packets", "streams=0"}, {"streams", ""}} {
		b.Run("mixed/"+mode.name, func(b *testing.B) {
			h := analyzertest.HostConfig(b, "http", mode.config, nil)
			w := h.NewWorker()
			pass := int64(0)
			run := func(bt []int) int {
				n := 0
				for _, k := range bt {
					w.Handle(batches[k])
					n += len(batches[k].Packets)
				}
				return n
			}
			shift := func() {
				pass++
				for _, bt := range batches {
					clear(bt.Verdicts)
					for i := range bt.Packets {
						bt.Packets[i].Info.Timestamp += int64(2 * time.Minute)
					}
				}
			}
			all := make([]int, len(batches))
			for i := range all {
				all[i] = i
			}
			run(all) // warm up: the guest's heap and the event buffer reach their size
			b.ReportAllocs()
			b.ResetTimer()
			done := 0
			for done < b.N {
				b.StopTimer()
				shift()
				b.StartTimer()
				done += run(all)
			}
			b.StopTimer()
			for _, bt := range batches { // leave the capture as it was
				for i := range bt.Packets {
					bt.Packets[i].Info.Timestamp -= pass * int64(2*time.Minute)
				}
			}
			if s := h.Stats()[0]; s.Failures != 0 || s.StreamLost != 0 {
				b.Fatalf("%+v", s)
			}
			b.ReportMetric(float64(done)/b.Elapsed().Seconds(), "pkts/s")
		})
	}
}
