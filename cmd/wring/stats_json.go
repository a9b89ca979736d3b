package main

import (
	"encoding/json"
	"io"

	"github.com/wringcap/wring/capture"
	"github.com/wringcap/wring/export/ipfix"
	natsexport "github.com/wringcap/wring/export/nats"
)

// The final stats object of --json (spec/JSON.md): the last line of the
// output, after every packet line.
type statsJSON struct {
	Type     string      `json:"type"` // always "stats"
	Captured uint64      `json:"captured"`
	Received uint64      `json:"received"`
	Filtered uint64      `json:"filtered_out"`
	Dropped  dropsJSON   `json:"dropped"`
	Queues   []queueJSON `json:"queues"`
	// InterfaceDropped is a live capture's device receive drops since
	// it opened (live.Capture.InterfaceDropped); absent for files.
	InterfaceDropped *uint64        `json:"interface_dropped,omitempty"`
	Analyzers        []analyzerJSON `json:"analyzers,omitempty"`
	Rules            *rulesJSON     `json:"rules,omitempty"`
	Exporters        []exporterJSON `json:"exporters,omitempty"`
}

// exporterJSON is one exporter's counters on exit: kind "ipfix" (--export)
// or "nats" (--events nats://), its destination (without a password), and
// its counters by name (spec/JSON.md).
type exporterJSON struct {
	Kind     string            `json:"kind"`
	URL      string            `json:"url"`
	Counters map[string]uint64 `json:"counters"`
}

func ipfixJSON(url string, c ipfix.Counters) exporterJSON {
	m := map[string]uint64{"received": c.Received, "exported": c.Exported, "messages": c.Messages, "bytes": c.Bytes,
		"template_messages": c.TemplateMessages, "truncated": c.Truncated, "connects": c.Connects,
		"connect_failures": c.ConnectFailures, "dropped": c.DroppedTotal()}
	for r := range ipfix.NumDropReasons {
		m["dropped_"+r.String()] = c.Dropped[r]
	}
	return exporterJSON{Kind: "ipfix", URL: url, Counters: m}
}

func natsJSON(url string, st natsexport.Stats) exporterJSON {
	return exporterJSON{Kind: "nats", URL: url, Counters: map[string]uint64{"lines": st.Lines, "published": st.Published,
		"duplicates": st.Duplicates, "retried": st.Retried, "dropped_buffer_full": st.DroppedFull, "rejected": st.Rejected,
		"unsent": st.Unsent, "reconnects": st.Reconnects, "lost": st.Lost()}}
}

type dropsJSON struct {
	Kernel  uint64 `json:"kernel"`
	Handler uint64 `json:"handler"`
	Sink    uint64 `json:"sink"`
}

type queueJSON struct {
	Queue     int       `json:"queue"`
	Received  uint64    `json:"received"`
	Filtered  uint64    `json:"filtered_out"`
	Delivered uint64    `json:"delivered"`
	Dropped   dropsJSON `json:"dropped"`
}

type analyzerJSON struct {
	Name        string            `json:"name"`
	Packets     uint64            `json:"packets"`
	Events      uint64            `json:"events"`
	EventsLost  uint64            `json:"events_lost"`
	Failures    uint64            `json:"failures"`
	Quarantined bool              `json:"quarantined"`
	Counters    map[string]uint64 `json:"counters"`
}

func drops(s capture.Snapshot) dropsJSON {
	return dropsJSON{Kernel: s.Dropped[capture.DropKernel], Handler: s.Dropped[capture.DropHandler], Sink: s.Dropped[capture.DropSink]}
}

// writeStats writes the stats object as one JSON line.
func writeStats(w io.Writer, qs []capture.Snapshot, f *analyzerFlags) error {
	return writeStatsRules(w, qs, f, nil, nil)
}

// writeStatsRules writes the stats object with the rule counters of
// --rules (nil: none) and a live device's receive drops (nil: a file).
func writeStatsRules(w io.Writer, qs []capture.Snapshot, f *analyzerFlags, rules *rulesJSON, ifdrop *uint64) error {
	t := capture.Sum(qs)
	st := statsJSON{Type: "stats", Captured: t.Delivered, Received: t.Received, Filtered: t.FilteredOut, Dropped: drops(t), Queues: []queueJSON{},
		Rules: rules, InterfaceDropped: ifdrop}
	for _, q := range qs {
		st.Queues = append(st.Queues, queueJSON{Queue: q.Queue, Received: q.Received, Filtered: q.FilteredOut, Delivered: q.Delivered, Dropped: drops(q)})
	}
	if f != nil {
		st.Exporters = f.exporters
		for _, a := range f.results {
			aj := analyzerJSON{Name: a.Analyzer, Packets: a.Packets, Events: a.Events, EventsLost: a.EventsLost, Failures: a.Failures,
				Quarantined: a.Quarantined, Counters: map[string]uint64{}}
			for _, c := range f.counts {
				if c.Analyzer == a.Analyzer {
					aj.Counters[c.Name] = c.Value
				}
			}
			st.Analyzers = append(st.Analyzers, aj)
		}
	}
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
