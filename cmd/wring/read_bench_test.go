package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wringcap/wring/internal/trafficgen"
)

// BenchmarkRead runs `wring read -r F -w /dev/null EXPR` in-process on a
// generated capture of 100,000 packets and reports ns per packet.
func BenchmarkRead(b *testing.B) {
	const n = 100_000
	f := filepath.Join(b.TempDir(), "gen.pcap")
	out, err := os.Create(f)
	if err != nil {
		b.Fatal(err)
	}
	if err := trafficgen.Generate(out, trafficgen.Config{Seed: 7, Count: n}); err != nil {
		b.Fatal(err)
	}
	out.Close()
	for _, c := range []struct{ name, expr string }{
		{"all", ""},
		{"tcp_port_80", "tcp port 80"},
		{"dns", "udp and port 53"},
		{"host_and_proto", "host 192.0.2.7 and (tcp or udp)"},
	} {
		b.Run(c.name+"/wring", func(b *testing.B) {
			args := []string{"read", "-r", f, "-w", os.DevNull}
			if c.expr != "" {
				args = append(args, strings.Fields(c.expr)...)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if code := run(args, nil, io.Discard, io.Discard); code != 0 {
					b.Fatalf("exit %d", code)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/pkt")
		})
	}
}
