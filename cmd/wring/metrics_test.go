package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wringcap/wring/internal/natstest"
	"github.com/wringcap/wring/internal/trafficgen"
)

// scrapeText GETs url; "" when it cannot be reached.
func scrapeText(url string) string {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		return ""
	}
	return string(b)
}

// parseMetrics reads Prometheus text exposition into series -> value.
func parseMetrics(t *testing.T, text string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, line := range strings.Split(text, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// promtoolCheck runs `promtool check metrics`: it must print nothing.
func promtoolCheck(t *testing.T, text string) {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("promtool not found (Debian package prometheus)")
		}
		t.Log("promtool not found (Debian package prometheus): not checked")
		return
	}
	cmd := exec.Command(path, "check", "metrics")
	cmd.Stdin = strings.NewReader(text)
	if out, err := cmd.CombinedOutput(); err != nil || len(out) != 0 {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}

// lineWatcher collects a process's stderr and reports when a line matching
// a pattern has arrived.
type lineWatcher struct {
	mu   sync.Mutex
	text strings.Builder
}

func (w *lineWatcher) feed(r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		w.mu.Lock()
		w.text.WriteString(sc.Text() + "\n")
		w.mu.Unlock()
	}
}

func (w *lineWatcher) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.text.String()
}

func (w *lineWatcher) wait(t *testing.T, re *regexp.Regexp, d time.Duration) []string {
	t.Helper()
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := re.FindStringSubmatch(w.String()); m != nil {
			return m
		}
	}
	t.Fatalf("no line matching %v after %v:\n%s", re, d, w.String())
	return nil
}

var (
	metricsAddrRe  = regexp.MustCompile(`(?m)^wring: metrics on (http://\S+/metrics)$`)
	readQueueRe    = regexp.MustCompile(`(?m)^wring: queue (\d+): received (\d+), filtered out (\d+), delivered (\d+), dropped (\d+)`)
	analyzerFullRe = regexp.MustCompile(`(?m)^analyzer (\S+): (\d+) packets, (\d+) events(?:, (\d+) events lost[^;]*)?(?:; (.*))?$`)
)

// checkAnalyzerMetrics compares the analyzer lines of the summary with the
// scraped series: packets, events, events lost and every module counter.
func checkAnalyzerMetrics(t *testing.T, summary string, got map[string]float64) int {
	t.Helper()
	n := 0
	for _, m := range analyzerFullRe.FindAllStringSubmatch(summary, -1) {
		a := m[1]
		for _, c := range []struct{ series, val string }{
			{`wring_analyzer_packets_total{analyzer="` + a + `"}`, m[2]},
			{`wring_analyzer_events_total{analyzer="` + a + `"}`, m[3]},
			{`wring_analyzer_events_lost_total{analyzer="` + a + `"}`, orZero(m[4])},
		} {
			want, _ := strconv.ParseFloat(c.val, 64)
			if got[c.series] != want {
				t.Errorf("%s = %v, the summary says %v", c.series, got[c.series], want)
			}
			n++
		}
		for _, kv := range strings.Fields(m[5]) {
			k, v, _ := strings.Cut(kv, "=")
			want, _ := strconv.ParseFloat(v, 64)
			series := fmt.Sprintf(`wring_analyzer_module_total{analyzer="%s",name="%s"}`, a, k)
			if got[series] != want {
				t.Errorf("%s = %v, the summary says %v", series, got[series], want)
			}
			n++
		}
	}
	return n
}

func orZero(s string) string {
	if s == "" {
		return "0"
	}
	return s
}

