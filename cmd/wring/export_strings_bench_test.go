package main

import (
	"bytes"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/wringcap/wring/internal/trafficgen"
)

// BenchmarkReadExportStrings measures what --export costs when the HTTP,
// DNS and TLS analyzers run too (the fleet's configuration): the same
// `wring read -r F --count` on a generated mixed capture with the three
// analyzers and the flow analyzer, their events to /dev/null (the anchor),
// and with --export to a UDP socket of this process instead of the flow
// events, which adds the flow member to every event about a packet and
// joins the hosts, query names and server names into the records. It
// reports process CPU time per packet.
func BenchmarkReadExportStrings(b *testing.B) {
	const n = 50_000
	f := filepath.Join(b.TempDir(), "gen.pcap")
	out, err := os.Create(f)
	if err != nil {
		b.Fatal(err)
	}
	if err := trafficgen.Generate(out, trafficgen.Config{Seed: 7, Count: n}); err != nil {
		b.Fatal(err)
	}
	out.Close()
	sink, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	sink.SetReadBuffer(16 << 20)
	go io.Copy(io.Discard, readerOf(sink))
	defer sink.Close()
	an := []string{"--analyzer", "http", "--analyzer", "dns", "--analyzer", "tls"}
	for _, c := range []struct {
		name string
		args []string
	}{
		{"analyzers", append(append([]string{}, an...), "--analyzer", "flow", "--events", os.DevNull)},
		{"export", append(append([]string{}, an...), "--events", os.DevNull, "--export", "ipfix://"+sink.LocalAddr().String())},
	} {
		b.Run(c.name, func(b *testing.B) {
			args := append([]string{"read", "-r", f, "--count"}, c.args...)
			var stderr bytes.Buffer
			cpu0 := processCPU()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				stderr.Reset()
				if code := run(args, nil, io.Discard, &stderr); code != 0 {
					b.Fatalf("exit %d: %s", code, stderr.String())
				}
			}
			b.StopTimer()
			pkts := float64(b.N) * n
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/pkts, "ns/pkt")
			if cpu0 >= 0 {
				b.ReportMetric(float64(processCPU()-cpu0)/pkts, "cpu-ns/pkt")
			}
		})
	}
}

// readerOf reads c's datagrams as a stream, for io.Copy to discard.
func readerOf(c *net.UDPConn) io.Reader {
	return readerFunc(func(b []byte) (int, error) { n, _, err := c.ReadFromUDP(b); return n, err })
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(b []byte) (int, error) { return f(b) }
