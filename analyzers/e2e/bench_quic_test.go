package e2e_test

import (
	"os"
	"testing"

	"github.com/wringcap/wring/internal/analyzertest"
	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/internal/quicgen"
)

// BenchmarkQUIC measures the bundled QUIC analyzer through one worker of
// the host (ns/op is per packet) on a generated capture that is all client
// Initials (200 connections, 393 datagrams: the analyzer's worst case, a
// key derivation per new connection and a decryption per packet) and on
// the generated mixed capture (no QUIC: the cost of looking at UDP). The
// anchor, in the same run, is the standard library (crypto/hkdf, AES-GCM
// with the CPU's AES instructions) decrypting the same Initials natively.
func BenchmarkQUIC(b *testing.B) {
	w, _, err := quicgen.Set(200, 7, 4)
	if err != nil {
		b.Fatal(err)
	}
	path := b.TempDir() + "/quic.pcap"
	if err := os.WriteFile(path, w.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	for _, capture := range []string{"initials", "mixed"} {
		p := path
		if capture == "mixed" {
			p = analyzertest.MixedCapture(b, 5000)
		}
		c, err := corpus.ReadCapture(p)
		if err != nil {
			b.Fatal(err)
		}
		batches := analyzertest.Batches(c, 256)
		b.Run(capture+"/wring", func(b *testing.B) {
			h := analyzertest.Host(b, "quic", nil)
			wk := h.NewWorker()
			b.ReportAllocs()
			b.ResetTimer()
			done, k := 0, 0
			for done < b.N {
				bt := batches[k%len(batches)]
				clear(bt.Verdicts)
				wk.Handle(bt)
				done += len(bt.Packets)
				k++
			}
			b.StopTimer()
			if s := h.Stats()[0]; s.Failures != 0 || s.EventsLost != 0 {
				b.Fatalf("%+v", s)
			}
		})
		if capture != "initials" {
			continue
		}
		var dgrams [][]byte
		for _, bt := range batches {
			for _, pk := range bt.Packets {
				dgrams = append(dgrams, pk.Data[pk.Record.PayloadOff():])
			}
		}
		b.Run(capture+"/stdlib_decrypt", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := quicgen.Open(dgrams[i%len(dgrams)]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
