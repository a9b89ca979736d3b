package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/wringcap/wring/analyzers/bundled"
	"github.com/wringcap/wring/capture"
	natsexport "github.com/wringcap/wring/export/nats"
	"github.com/wringcap/wring/wasm"
)

// analyzerFlags are the Wasm analyzer flags shared by read and capture.
type analyzerFlags struct {
	Analyzer       []string `name:"analyzer" sep:"none" placeholder:"NAME|FILE" help:"Run a Wasm analyzer over the packets that pass the filter: a bundled one by name (see wring analyzers) or a .wasm file. Repeatable; analyzers run in the order given."`
	AnalyzerConfig []string `name:"analyzer-config" sep:"none" placeholder:"[NAME:]K=V" help:"Configuration handed to the analyzers (all of them, or NAME's only). Repeatable."`
	Events         string   `name:"events" placeholder:"FILE" help:"Write analyzer events as JSON lines to FILE instead of standard output."`
	FailClosed     bool     `name:"fail-closed" xor:"failpolicy" help:"Drop the packets of a batch an analyzer failed on (trap, fuel, bad output) or skips while quarantined."`
	FailOpen       bool     `name:"fail-open" xor:"failpolicy" help:"Let such packets through with no verdict (the default)."`
	Export         string   `name:"export" placeholder:"URL" help:"Export the flow analyzer's flows to an IPFIX collector: ipfix://HOST:PORT (UDP) or ipfix+tcp://HOST:PORT (spec/IPFIX.md). Loads the flow analyzer if --analyzer does not."`

	Grant []string `name:"grant" sep:"none" placeholder:"NAME:rules" help:"Grant analyzer NAME a capability: rules lets it read the rule blob and add exact flow rules to the capture's rule table (spec/ABI.md §12). Repeatable."`

	flowTable  wasm.FlowTable // the capture's rule table, for analyzers granted rules
	exportWait time.Duration  // how long an export may wait for queue room (read: exportWait; capture: 0)

	exporters []exporterJSON                       // likewise: --export's and --events nats:// counters
	results   []wasm.Stats                         // filled when the analyzers are done, for --json's stats object
	counts    []wasm.Counter                       // likewise
	loaded    atomic.Pointer[wasm.Host]            // the running host, for --metrics
	nats      atomic.Pointer[natsexport.Publisher] // --events nats://..., for the report and --metrics
}

// handlers loads the analyzers --analyzer names, if any, as one host: the
// pipeline's handler. done prints their counters and releases them; ctx
// stops the loading and, later, their guest code; a failed write of events
// calls stop.
func (f *analyzerFlags) handlers(ctx context.Context, s *streams, stop func()) ([]capture.Handler, func() error, error) {
	if len(f.Analyzer) == 0 && f.Export == "" {
		return nil, nil, nil
	}
	h, done, err := f.host(ctx, s, []string{"out"}, stop)
	if err != nil {
		return nil, nil, err
	}
	return []capture.Handler{h}, done, nil
}

