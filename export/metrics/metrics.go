// Package metrics serves wring's counters to Prometheus. It owns no
// counter: the CLI registers callbacks that read the counters where they
// live (the capture pipeline's queues, the kernel's socket statistics, the
// analyzer host's per-analyzer statistics, the exporters), and each scrape
// calls them, so a scrape and the summary printed on exit read the same
// numbers.
//
// Names follow Prometheus's conventions: the wring_ prefix, _total on
// counters, base units (packets, events, seconds), labels for the queue,
// the analyzer, the exporter and a reason. spec/METRICS.md lists them.
package metrics

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Queue is one receive queue's counters: the pipeline's books (received =
// filtered out + dropped by handler and sink + delivered) and, for a live
// capture, the kernel's.
type Queue struct {
	Queue          int
	Received       uint64
	FilteredOut    uint64
	Delivered      uint64
	DroppedKernel  uint64 // lost before userspace, as the pipeline counts it
	DroppedHandler uint64 // an analyzer's drop verdict
	DroppedSink    uint64 // a failed write
	Kernel         *Kernel
}

// Kernel is a live queue's kernel-side books: seen = filtered out +
// dropped + received, with the kernel's own drop counters by name.
type Kernel struct {
	Seen        uint64
	FilteredOut uint64
	Dropped     uint64
	Received    uint64
	Causes      []Sample // e.g. XDP_STATISTICS rx_ring_full
}

// Analyzer is one Wasm analyzer's counters.
type Analyzer struct {
	Name          string
	Calls         uint64 // successful calls
	Packets       uint64
	Events        uint64
	EventsLost    uint64
	Failures      uint64 // every failed call or instantiation
	FuelExhausted uint64
	Traps         uint64 // traps other than fuel exhaustion
	ABIViolations uint64
	GuestErrors   uint64
	Timeouts      uint64
	Quarantines   uint64
	Quarantined   bool
	PolicyPackets uint64   // packets given the fail policy
	GuestCounters []Sample // the module's own counters
}

// Sample is one named value. For an exporter, Name is the metric name
// after wring_exporter_ (a counter's ends in _total), and Label, when set,
// is a second label, e.g. {"reason", "buffer_full"}.
type Sample struct {
	Name  string
	Help  string
	Label [2]string
	Value uint64
	Gauge bool
}

// Metrics is the registry one process serves.
type Metrics struct {
	reg *prometheus.Registry

	mu        sync.Mutex
	queues    func() []Queue
	analyzers func() []Analyzer
	exporters []exporter
}

type exporter struct {
	name    string
	samples func() []Sample
}

// New returns a registry with wring's collector and the Go runtime and
// process collectors (CPU seconds, memory, file descriptors).
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), (*collector)(m))
	return m
}

// SetQueues sets the callback that reads the queues' counters.
func (m *Metrics) SetQueues(f func() []Queue) {
	m.mu.Lock()
	m.queues = f
	m.mu.Unlock()
}

// SetAnalyzers sets the callback that reads the analyzers' counters.
func (m *Metrics) SetAnalyzers(f func() []Analyzer) {
	m.mu.Lock()
	m.analyzers = f
	m.mu.Unlock()
}

var (
	exporterName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)
	sampleName   = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
)

// AddExporter registers an exporter's counters (NATS, IPFIX): each scrape
// calls samples and serves every sample as wring_exporter_<Name> with the
// label exporter=name. The name must be lower-case letters, digits and _,
// and not registered already.
func (m *Metrics) AddExporter(name string, samples func() []Sample) error {
	if !exporterName.MatchString(name) {
		return fmt.Errorf("metrics: exporter name %q: want [a-z][a-z0-9_]*, at most 32 bytes", name)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range m.exporters {
		if e.name == name {
			return fmt.Errorf("metrics: exporter %q registered twice", name)
		}
	}
	m.exporters = append(m.exporters, exporter{name, samples})
	return nil
}

// Handler serves the metrics in Prometheus's text format (or OpenMetrics
// when the scraper asks for it).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// Gather returns the current metric families, as a scrape would.
func (m *Metrics) Gather() error {
	_, err := m.reg.Gather()
	return err
}

// Server serves /metrics on a listener.
type Server struct {
	ln  net.Listener
	srv *http.Server
	err chan error
}

// Serve listens on addr (host:port; port 0 picks one) and serves /metrics
// until Close.
func (m *Metrics) Serve(addr string) (*Server, error) {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, fmt.Errorf("metrics address %q: want HOST:PORT (e.g. :9100 or 127.0.0.1:9100): %w", addr, err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", m.Handler())
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintln(w, "wring: metrics at /metrics")
	})
	s := &Server{ln: ln, srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}, err: make(chan error, 1)}
	go func() { s.err <- s.srv.Serve(ln) }()
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops the server.
func (s *Server) Close() error {
	err := s.srv.Close()
	if serr := <-s.err; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}

