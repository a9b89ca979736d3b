package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wringcap/wring/internal/natstest"
	"github.com/wringcap/wring/internal/trafficgen"
)

// benchCapture writes the generated mixed capture of n packets.
func benchCapture(b *testing.B, n int) string {
	b.Helper()
	f := filepath.Join(b.TempDir(), "mix.pcap")
	out, err := os.Create(f)
	if err != nil {
		b.Fatal(err)
	}
	if err := trafficgen.Generate(out, trafficgen.Config{Seed: 7, Count: n}); err != nil {
		b.Fatal(err)
	}
	out.Close()
	return f
}

// processCPU is the CPU time (user + system) of the whole process.
func processRusageCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

var publishedRe = regexp.MustCompile(`(\d+) published`)

// BenchmarkEventsNATS runs `wring read` with the HTTP and DNS analyzers
// on the mixed capture (100,000 packets, about 42,000 events) in-process,
// writing the events to a file (the anchor) and publishing them to an
// in-process JetStream server (an R1 stream on one node, an R3 stream on
// a three-node cluster), and reports events per second of the whole run
// (the drain of the last acknowledgements included), and the process's CPU
// time per run: wring's, and for NATS the in-process servers' too.
func BenchmarkEventsNATS(b *testing.B) {
	f := benchCapture(b, 100_000)
	one := natstest.Start(b, 1)
	three := natstest.Start(b, 3)
	for _, c := range []struct{ name, events string }{
		{"file", filepath.Join(b.TempDir(), "events.json")},
		{"nats_r1", "nats://" + one.URLs() + "/EVENTS?host=bench"},
		{"nats_r3", "nats://" + three.URLs() + "/EVENTS?host=bench&replicas=3"},
	} {
		b.Run(c.name, func(b *testing.B) {
			var events float64
			var cpu time.Duration
			for i := 0; i < b.N; i++ {
				var stderr syncBuffer
				args := []string{"read", "-r", f, "-w", os.DevNull, "--analyzer", "http", "--analyzer", "dns", "--events", c.events}
				start := processRusageCPU()
				code := run(args, nil, io.Discard, &stderr)
				cpu += processRusageCPU() - start
				if code != 0 {
					b.Fatalf("exit %d\n%s", code, stderr.String())
				}
				for _, m := range analyzerLine.FindAllStringSubmatch(stderr.String(), -1) {
					n, _ := strconv.ParseFloat(m[1], 64)
					events += n
				}
				if c.name != "file" {
					m := publishedRe.FindStringSubmatch(natsLine.FindString(stderr.String()))
					if m == nil || m[1] == "0" {
						b.Fatalf("nothing published:\n%s", stderr.String())
					}
				}
			}
			b.ReportMetric(events/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(events/float64(b.N), "events/op")
			b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
		})
	}
}

// BenchmarkMetricsCost runs `wring read` with the HTTP and DNS analyzers
// on the mixed capture with and without --metrics, scraping every 100 ms
// (a scraper far more eager than Prometheus's 15 s default) during the
// metrics run, and reports the process's CPU time per run.
func BenchmarkMetricsCost(b *testing.B) {
	f := benchCapture(b, 100_000)
	events := filepath.Join(b.TempDir(), "events.json")
	for _, c := range []struct {
		name    string
		metrics bool
	}{{"without", false}, {"with_metrics", true}} {
		b.Run(c.name, func(b *testing.B) {
			var cpu time.Duration
			for i := 0; i < b.N; i++ {
				args := []string{"read", "-r", f, "-w", os.DevNull, "--analyzer", "http", "--analyzer", "dns", "--events", events}
				if c.metrics {
					args = append(args, "--metrics", "127.0.0.1:0")
				}
				stderr := &syncBuffer{}
				ctx, cancel := context.WithCancel(context.Background())
				var wg sync.WaitGroup
				if c.metrics {
					wg.Add(1)
					go func() {
						defer wg.Done()
						var url string
						for ctx.Err() == nil {
							if url == "" {
								if m := metricsAddrRe.FindStringSubmatch(stderr.String()); m != nil {
									url = m[1]
								}
							} else {
								scrapeText(url)
							}
							select {
							case <-ctx.Done():
							case <-time.After(100 * time.Millisecond):
							}
						}
					}()
				}
				start := processRusageCPU()
				code := run(args, nil, io.Discard, stderr)
				cancel()
				wg.Wait()
				cpu += processRusageCPU() - start
				if code != 0 {
					b.Fatalf("exit %d\n%s", code, stderr.String())
				}
			}
			b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
		})
	}
}