// analyzerSpecs resolves --analyzer and --analyzer-config into the modules
// to load. Each configuration key is checked against what the analyzer
// declares (analyzers/bundled): an undeclared key, a bad value, an empty
// key or a key given twice is an error naming the analyzer, the key and the
// value, never a silent fallback to the default. A .wasm file declares
// nothing, so it gets its keys unchecked.
func (f *analyzerFlags) analyzerSpecs() ([]wasm.Analyzer, error) {
	var out []wasm.Analyzer
	var decl []*bundled.Analyzer // nil for a .wasm file
	seen := map[string]int{}
	for _, a := range f.exportNames() {
		if strings.TrimSpace(a) == "" {
			return nil, fmt.Errorf("--analyzer %q: empty analyzer name (%s, or a .wasm file)", a, bundledNames())
		}
		var spec wasm.Analyzer
		var d *bundled.Analyzer
		if bin, err := bundled.Module(a); err == nil && !strings.ContainsAny(a, "/.") {
			spec = wasm.Analyzer{Name: a, Binary: bin}
			if desc, ok := bundled.Describe(a); ok {
				d = &desc
			}
		} else {
			bin, err := os.ReadFile(a)
			if err != nil {
				return nil, fmt.Errorf("analyzer %s: not a bundled analyzer (%s) and not readable: %w", a, bundledNames(), err)
			}
			spec = wasm.Analyzer{Name: moduleName(a), Binary: bin}
		}
		seen[spec.Name]++
		if n := seen[spec.Name]; n > 1 {
			spec.Name = fmt.Sprintf("%s-%d", spec.Name, n)
		}
		out = append(out, spec)
		decl = append(decl, d)
	}
	if len(out) == 0 && len(f.AnalyzerConfig) > 0 {
		return nil, fmt.Errorf("--analyzer-config %s: no --analyzer to configure", f.AnalyzerConfig[0])
	}
	given := make([]map[string]string, len(out))
	for i := range given {
		given[i] = map[string]string{}
	}
	for _, arg := range f.AnalyzerConfig {
		target, kv := "", arg
		if i := strings.IndexByte(kv, ':'); i >= 0 && i < strings.IndexByte(kv+"=", '=') {
			target, kv = kv[:i], kv[i+1:]
		}
		key, val, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("--analyzer-config %q: want KEY=VALUE or NAME:KEY=VALUE", arg)
		}
		var targets []int
		for i := range out {
			if target == "" || out[i].Name == target {
				targets = append(targets, i)
			}
		}
		if len(targets) == 0 {
			return nil, fmt.Errorf("--analyzer-config %s: no analyzer named %q", arg, target)
		}
		if key == "" || strings.ContainsAny(key, " \t\n\r") || strings.ContainsAny(val, "\n\r") {
			return nil, fmt.Errorf("analyzer %s: --analyzer-config %q: key %q, value %q: the key must be a non-empty word and the value one line", out[targets[0]].Name, arg, key, val)
		}
		applied := false
		for _, i := range targets {
			if d := decl[i]; d != nil {
				k, declared := findKey(d.Config, key)
				if !declared {
					if target == "" {
						continue // another analyzer may declare it
					}
					return nil, undeclared(out[i].Name, d, key, val)
				}
				if err := k.Check(val); err != nil {
					return nil, fmt.Errorf("analyzer %s: key %s, value %q: %w", out[i].Name, key, val, err)
				}
			}
			if prev, dup := given[i][key]; dup {
				return nil, fmt.Errorf("analyzer %s: key %s given twice (%q and %q)", out[i].Name, key, prev, val)
			}
			given[i][key] = val
			out[i].Config = append(append(out[i].Config, kv...), '\n')
			applied = true
		}
		if !applied {
			i := targets[0]
			return nil, undeclared(out[i].Name, decl[i], key, val)
		}
	}
	if err := applyGrants(out, f.Grant); err != nil {
		return nil, err
	}
	return out, nil
}

// findKey returns the declared key name.
func findKey(keys []bundled.ConfigKey, name string) (bundled.ConfigKey, bool) {
	for _, k := range keys {
		if k.Name == name {
			return k, true
		}
	}
	return bundled.ConfigKey{}, false
}

// undeclared is the error for a key the analyzer does not declare.
func undeclared(name string, d *bundled.Analyzer, key, val string) error {
	if len(d.Config) == 0 {
		return fmt.Errorf("analyzer %s: unknown key %q (value %q): %s takes no configuration", name, key, val, name)
	}
	var keys []string
	for _, k := range d.Config {
		keys = append(keys, k.Name)
	}
	return fmt.Errorf("analyzer %s: unknown key %q (value %q): %s takes %s", name, key, val, name, strings.Join(keys, ", "))
}

// moduleName derives an analyzer name from a file name.
func moduleName(path string) string {
	base := strings.TrimSuffix(filepath.Base(path), ".wasm")
	b := []byte(base)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			b[i] = '_'
		}
	}
	if len(b) == 0 {
		return "analyzer"
	}
	if len(b) > 60 {
		b = b[:60]
	}
	return string(b)
}

func bundledNames() string {
	var n []string
	for _, a := range bundled.List() {
		n = append(n, a.Name)
	}
	return "bundled: " + strings.Join(n, ", ")
}

