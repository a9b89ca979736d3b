package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/wringcap/wring/internal/trafficgen"
)

// processCPU returns the CPU time (user and system) this process has used,
// in ns, from /proc/self/stat (clock ticks of 10 ms), or -1 where there is
// no /proc.
func processCPU() int64 {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return -1
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return -1
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return -1
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return (u + s) * 10_000_000 // USER_HZ is 100 on Linux
}

// BenchmarkReadExport measures what --export costs on a generated mixed
// capture of 100,000 packets: the same `wring read -r F --count` without
// analyzers, with the flow analyzer (its events to /dev/null), and with
// --export to a UDP socket of this process that discards the
// datagrams (--export loads the flow analyzer). It reports wall and
// process CPU time per packet, and flows exported per second.
func BenchmarkReadExport(b *testing.B) {
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
	sink, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	sink.SetReadBuffer(16 << 20)
	go func() {
		buf := make([]byte, 65536)
		for {
			if _, err := sink.Read(buf); err != nil {
				return
			}
		}
	}()
	defer sink.Close()
	url := "ipfix://" + sink.LocalAddr().String()
	for _, c := range []struct {
		name string
		args []string
	}{
		{"read", nil},
		{"flow", []string{"--analyzer", "flow", "--events", os.DevNull}},
		{"export", []string{"--export", url}},
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
			if c.name == "export" {
				var events, records int
				if _, err := fmt.Sscanf(stderr.String()[strings.Index(stderr.String(), "export ipfix://"):], "export "+url+": %d flow events, %d records exported", &events, &records); err != nil {
					b.Fatalf("no export summary: %v\n%s", err, stderr.String())
				}
				b.ReportMetric(float64(records)*float64(b.N)/b.Elapsed().Seconds(), "flows/s")
				b.ReportMetric(float64(records)/n, "flows/pkt")
			}
		})
	}
}