// collector reads the callbacks at each scrape.
type collector Metrics

// Describe sends nothing: the metrics depend on the queues, analyzers and
// exporters present, so the collector is unchecked.
func (c *collector) Describe(chan<- *prometheus.Desc) {}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	queues, analyzers, exporters := c.queues, c.analyzers, append([]exporter(nil), c.exporters...)
	c.mu.Unlock()
	if queues != nil {
		collectQueues(ch, queues())
	}
	if analyzers != nil {
		collectAnalyzers(ch, analyzers())
	}
	collectExporters(ch, exporters)
}

// family is one metric name with its help and label names.
type family struct {
	desc *prometheus.Desc
	kind prometheus.ValueType
}

func counter(name, help string, labels ...string) family {
	return family{prometheus.NewDesc(name, help, labels, nil), prometheus.CounterValue}
}

func gauge(name, help string, labels ...string) family {
	return family{prometheus.NewDesc(name, help, labels, nil), prometheus.GaugeValue}
}

func (f family) emit(ch chan<- prometheus.Metric, v uint64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(f.desc, f.kind, float64(v), labels...)
}

var (
	qReceived    = counter("wring_queue_received_packets_total", "Packets the pipeline read from the queue's source.", "queue")
	qFilteredOut = counter("wring_queue_filtered_out_packets_total", "Packets the userspace filter rejected.", "queue")
	qDelivered   = counter("wring_queue_delivered_packets_total", "Packets delivered to the output.", "queue")
	qDropped     = counter("wring_queue_dropped_packets_total", "Packets lost, by reason: kernel (before userspace), handler (an analyzer's drop verdict), sink (a failed write).", "queue", "reason")
	kSeen        = counter("wring_kernel_seen_packets_total", "Frames the kernel side of a live capture saw.", "queue")
	kFilteredOut = counter("wring_kernel_filtered_out_packets_total", "Frames the filter rejected in the kernel.", "queue")
	kDropped     = counter("wring_kernel_dropped_packets_total", "Frames that matched but were lost in the kernel.", "queue")
	kReceived    = counter("wring_kernel_received_packets_total", "Frames the kernel handed to userspace.", "queue")
	kCause       = counter("wring_kernel_socket_stat_total", "The kernel's own counters behind the drops (XDP_STATISTICS, PACKET_STATISTICS, passive rings), by name.", "queue", "name")

	aCalls       = counter("wring_analyzer_calls_total", "Successful calls of the analyzer.", "analyzer")
	aPackets     = counter("wring_analyzer_packets_total", "Packets the analyzer saw.", "analyzer")
	aEvents      = counter("wring_analyzer_events_total", "Events the analyzer wrote.", "analyzer")
	aEventsLost  = counter("wring_analyzer_events_lost_total", "Events lost: did not fit the event area or were over the per-call caps.", "analyzer")
	aFailures    = counter("wring_analyzer_failures_total", "Failed calls and instantiations, all causes.", "analyzer")
	aFuel        = counter("wring_analyzer_fuel_exhaustions_total", "Calls stopped for running out of fuel.", "analyzer")
	aTraps       = counter("wring_analyzer_traps_total", "Calls stopped by a trap other than fuel exhaustion.", "analyzer")
	aABI         = counter("wring_analyzer_abi_violations_total", "Calls whose output broke the ABI.", "analyzer")
	aGuest       = counter("wring_analyzer_guest_errors_total", "Calls where the guest returned an error code.", "analyzer")
	aTimeouts    = counter("wring_analyzer_timeouts_total", "Calls stopped by the wall-clock backstop.", "analyzer")
	aQuarantines = counter("wring_analyzer_quarantines_total", "Times the analyzer was quarantined.", "analyzer")
	aQuarantined = gauge("wring_analyzer_quarantined", "1 while the analyzer is quarantined.", "analyzer")
	aPolicy      = counter("wring_analyzer_fail_policy_packets_total", "Packets given the fail policy after a failure or while quarantined.", "analyzer")
	aCounter     = counter("wring_analyzer_module_total", "The analyzer module's own counters, by name.", "analyzer", "name")
)

