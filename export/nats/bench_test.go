package nats

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/wringcap/wring/internal/natstest"
)

// BenchmarkPublish writes 40,000 event lines to the publisher and closes
// it (every event acknowledged), against an in-process server with an R1
// stream; the anchor writes the same lines to a file. Reports events per
// second.
func BenchmarkPublish(b *testing.B) {
	const n = 40_000
	var lines [][]byte
	for i := 0; i < n; i++ {
		lines = append(lines, []byte(eventLine(i)))
	}
	b.Run("file", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			f, err := os.Create(filepath.Join(b.TempDir(), "events.json"))
			if err != nil {
				b.Fatal(err)
			}
			for _, l := range lines {
				f.Write(l)
			}
			f.Close()
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
	})
	c := natstest.Start(b, 1)
	for _, w := range []string{"256", "4096"} {
		b.Run("nats_r1_window"+w, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				p := dialBench(b, c, "&window="+w)
				for _, l := range lines {
					p.Write(l)
				}
				if err := p.Close(); err != nil {
					b.Fatal(err)
				}
				if st := p.Stats(); st.Published != n {
					b.Fatalf("%v", st)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

func dialBench(b *testing.B, c *natstest.Cluster, query string) *Publisher {
	b.Helper()
	cfg, err := ParseURL("nats://" + c.URLs() + "/EVENTS?host=bench" + query)
	if err != nil {
		b.Fatal(err)
	}
	p, err := Dial(b.Context(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	return p
}
