package main

import (
	"context"
	"fmt"
	"time"

	"github.com/wringcap/wring/capture"
	"github.com/wringcap/wring/capture/live"
	"github.com/wringcap/wring/export/metrics"
	natsexport "github.com/wringcap/wring/export/nats"
)

// metricsFlags are --metrics and --metrics-hold, shared by read and
// capture.
type metricsFlags struct {
	Metrics     string   `name:"metrics" placeholder:"ADDR" help:"Serve Prometheus metrics at http://ADDR/metrics while running (ADDR is HOST:PORT, e.g. :9100; port 0 picks one, printed on standard error)."`
	MetricsHold Duration `name:"metrics-hold" placeholder:"DUR" help:"With --metrics, keep serving for DUR after the packets are done (the summary is printed first), so a scrape sees the final counts; Ctrl-C ends it."`

	reg *metrics.Metrics
	srv *metrics.Server
}

// start serves the metrics, if asked: the analyzers' and the NATS
// exporter's counters are read from a (once loaded); the queues' once
// setQueues has been called.
func (m *metricsFlags) start(s *streams, a *analyzerFlags) error {
	if m.Metrics == "" {
		if m.MetricsHold != 0 {
			return exitf(2, "--metrics-hold needs --metrics")
		}
		return nil
	}
	if m.MetricsHold < 0 {
		return exitf(2, "--metrics-hold %v: want a duration of 0 or more", m.MetricsHold)
	}
	m.reg = metrics.New()
	m.reg.SetAnalyzers(func() []metrics.Analyzer { return analyzerMetrics(a) })
	if err := m.reg.AddExporter("nats", func() []metrics.Sample { return natsMetrics(a.nats.Load()) }); err != nil {
		return exitf(2, "%v", err)
	}
	srv, err := m.reg.Serve(m.Metrics)
	if err != nil {
		return exitf(2, "--metrics: %v", err)
	}
	m.srv = srv
	fmt.Fprintf(s.Err, "wring: metrics on http://%s/metrics\n", srv.Addr())
	return nil
}

// setQueues sets where the queues' counters are read.
func (m *metricsFlags) setQueues(f func() []metrics.Queue) {
	if m.reg != nil {
		m.reg.SetQueues(f)
	}
}

// stop keeps serving for --metrics-hold (unless ctx ends first), then
// closes the server.
func (m *metricsFlags) stop(ctx context.Context) {
	if m.srv == nil {
		return
	}
	if m.MetricsHold > 0 {
		t := time.NewTimer(m.MetricsHold)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	m.srv.Close()
}

// pipelineQueues reads a pipeline's per-queue counters.
func pipelineQueues(p *capture.Pipeline) func() []metrics.Queue {
	return func() []metrics.Queue { return queueMetrics(p.Counters(), nil) }
}

// queueMetrics converts the pipeline's counters and, for a live capture,
// the kernel's (ks[i] belongs to ps[i], as the summary pairs them).
func queueMetrics(ps []capture.Snapshot, ks []live.QueueStats) []metrics.Queue {
	out := make([]metrics.Queue, 0, len(ps))
	for i, q := range ps {
		mq := metrics.Queue{Queue: q.Queue, Received: q.Received, FilteredOut: q.FilteredOut, Delivered: q.Delivered,
			DroppedKernel: q.Dropped[capture.DropKernel], DroppedHandler: q.Dropped[capture.DropHandler], DroppedSink: q.Dropped[capture.DropSink]}
		if i < len(ks) {
			k := ks[i]
			mk := &metrics.Kernel{Seen: k.Seen, FilteredOut: k.FilteredOut, Dropped: k.Dropped, Received: k.Received}
			for _, c := range k.Causes {
				mk.Causes = append(mk.Causes, metrics.Sample{Name: c.Name, Value: c.Value})
			}
			mq.Queue, mq.Kernel = k.Queue, mk
		}
		out = append(out, mq)
	}
	return out
}

// analyzerMetrics reads the analyzer host's statistics and counters.
func analyzerMetrics(a *analyzerFlags) []metrics.Analyzer {
	h := a.loaded.Load()
	if h == nil {
		return nil
	}
	byName := map[string][]metrics.Sample{}
	for _, c := range h.Counters() {
		byName[c.Analyzer] = append(byName[c.Analyzer], metrics.Sample{Name: c.Name, Value: c.Value})
	}
	var out []metrics.Analyzer
	for _, st := range h.Stats() {
		out = append(out, metrics.Analyzer{
			Name: st.Analyzer, Calls: st.Calls, Packets: st.Packets, Events: st.Events, EventsLost: st.EventsLost,
			Failures: st.Failures, FuelExhausted: st.Fuel, Traps: st.Traps, ABIViolations: st.ABI, GuestErrors: st.Guest,
			Timeouts: st.Timeouts, Quarantines: st.Quarantines, Quarantined: st.Quarantined,
			PolicyPackets: st.PolicyPackets + st.QuarantinedPackets, GuestCounters: byName[st.Analyzer],
		})
	}
	return out
}

// natsMetrics are the NATS publisher's counters as exporter samples.
func natsMetrics(p *natsexport.Publisher) []metrics.Sample {
	if p == nil {
		return nil
	}
	st := p.Stats()
	return []metrics.Sample{
		{Name: "events_total", Help: "Events handed to the exporter.", Value: st.Lines},
		{Name: "published_total", Help: "Events the destination acknowledged, each counted once.", Value: st.Published},
		{Name: "duplicates_total", Help: "Acknowledgements saying the destination had the event already (a retry of a stored event).", Value: st.Duplicates},
		{Name: "retries_total", Help: "Sends repeated after an error or a missing acknowledgement.", Value: st.Retried},
		{Name: "dropped_total", Help: "Events lost, by reason.", Label: [2]string{"reason", "buffer_full"}, Value: st.DroppedFull},
		{Name: "dropped_total", Help: "Events lost, by reason.", Label: [2]string{"reason", "rejected"}, Value: st.Rejected},
		{Name: "dropped_total", Help: "Events lost, by reason.", Label: [2]string{"reason", "unacknowledged"}, Value: st.Unsent},
		{Name: "reconnects_total", Help: "Reconnections to the destination.", Value: st.Reconnects},
		{Name: "pending_events", Help: "Events buffered and not yet acknowledged.", Value: st.Pending, Gauge: true},
	}
}