// hostConfig is the host configuration the CLI uses: guest logs and host
// warnings to stderr, compiled code cached under the user's cache directory.
func hostConfig(s *streams) wasm.Config {
	cfg := wasm.NewConfig().WithLogger(slog.New(slog.NewTextHandler(s.Err, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if d, err := os.UserCacheDir(); err == nil {
		cfg = cfg.WithCompilationCacheDir(filepath.Join(d, "wring", "wazero"))
	}
	return cfg
}

// eventsWriteError is a failed write of analyzer events.
type eventsWriteError struct{ err error }

func (e *eventsWriteError) Error() string { return e.err.Error() }
func (e *eventsWriteError) Unwrap() error { return e.err }

// eventsFailure returns the events write error in err, or nil.
func eventsFailure(err error) error {
	var e *eventsWriteError
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// eventsConflict checks the analyzer flags before anything is opened: the
// analyzers and their configuration (analyzerSpecs), --events and
// --analyzer-config without an analyzer, and analyzer events on standard
// output when packet text or JSON lines go there too (the two streams would
// interleave).
func eventsConflict(f *analyzerFlags, write string, countOnly bool, s *streams) error {
	if f.Export != "" {
		if _, err := f.parseExport(); err != nil {
			return err
		}
	}
	if len(f.Analyzer) == 0 {
		switch {
		case f.Events != "":
			return errors.New("--events needs --analyzer")
		case len(f.AnalyzerConfig) > 0 && f.Export == "":
			return fmt.Errorf("--analyzer-config %s: no --analyzer to configure", f.AnalyzerConfig[0])
		case (f.FailClosed || f.FailOpen) && f.Export == "":
			return errors.New("--fail-closed and --fail-open need --analyzer")
		}
		if f.Export != "" {
			_, err := f.analyzerSpecs()
			return err
		}
		return nil
	}
	if _, err := f.analyzerSpecs(); err != nil {
		return err
	}
	if err := checkNATSEvents(f.Events); err != nil {
		return err
	}
	eventsOut := f.Events == "" || f.Events == "-" || sameAsStdout(f.Events, s.Out)
	packetsOut := !countOnly && (write == "" || write == "-" || write != os.DevNull && sameAsStdout(write, s.Out))
	if eventsOut && packetsOut {
		return errors.New("analyzer events and packets would both go to standard output: give --events FILE (or -w FILE, or --count)")
	}
	if f.Events != "" && f.Events != "-" && write != "" && write != "-" && sameFile(f.Events, write) {
		return fmt.Errorf("--events %s and -w %s are the same file", f.Events, write)
	}
	return nil
}

// sameAsStdout reports whether path names the file standard output is.
func sameAsStdout(path string, out io.Writer) bool {
	f, ok := out.(*os.File)
	if !ok {
		return false
	}
	a, err := os.Stat(path)
	if err != nil {
		return false
	}
	b, err := f.Stat()
	return err == nil && os.SameFile(a, b)
}

// sameFile reports whether two paths name one existing file (or are equal).
func sameFile(p, q string) bool {
	if filepath.Clean(p) == filepath.Clean(q) {
		return true
	}
	a, err1 := os.Stat(p)
	b, err2 := os.Stat(q)
	return err1 == nil && err2 == nil && os.SameFile(a, b)
}

// host loads the analyzers and returns the host (a capture handler) and the
// function to call when the packets are done: it flushes the analyzers,
// prints their counters to stderr and closes the events file. The first
// failed write of events calls stop, and done reports it. An analyzer that
// fails to load is quarantined and the others run; done then reports the
// failure. Cancelling ctx stops the loading, and interrupts the host.
func (f *analyzerFlags) host(ctx context.Context, s *streams, sinks []string, stop func()) (*wasm.Host, func() error, error) {
	specs, err := f.analyzerSpecs()
	if err != nil {
		return nil, nil, err
	}
	d := &dest{what: "analyzer events (standard output)", stop: stop}
	events := &destWriter{d: d, w: s.Out}
	if natsexport.IsURL(f.Events) {
		pub, err := dialNATSEvents(ctx, f.Events)
		if err != nil {
			return nil, nil, fmt.Errorf("--events: %w", err)
		}
		d.what = "--events " + pub.Config().Redacted()
		events.w, events.c = pub, pub
		f.nats.Store(pub)
	} else if f.Events != "" && f.Events != "-" {
		file, err := createOutput(f.Events)
		if err != nil {
			return nil, nil, fmt.Errorf("--events: %w", err)
		}
		d.what = "--events " + f.Events
		events.w, events.c = file, file
	}
	var dnsInstances []string
	for i, a := range f.Analyzer {
		if a == "dns" && i < len(specs) {
			dnsInstances = append(dnsInstances, specs[i].Name)
		}
	}
	evw, fx, err := f.startExport(newDNSNames(events, dnsInstances), specs)
	if err != nil {
		events.Close()
		return nil, nil, err
	}
	cfg := hostConfig(s).WithEvents(evw).WithEventFlows(fx != nil && fx.join != nil).WithFailClosed(f.FailClosed).WithSinks(sinks...).WithLoadFailuresQuarantined(true)
	if f.flowTable != nil {
		cfg = cfg.WithFlowTable(f.flowTable)
	}
	h, err := wasm.NewHost(ctx, cfg, specs...)
	if err != nil {
		if fx != nil {
			fx.x.Close()
		}
		events.Close()
		return nil, nil, err
	}
	f.loaded.Store(h)
	stopWatching := context.AfterFunc(ctx, h.Interrupt)
	done := func() error {
		stopWatching()
		h.Close(context.Background())
		f.results, f.counts = h.Stats(), h.Counters()
		printAnalyzerReport(s.Err, h)
		printFlowReport(s.Err, h)
		var exportErr error
		if fx != nil {
			exportErr = fx.close(s.Err)
			f.exporters = append(f.exporters, ipfixJSON(fx.url, fx.x.Counters()))
		}
		cerr := events.Close()
		printNATSReport(s.Err, f.nats.Load())
		if p := f.nats.Load(); p != nil {
			f.exporters = append(f.exporters, natsJSON(p.Config().Redacted(), p.Stats()))
		}
		if err := d.failure(); err != nil {
			return &eventsWriteError{err}
		}
		if cerr != nil {
			return &eventsWriteError{fmt.Errorf("%s: %w", d.what, cerr)}
		}
		return errors.Join(loadErrors(h), exportErr)
	}
	return h, done, nil
}
