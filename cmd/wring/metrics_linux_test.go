package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/wringcap/wring/internal/netns"
)

// scrapeIn GETs url from inside namespace ns: the connection is dialled on
// the goroutine netns.Do has moved into it (an http.Client would dial from
// another goroutine, in the test's namespace).
func scrapeIn(ns, url string) (string, error) {
	var text string
	err := netns.Do(ns, func() error {
		u, err := http.NewRequest("GET", url, nil)
		if err != nil {
			return err
		}
		c, err := net.DialTimeout("tcp", u.URL.Host, 5*time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if err := u.Write(c); err != nil {
			return err
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), u)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		text = string(b)
		return err
	})
	return text, err
}

// TestMetricsCapture scrapes a live `wring capture --metrics` on a 2-queue
// veth pair in AF_XDP and AF_PACKET modes, with an analyzer: after the
// summary (--metrics-hold), the kernel's and the pipeline's books of every
// queue and the analyzer's packets equal the summary's, and promtool
// reports nothing.
func TestMetricsCapture(t *testing.T) {
	netns.Require(t)
	for _, mode := range []string{"xdp", "packet"} {
		t.Run(mode, func(t *testing.T) {
			p := netns.New(t, 2)
			send, _ := liveFrames(1400)
			out := filepath.Join(t.TempDir(), "out.pcap")
			args := []string{"capture", "-i", p.IfA, "--mode", mode, "-w", out, "--duration", "3s", "--umem-frames", "4096",
				"--analyzer", "http", "--metrics", "127.0.0.1:0", "--metrics-hold", "5s", "udp dst port 80"}
			var stderr syncBuffer
			code := make(chan int, 1)
			go func() {
				c := -1
				if err := netns.Do(p.NSA, func() error {
					c = run(args, nil, io.Discard, &stderr)
					return nil
				}); err != nil {
					t.Error(err)
				}
				code <- c
			}()
			var url string
			for deadline := time.Now().Add(30 * time.Second); url == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
				if m := metricsAddrRe.FindStringSubmatch(stderr.String()); m != nil {
					url = m[1]
				}
			}
			if url == "" {
				t.Fatalf("no metrics address:\n%s", stderr.String())
			}
			time.Sleep(500 * time.Millisecond)
			if _, err := netns.Send(p.NSB, p.IfB, send); err != nil {
				t.Fatal(err)
			}
			during := 0
			for !queueRe.MatchString(stderr.String()) {
				if _, err := scrapeIn(p.NSA, url); err == nil {
					during++
				}
				time.Sleep(50 * time.Millisecond)
			}
			final, err := scrapeIn(p.NSA, url)
			if err != nil {
				t.Fatalf("scrape after the summary: %v\n%s", err, stderr.String())
			}
			if c := <-code; c != 0 {
				t.Fatalf("exit %d\n%s", c, stderr.String())
			}
			text := stderr.String()
			t.Logf("%d scrapes during the capture\n%s", during, text)
			got := parseMetrics(t, final)
			compared := 0
			for _, m := range queueRe.FindAllStringSubmatch(text, -1) {
				q := m[1]
				for i, series := range []string{"wring_kernel_seen_packets_total", "wring_kernel_filtered_out_packets_total", "wring_kernel_dropped_packets_total",
					"wring_kernel_received_packets_total", "wring_queue_filtered_out_packets_total", "wring_queue_delivered_packets_total"} {
					want, _ := strconv.ParseFloat(m[i+2], 64)
					s := fmt.Sprintf(`%s{queue="%s"}`, series, q)
					if got[s] != want {
						t.Errorf("%s = %v, the summary says %v", s, got[s], want)
					}
					compared++
				}
				want, _ := strconv.ParseFloat(m[8], 64)
				d := got[fmt.Sprintf(`wring_queue_dropped_packets_total{queue="%s",reason="handler"}`, q)] + got[fmt.Sprintf(`wring_queue_dropped_packets_total{queue="%s",reason="sink"}`, q)]
				if d != want {
					t.Errorf("queue %s: userspace dropped %v, the summary says %v", q, d, want)
				}
				compared++
				if mode == "xdp" {
					if _, ok := got[fmt.Sprintf(`wring_kernel_socket_stat_total{name="rx_ring_full",queue="%s"}`, q)]; !ok {
						t.Errorf("queue %s: no XDP socket statistics", q)
					}
				}
			}
			if compared < 14 {
				t.Errorf("compared %d series: the summary has too few queue lines:\n%s", compared, text)
			}
			var seen float64
			for k, v := range got {
				if len(k) > 32 && k[:32] == "wring_kernel_seen_packets_total{" {
					seen += v
				}
			}
			if seen == 0 {
				t.Error("the kernel saw no frame")
			}
			compared += checkAnalyzerMetrics(t, text, got)
			if got[`wring_analyzer_packets_total{analyzer="http"}`] == 0 {
				t.Error("the analyzer saw no packet")
			}
			t.Logf("%d series equal to the summary", compared)
			promtoolCheck(t, final)
		})
	}
}