func collectQueues(ch chan<- prometheus.Metric, qs []Queue) {
	for _, q := range qs {
		l := strconv.Itoa(q.Queue)
		qReceived.emit(ch, q.Received, l)
		qFilteredOut.emit(ch, q.FilteredOut, l)
		qDelivered.emit(ch, q.Delivered, l)
		qDropped.emit(ch, q.DroppedKernel, l, "kernel")
		qDropped.emit(ch, q.DroppedHandler, l, "handler")
		qDropped.emit(ch, q.DroppedSink, l, "sink")
		if k := q.Kernel; k != nil {
			kSeen.emit(ch, k.Seen, l)
			kFilteredOut.emit(ch, k.FilteredOut, l)
			kDropped.emit(ch, k.Dropped, l)
			kReceived.emit(ch, k.Received, l)
			seen := map[string]bool{}
			for _, c := range k.Causes {
				if !seen[c.Name] {
					seen[c.Name] = true
					kCause.emit(ch, c.Value, l, c.Name)
				}
			}
		}
	}
}

func collectAnalyzers(ch chan<- prometheus.Metric, as []Analyzer) {
	for _, a := range as {
		n := a.Name
		aCalls.emit(ch, a.Calls, n)
		aPackets.emit(ch, a.Packets, n)
		aEvents.emit(ch, a.Events, n)
		aEventsLost.emit(ch, a.EventsLost, n)
		aFailures.emit(ch, a.Failures, n)
		aFuel.emit(ch, a.FuelExhausted, n)
		aTraps.emit(ch, a.Traps, n)
		aABI.emit(ch, a.ABIViolations, n)
		aGuest.emit(ch, a.GuestErrors, n)
		aTimeouts.emit(ch, a.Timeouts, n)
		aQuarantines.emit(ch, a.Quarantines, n)
		q := uint64(0)
		if a.Quarantined {
			q = 1
		}
		aQuarantined.emit(ch, q, n)
		aPolicy.emit(ch, a.PolicyPackets, n)
		seen := map[string]bool{}
		for _, c := range a.GuestCounters {
			if !seen[c.Name] {
				seen[c.Name] = true
				aCounter.emit(ch, c.Value, n, c.Name)
			}
		}
	}
}

// collectExporters serves each exporter's samples. A sample with a bad
// name, or a counter not ending in _total, is served as an invalid metric,
// which the scrape reports as an error naming it, never silently dropped.
func collectExporters(ch chan<- prometheus.Metric, exporters []exporter) {
	descs := map[string]*prometheus.Desc{}
	for _, e := range exporters {
		for _, s := range e.samples() {
			name := "wring_exporter_" + s.Name
			labels := []string{"exporter"}
			values := []string{e.name}
			if s.Label[0] != "" {
				labels = append(labels, s.Label[0])
				values = append(values, s.Label[1])
			}
			if !sampleName.MatchString(s.Name) || !s.Gauge && !hasSuffix(s.Name, "_total") || s.Gauge && hasSuffix(s.Name, "_total") {
				ch <- prometheus.NewInvalidMetric(prometheus.NewDesc(name, s.Help, nil, nil),
					fmt.Errorf("exporter %s: sample %q: want [a-z][a-z0-9_]*, _total on counters only", e.name, s.Name))
				continue
			}
			key := name + "\x00" + labels[len(labels)-1]
			d, ok := descs[key]
			if !ok {
				d = prometheus.NewDesc(name, s.Help, labels, nil)
				descs[key] = d
			}
			kind := prometheus.CounterValue
			if s.Gauge {
				kind = prometheus.GaugeValue
			}
			m, err := prometheus.NewConstMetric(d, kind, float64(s.Value), values...)
			if err != nil {
				m = prometheus.NewInvalidMetric(d, err)
			}
			ch <- m
		}
	}
}

func hasSuffix(s, suf string) bool { return len(s) >= len(suf) && s[len(s)-len(suf):] == suf }
