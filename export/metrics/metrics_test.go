package metrics

import (
	"bufio"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// parse reads Prometheus text exposition into series -> value.
func parse(t *testing.T, text string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

func scrape(t *testing.T, h http.Handler) (string, int) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	return string(b), rec.Code
}

// promtoolCheck runs `promtool check metrics` on the text: it must report
// nothing. Without promtool the check fails in CI and is skipped elsewhere.
func promtoolCheck(t *testing.T, text string) {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("promtool not found (Debian package prometheus)")
		}
		t.Skip("promtool not found (Debian package prometheus)")
	}
	cmd := exec.Command(path, "check", "metrics")
	cmd.Stdin = strings.NewReader(text)
	out, err := cmd.CombinedOutput()
	if err != nil || len(out) != 0 {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}

func testMetrics(t *testing.T) *Metrics {
	t.Helper()
	m := New()
	m.SetQueues(func() []Queue {
		return []Queue{
			{Queue: 0, Received: 10, FilteredOut: 3, Delivered: 6, DroppedHandler: 1},
			{Queue: 1, Received: 5, Delivered: 5, Kernel: &Kernel{Seen: 9, FilteredOut: 2, Dropped: 2, Received: 5,
				Causes: []Sample{{Name: "rx_dropped", Value: 1}, {Name: "rx_ring_full", Value: 1}}}},
		}
	})
	m.SetAnalyzers(func() []Analyzer {
		return []Analyzer{{Name: "dns", Calls: 4, Packets: 15, Events: 7, EventsLost: 1, Failures: 2, FuelExhausted: 1, Traps: 1,
			Quarantines: 1, Quarantined: true, GuestCounters: []Sample{{Name: "qtype.A", Value: 3}, {Name: "rcode.NOERROR", Value: 2}}}}
	})
	if err := m.AddExporter("nats", func() []Sample {
		return []Sample{{Name: "published_total", Help: "Published.", Value: 6},
			{Name: "dropped_total", Help: "Lost.", Label: [2]string{"reason", "buffer_full"}, Value: 1},
			{Name: "dropped_total", Help: "Lost.", Label: [2]string{"reason", "rejected"}, Value: 0},
			{Name: "pending_events", Help: "Pending.", Value: 2, Gauge: true}}
	}); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestScrape serves fixed counters and reads back every series with its
// value; promtool finds nothing to report.
func TestScrape(t *testing.T) {
	m := testMetrics(t)
	text, code := scrape(t, m.Handler())
	if code != 200 {
		t.Fatalf("status %d:\n%s", code, text)
	}
	got := parse(t, text)
	want := map[string]float64{
		`wring_queue_received_packets_total{queue="0"}`:                      10,
		`wring_queue_filtered_out_packets_total{queue="0"}`:                  3,
		`wring_queue_delivered_packets_total{queue="0"}`:                     6,
		`wring_queue_dropped_packets_total{queue="0",reason="handler"}`:      1,
		`wring_queue_dropped_packets_total{queue="0",reason="kernel"}`:       0,
		`wring_kernel_seen_packets_total{queue="1"}`:                         9,
		`wring_kernel_dropped_packets_total{queue="1"}`:                      2,
		`wring_kernel_socket_stat_total{name="rx_ring_full",queue="1"}`:      1,
		`wring_analyzer_calls_total{analyzer="dns"}`:                         4,
		`wring_analyzer_fuel_exhaustions_total{analyzer="dns"}`:              1,
		`wring_analyzer_traps_total{analyzer="dns"}`:                         1,
		`wring_analyzer_events_lost_total{analyzer="dns"}`:                   1,
		`wring_analyzer_quarantines_total{analyzer="dns"}`:                   1,
		`wring_analyzer_quarantined{analyzer="dns"}`:                         1,
		`wring_analyzer_module_total{analyzer="dns",name="qtype.A"}`:         3,
		`wring_exporter_published_total{exporter="nats"}`:                    6,
		`wring_exporter_dropped_total{exporter="nats",reason="buffer_full"}`: 1,
		`wring_exporter_pending_events{exporter="nats"}`:                     2,
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}
	if _, ok := got[`wring_kernel_seen_packets_total{queue="0"}`]; ok {
		t.Error("kernel series for a queue without kernel counters")
	}
	if _, ok := got["process_cpu_seconds_total"]; !ok {
		t.Error("no process_cpu_seconds_total")
	}
	promtoolCheck(t, text)
}

// TestExporterNames refuses bad exporter names and duplicates, and serves
// a bad sample as a scrape error naming it, never dropping it silently.
func TestExporterNames(t *testing.T) {
	m := testMetrics(t)
	for _, bad := range []string{"", "NATS", "a-b", "1x", strings.Repeat("x", 40), "nats"} {
		if err := m.AddExporter(bad, func() []Sample { return nil }); err == nil {
			t.Errorf("AddExporter(%q) succeeded", bad)
		}
	}
	if err := m.AddExporter("ipfix", func() []Sample { return []Sample{{Name: "flows", Help: "no _total", Value: 1}} }); err != nil {
		t.Fatal(err)
	}
	err := m.Gather()
	if err == nil || !strings.Contains(err.Error(), `exporter ipfix: sample "flows"`) {
		t.Fatalf("Gather: %v, want the bad sample named", err)
	}
}

// TestServe serves on a real listener and stops.
func TestServe(t *testing.T) {
	m := testMetrics(t)
	if _, err := m.Serve("nonsense"); err == nil || !strings.Contains(err.Error(), `metrics address "nonsense"`) {
		t.Fatalf("Serve(nonsense): %v", err)
	}
	s, err := m.Serve("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + s.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if got := parse(t, string(b))[`wring_queue_received_packets_total{queue="1"}`]; got != 5 {
		t.Fatalf("served queue 1 received %v", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get("http://" + s.Addr() + "/metrics"); err == nil {
		t.Fatal("served after Close")
	}
}
