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

	"github.com/wringcap/wring/analyzers/bundled"
	"github.com/wringcap/wring/capture"
	"github.com/wringcap/wring/wasm"
)

// analyzerFlags are the Wasm analyzer flags shared by read and capture.
type analyzerFlags struct {
	Analyzer       []string `name:"analyzer" placeholder:"NAME|FILE" help:"Run a Wasm analyzer over the packets that pass the filter: a bundled one by name (see wring analyzers) or a .wasm file. Repeatable; analyzers run in the order given."`
	AnalyzerConfig []string `name:"analyzer-config" placeholder:"[NAME:]K=V" help:"Configuration handed to the analyzers (all of them, or NAME's only). Repeatable."`
	Events         string   `name:"events" placeholder:"FILE" help:"Write analyzer events as JSON lines to FILE instead of standard output."`
	FailClosed     bool     `name:"fail-closed" xor:"failpolicy" help:"Drop the packets of a batch an analyzer failed on (trap, fuel, bad output) or skips while quarantined."`
	FailOpen       bool     `name:"fail-open" xor:"failpolicy" help:"Let such packets through with no verdict (the default)."`
}

func init() {
	analyzerHook = func(ctx context.Context, f *analyzerFlags, s *streams) ([]capture.Handler, func() error, error) {
		if len(f.Analyzer) == 0 {
			return nil, nil, nil
		}
		h, done, err := f.host(ctx, s, []string{"out"})
		if err != nil {
			return nil, nil, err
		}
		return []capture.Handler{h}, done, nil
	}
}

// analyzerSpecs resolves --analyzer and --analyzer-config into the modules
// to load.
func (f *analyzerFlags) analyzerSpecs() ([]wasm.Analyzer, error) {
	var out []wasm.Analyzer
	seen := map[string]int{}
	for _, a := range f.Analyzer {
		var spec wasm.Analyzer
		if bin, err := bundled.Module(a); err == nil && !strings.ContainsAny(a, "/.") {
			spec = wasm.Analyzer{Name: a, Binary: bin}
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
	}
	for _, kv := range f.AnalyzerConfig {
		target := ""
		if i := strings.IndexByte(kv, ':'); i >= 0 && i < strings.IndexByte(kv+"=", '=') {
			target, kv = kv[:i], kv[i+1:]
		}
		if !strings.Contains(kv, "=") {
			return nil, fmt.Errorf("--analyzer-config %q: want K=V or NAME:K=V", kv)
		}
		matched := false
		for i := range out {
			if target == "" || out[i].Name == target {
				out[i].Config = append(append(out[i].Config, kv...), '\n')
				matched = true
			}
		}
		if !matched {
			return nil, fmt.Errorf("--analyzer-config %s:%s: no analyzer named %q", target, kv, target)
		}
	}
	return out, nil
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

// host loads the analyzers and returns the host (a capture handler) and the
// function to call when the packets are done: it flushes the analyzers,
// prints their counters to stderr and closes the events file. An analyzer
// that fails to load is quarantined and the others run; done then reports
// the failure. Cancelling ctx stops the loading, and interrupts the host.
func (f *analyzerFlags) host(ctx context.Context, s *streams, sinks []string) (*wasm.Host, func() error, error) {
	specs, err := f.analyzerSpecs()
	if err != nil {
		return nil, nil, err
	}
	var events io.Writer = s.Out
	var file *os.File
	if f.Events != "" && f.Events != "-" {
		file, err = os.Create(f.Events)
		if err != nil {
			return nil, nil, fmt.Errorf("--events: %w", err)
		}
		events = file
	}
	cfg := hostConfig(s).WithEvents(events).WithFailClosed(f.FailClosed).WithSinks(sinks...).WithLoadFailuresQuarantined(true)
	h, err := wasm.NewHost(ctx, cfg, specs...)
	if err != nil {
		if file != nil {
			file.Close()
		}
		return nil, nil, err
	}
	stopWatching := context.AfterFunc(ctx, h.Interrupt)
	done := func() error {
		stopWatching()
		h.Close(context.Background())
		printAnalyzerReport(s.Err, h)
		var err error
		if file != nil {
			err = file.Close()
		}
		return errors.Join(err, loadErrors(h))
	}
	return h, done, nil
}