// TestMetricsRead scrapes `wring read --metrics` with the HTTP and DNS
// analyzers and NATS events while it runs, then once more after the
// summary (--metrics-hold): the series never go down, and the last scrape
// equals the summary printed on exit (queues, analyzers, the NATS
// exporter). promtool check metrics reports nothing.
func TestMetricsRead(t *testing.T) {
	f := filepath.Join(t.TempDir(), "mix.pcap")
	out, err := os.Create(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := trafficgen.Generate(out, trafficgen.Config{Seed: 5, Count: 60000}); err != nil {
		t.Fatal(err)
	}
	out.Close()
	c := natstest.Start(t, 1)
	argv, env := wringCommand(t)
	cmd := exec.Command(argv[0], "read", "-r", f, "-w", os.DevNull, "--analyzer", "http", "--analyzer", "dns",
		"--events", "nats://"+c.URLs()+"/EVENTS?host=metrics", "--metrics", "127.0.0.1:0", "--metrics-hold", "2m", "--batch", "16")
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	var w lineWatcher
	go w.feed(stderr)
	url := w.wait(t, metricsAddrRe, 60*time.Second)[1]

	// Scrape while the packets are read.
	prev := map[string]float64{}
	during, mid := 0, 0
	summary := regexp.MustCompile(`(?m)^wring: queue 0: `)
	for !summary.MatchString(w.String()) {
		text := scrapeText(url)
		if text == "" {
			time.Sleep(5 * time.Millisecond)
			continue
		}
		got := parseMetrics(t, text)
		for k, v := range prev {
			if strings.HasSuffix(strings.SplitN(k, "{", 2)[0], "_total") && got[k] < v {
				t.Errorf("%s went down: %v then %v", k, v, got[k])
			}
		}
		if r := got[`wring_queue_received_packets_total{queue="0"}`]; r > 0 && r < 60000 {
			mid++
		}
		prev = got
		during++
	}
	final := scrapeText(url)
	if final == "" {
		t.Fatalf("no scrape after the summary (--metrics-hold):\n%s", w.String())
	}
	t.Logf("%d scrapes during the run, %d of them mid-file", during, mid)
	if mid == 0 {
		t.Log("no scrape landed while packets were being read (a fast run on an idle machine)")
	}
	got := parseMetrics(t, final)
	text := w.String()
	compared := 0
	q := readQueueRe.FindStringSubmatch(text)
	if q == nil {
		t.Fatalf("no queue line:\n%s", text)
	}
	for i, name := range []string{"received", "filtered_out", "delivered"} {
		series := fmt.Sprintf(`wring_queue_%s_packets_total{queue="%s"}`, name, q[1])
		want, _ := strconv.ParseFloat(q[i+2], 64)
		if got[series] != want {
			t.Errorf("%s = %v, the summary says %v", series, got[series], want)
		}
		compared++
	}
	var dropped float64
	for _, r := range []string{"kernel", "handler", "sink"} {
		dropped += got[fmt.Sprintf(`wring_queue_dropped_packets_total{queue="%s",reason="%s"}`, q[1], r)]
	}
	if want, _ := strconv.ParseFloat(q[5], 64); dropped != want {
		t.Errorf("dropped by all reasons %v, the summary says %v", dropped, want)
	}
	if got[`wring_queue_received_packets_total{queue="0"}`] != 60000 {
		t.Errorf("received %v of 60000 packets", got[`wring_queue_received_packets_total{queue="0"}`])
	}
	compared += checkAnalyzerMetrics(t, text, got)
	nm := natsLine.FindStringSubmatch(text)
	if nm == nil {
		t.Fatalf("no NATS report:\n%s", text)
	}
	for i, series := range []string{`wring_exporter_events_total{exporter="nats"}`, `wring_exporter_published_total{exporter="nats"}`, `wring_exporter_retries_total{exporter="nats"}`} {
		want, _ := strconv.ParseFloat(nm[i+1], 64)
		if got[series] != want {
			t.Errorf("%s = %v, the summary says %v", series, got[series], want)
		}
		compared++
	}
	if got[`wring_exporter_published_total{exporter="nats"}`] == 0 {
		t.Error("no event published")
	}
	t.Logf("%d series equal to the summary", compared)
	promtoolCheck(t, final)

	// Ctrl-C ends the hold.
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("wring read: %v\n%s", err, w.String())
	}
}
