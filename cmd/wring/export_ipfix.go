package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/wringcap/wring/export/ipfix"
	"github.com/wringcap/wring/wasm"
)

// flowAnalyzer is the bundled analyzer whose events --export turns into
// flow records.
const flowAnalyzer = "flow"

// exportNames returns the analyzers to load: --analyzer's, plus the bundled
// flow analyzer when --export needs it and it was not asked for.
func (f *analyzerFlags) exportNames() []string {
	if f.Export == "" {
		return f.Analyzer
	}
	for _, a := range f.Analyzer {
		if a == flowAnalyzer {
			return f.Analyzer
		}
	}
	return append(append([]string(nil), f.Analyzer...), flowAnalyzer)
}

// flowInstance returns the name of the analyzer instance whose events are
// exported (the first bundled flow analyzer), and whether it was added by
// --export (its events are then exported only, not written).
func (f *analyzerFlags) flowInstance(names []string, specs []string) (string, bool) {
	for i, a := range names {
		if a == flowAnalyzer && i < len(specs) {
			return specs[i], i >= len(f.Analyzer)
		}
	}
	return "", false
}

// parseExport checks --export's URL.
func (f *analyzerFlags) parseExport() (ipfix.Config, error) {
	c, err := ipfix.ParseURL(f.Export)
	if err != nil {
		return c, fmt.Errorf("--export %w", err)
	}
	return c, nil
}

// flowExport is the events writer that turns the flow analyzer's "flow"
// events into IPFIX records: one for each direction that carried packets
// (IPFIX flows are unidirectional; the flow analyzer's are not). Lines of
// other analyzers, and the flow lines too unless the flow analyzer was
// added by --export alone, go on to w.
type flowExport struct {
	w       io.Writer
	x       *ipfix.Exporter
	url     string
	prefix  []byte
	swallow bool

	mu         sync.Mutex
	pending    []byte
	out        []byte
	flows      uint64 // flow events read
	unreadable uint64 // flow events that could not be read
	firstBad   string
}

func newFlowExport(w io.Writer, x *ipfix.Exporter, url, instance string, swallow bool) *flowExport {
	return &flowExport{w: w, x: x, url: url, prefix: []byte(`{"analyzer":` + strconv.Quote(instance) + `,"event":"flow",`), swallow: swallow}
}

// Write exports the flow events among the complete lines of p and passes
// the lines on.
func (e *flowExport) Write(p []byte) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.pending = append(e.pending, p...)
	e.out = e.out[:0]
	rest := e.pending
	for {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			break
		}
		line := rest[:i+1]
		rest = rest[i+1:]
		if bytes.HasPrefix(line, e.prefix) {
			e.export(line)
			if e.swallow {
				continue
			}
		}
		e.out = append(e.out, line...)
	}
	e.pending = append(e.pending[:0], rest...)
	if len(e.out) > 0 && e.w != nil {
		if _, err := e.w.Write(e.out); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// flowEvent is the flow analyzer's event (spec/JSON.md).
type flowEvent struct {
	Src, Dst   string
	Sport      uint16
	Dport      uint16
	Proto      uint8
	SrcPackets *uint64 `json:"src_packets"`
	SrcBytes   *uint64 `json:"src_bytes"`
	DstPackets *uint64 `json:"dst_packets"`
	DstBytes   *uint64 `json:"dst_bytes"`
	First      *int64
	Last       *int64
	Reason     string
}

var endReasons = map[string]ipfix.EndReason{
	"fin": ipfix.EndOfFlow, "rst": ipfix.EndOfFlow, "idle": ipfix.EndIdle, "active": ipfix.EndActive,
	"evicted": ipfix.EndResources, "end": ipfix.EndForced,
}

// export reads one flow event and exports its directions.
func (e *flowExport) export(line []byte) {
	e.flows++
	var ev flowEvent
	err := json.Unmarshal(line, &ev)
	var src, dst netip.Addr
	if err == nil {
		src, err = netip.ParseAddr(ev.Src)
	}
	if err == nil {
		dst, err = netip.ParseAddr(ev.Dst)
	}
	reason, known := endReasons[ev.Reason]
	if err == nil && (ev.SrcPackets == nil || ev.SrcBytes == nil || ev.DstPackets == nil || ev.DstBytes == nil || ev.First == nil || ev.Last == nil || !known) {
		err = fmt.Errorf("a member is missing or reason %q is unknown", ev.Reason)
	}
	if err != nil {
		e.unreadable++
		if e.firstBad == "" {
			e.firstBad = fmt.Sprintf("%v: %.200s", err, bytes.TrimSpace(line))
		}
		return
	}
	r := ipfix.Record{Src: src, Dst: dst, SrcPort: ev.Sport, DstPort: ev.Dport, Proto: ev.Proto,
		First: *ev.First, Last: *ev.Last, Packets: *ev.SrcPackets, Bytes: *ev.SrcBytes, EndReason: reason}
	if r.Packets > 0 {
		e.x.Export(&r)
	}
	if *ev.DstPackets > 0 {
		r.Src, r.Dst, r.SrcPort, r.DstPort = dst, src, ev.Dport, ev.Sport
		r.Packets, r.Bytes = *ev.DstPackets, *ev.DstBytes
		e.x.Export(&r)
	}
}

// close sends what is left, closes the exporter and prints its counters.
func (e *flowExport) close(w io.Writer) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.x.Close()
	c := e.x.Counters()
	fmt.Fprintf(w, "export %s: %d flow events, %v\n", e.url, e.flows, c)
	if e.unreadable > 0 {
		fmt.Fprintf(w, "export %s: %d flow events unreadable, not exported; the first: %s\n", e.url, e.unreadable, e.firstBad)
	}
	if err := e.x.Err(); err != nil {
		fmt.Fprintf(w, "export %s: first record not encoded: %v\n", e.url, err)
	}
	if d := c.DroppedTotal() + e.unreadable; d > 0 {
		return fmt.Errorf("export %s: %d flow records not exported (see the counters above)", e.url, d)
	}
	return nil
}

// exportWait is how long a file read lets Export wait for room in the
// exporter's queue: reading a file can wait, a live capture must not.
const exportWait = 5 * time.Second

// startExport starts the exporter --export names, if any, and returns the
// events writer to give the host: w with the flow events taken out for
// export.
func (f *analyzerFlags) startExport(w io.Writer, specs []wasm.Analyzer) (io.Writer, *flowExport, error) {
	if f.Export == "" {
		return w, nil, nil
	}
	cfg, err := f.parseExport()
	if err != nil {
		return nil, nil, err
	}
	cfg.Wait = f.exportWait
	x, err := ipfix.New(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("--export %s: %w", f.Export, err)
	}
	names := make([]string, len(specs))
	for i := range specs {
		names[i] = specs[i].Name
	}
	inst, swallow := f.flowInstance(f.exportNames(), names)
	fx := newFlowExport(w, x, f.Export, inst, swallow)
	return fx, fx, nil
}
