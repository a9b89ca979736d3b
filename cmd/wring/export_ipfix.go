package main

import (
	"bytes"
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
	join    *stringJoin // nil: no analyzer whose strings go into the records

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
		} else if e.join != nil {
			e.join.note(line)
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

var endReasons = map[string]ipfix.EndReason{
	"fin": ipfix.EndOfFlow, "rst": ipfix.EndOfFlow, "idle": ipfix.EndIdle, "active": ipfix.EndActive,
	"evicted": ipfix.EndResources, "end": ipfix.EndForced,
}

// The members of a flow event (spec/JSON.md) the export needs.
const (
	mSrc = 1 << iota
	mDst
	mSport
	mDport
	mProto
	mSrcPackets
	mSrcBytes
	mDstPackets
	mDstBytes
	mFirst
	mLast
	mReason
	mAll = 1<<iota - 1
)

// export reads one flow event and exports its directions.
func (e *flowExport) export(line []byte) {
	e.flows++
	r, rev, err := parseFlowEvent(line)
	if err != nil {
		e.unreadable++
		if e.firstBad == "" {
			e.firstBad = fmt.Sprintf("%v: %.200s", err, bytes.TrimSpace(line))
		}
		return
	}
	if e.join != nil {
		e.join.attach(&r, &rev)
	}
	if r.Packets > 0 {
		e.x.Export(&r)
	}
	if rev.Packets > 0 {
		e.x.Export(&rev)
	}
}

// parseFlowEvent reads a flow event line (one flat JSON object, as the
// host writes it) into the records of its two directions. It is a small
// scanner rather than encoding/json: this runs once per flow, and
// reflection cost more than the encoding and sending together.
func parseFlowEvent(line []byte) (fwd, rev ipfix.Record, err error) {
	var (
		seen                   int
		srcP, srcB, dstP, dstB uint64
		srcF, dstF             uint8
	)
	b := bytes.TrimSpace(line)
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return fwd, rev, fmt.Errorf("not a JSON object")
	}
	b = b[1 : len(b)-1]
	for len(b) > 0 {
		var key, val []byte
		var str bool
		if key, b, err = jsonString(b); err != nil {
			return fwd, rev, err
		}
		if len(b) == 0 || b[0] != ':' {
			return fwd, rev, fmt.Errorf("member %q: no ':'", key)
		}
		b = b[1:]
		if len(b) > 0 && b[0] == '"' {
			str = true
			if val, b, err = jsonString(b); err != nil {
				return fwd, rev, fmt.Errorf("member %q: %w", key, err)
			}
		} else {
			i := bytes.IndexByte(b, ',')
			if i < 0 {
				i = len(b)
			}
			val, b = b[:i], b[i:]
		}
		if len(b) > 0 {
			if b[0] != ',' {
				return fwd, rev, fmt.Errorf("member %q: no ',' after the value", key)
			}
			b = b[1:]
		}
		var bit int
		switch string(key) {
		case "src", "dst":
			a, perr := netip.ParseAddr(string(val))
			if !str || perr != nil {
				return fwd, rev, fmt.Errorf("member %q: not an IP address", key)
			}
			if key[0] == 's' {
				fwd.Src, bit = a, mSrc
			} else {
				fwd.Dst, bit = a, mDst
			}
		case "reason":
			reason, ok := endReasons[string(val)]
			if !str || !ok {
				return fwd, rev, fmt.Errorf("reason %q unknown", val)
			}
			fwd.EndReason, bit = reason, mReason
		case "src_tcp_flags", "dst_tcp_flags", "vlan", "ifindex":
			// Optional: a flow analyzer built before they existed has none.
			n, perr := strconv.ParseUint(string(val), 10, 32)
			if str || perr != nil || key[0] != 'i' && n > 0xff && key[0] != 'v' || key[0] == 'v' && n > 0xfff {
				return fwd, rev, fmt.Errorf("member %q: %q out of range", key, val)
			}
			switch key[0] {
			case 's':
				srcF = uint8(n)
			case 'd':
				dstF = uint8(n)
			case 'v':
				fwd.VLAN = uint16(n)
			case 'i':
				fwd.IfIndex = uint32(n)
			}
		case "sport", "dport", "proto", "src_packets", "src_bytes", "dst_packets", "dst_bytes", "first", "last":
			n, perr := strconv.ParseUint(string(val), 10, 64)
			if str || perr != nil {
				return fwd, rev, fmt.Errorf("member %q: %q is not a non-negative integer", key, val)
			}
			switch string(key) {
			case "sport":
				fwd.SrcPort, bit = uint16(n), mSport
			case "dport":
				fwd.DstPort, bit = uint16(n), mDport
			case "proto":
				fwd.Proto, bit = uint8(n), mProto
			case "src_packets":
				srcP, bit = n, mSrcPackets
			case "src_bytes":
				srcB, bit = n, mSrcBytes
			case "dst_packets":
				dstP, bit = n, mDstPackets
			case "dst_bytes":
				dstB, bit = n, mDstBytes
			case "first":
				fwd.First, bit = int64(n), mFirst
			case "last":
				fwd.Last, bit = int64(n), mLast
			}
			if (bit == mSport || bit == mDport) && n > 0xffff || bit == mProto && n > 0xff || (bit == mFirst || bit == mLast) && n > 1<<63-1 {
				return fwd, rev, fmt.Errorf("member %q: %d out of range", key, n)
			}
		}
		seen |= bit
	}
	if seen != mAll {
		return fwd, rev, fmt.Errorf("members missing (have %#x of %#x)", seen, mAll)
	}
	fwd.Packets, fwd.Bytes, fwd.TCPFlags = srcP, srcB, srcF
	rev = fwd
	rev.Src, rev.Dst, rev.SrcPort, rev.DstPort = fwd.Dst, fwd.Src, fwd.DstPort, fwd.SrcPort
	rev.Packets, rev.Bytes, rev.TCPFlags = dstP, dstB, dstF
	return fwd, rev, nil
}

// jsonString reads a JSON string at the start of b and returns its raw
// content (escapes left as they are) and the rest.
func jsonString(b []byte) ([]byte, []byte, error) {
	if len(b) == 0 || b[0] != '"' {
		return nil, nil, fmt.Errorf("want a string")
	}
	for i := 1; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return b[1:i], b[i+1:], nil
		}
	}
	return nil, nil, fmt.Errorf("string not closed")
}

// close sends what is left, closes the exporter and prints its counters.
func (e *flowExport) close(w io.Writer) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.x.Close()
	c := e.x.Counters()
	fmt.Fprintf(w, "export %s: %d flow events, %v\n", e.url, e.flows, c)
	if e.join != nil {
		fmt.Fprintf(w, "export %s: %v\n", e.url, e.join)
	}
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
	fx.join = newStringJoin(f.Analyzer, names)
	return fx, fx, nil
}
