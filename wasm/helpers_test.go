package wasm

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/wasm/internal/wat"
)

// analyzerWAT builds testdata/analyzer.wat with some markers replaced.
func analyzerWAT(t testing.TB, repl map[string]string) []byte {
	t.Helper()
	src, err := os.ReadFile("testdata/analyzer.wat")
	if err != nil {
		t.Fatal(err)
	}
	defaults := map[string]string{"{{IMPORTS}}": "", "{{VERSION}}": "(i32.const 1)", "{{INIT}}": "",
		"{{PROCESS}}": "", "{{AFTER}}": "", "{{EXTRA}}": ""}
	s := string(src)
	for k, v := range defaults {
		if r, ok := repl[k]; ok {
			v = r
		}
		s = strings.ReplaceAll(s, k, v)
	}
	return compile(t, s)
}

var watCache sync.Map

func compile(t testing.TB, src string) []byte {
	t.Helper()
	if b, ok := watCache.Load(src); ok {
		return b.([]byte)
	}
	b, err := wat.Compile(src)
	if errors.Is(err, wat.ErrNoTool) {
		corpus.Unavailable(t, err.Error())
	}
	if err != nil {
		t.Fatal(err)
	}
	watCache.Store(src, b)
	return b
}

// logBuffer collects log lines for assertions.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func testConfig(logs io.Writer) Config {
	if logs == nil {
		logs = io.Discard
	}
	return NewConfig().WithLogger(slog.New(slog.NewTextHandler(logs, nil))).
		WithSinks("pcap", "mirror").WithFuel(1_000_000).WithInitFuel(10_000_000)
}

func newHost(t testing.TB, cfg Config, as ...Analyzer) *Host {
	t.Helper()
	h, err := NewHost(context.Background(), cfg, as...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(context.Background()) })
	return h
}

// mkBatch makes a batch with one packet per destination port; each packet is
// size bytes long and has the given timestamp base.
func mkBatch(ports []uint16, size int) *packet.Batch {
	b := &packet.Batch{Packets: make([]packet.Packet, len(ports)), Verdicts: make([]packet.Verdict, len(ports))}
	for i, p := range ports {
		pk := &b.Packets[i]
		pk.Data = bytes.Repeat([]byte{byte(i)}, size)
		pk.Info = packet.Info{Timestamp: 1_600_000_000_000_000_000 + int64(i), CapLen: uint32(size), WireLen: uint32(size)}
		binary.LittleEndian.PutUint32(pk.Record[spec.RecCapLen:], uint32(size))
		binary.LittleEndian.PutUint32(pk.Record[spec.RecWireLen:], uint32(size))
		binary.LittleEndian.PutUint16(pk.Record[spec.RecDstPort:], p)
		binary.LittleEndian.PutUint16(pk.Record[spec.RecPayloadOff:], 54)
	}
	return b
}

func counter(h *Host, analyzer, name string) (uint64, bool) {
	for _, c := range h.Counters() {
		if c.Analyzer == analyzer && c.Name == name {
			return c.Value, true
		}
	}
	return 0, false
}

func statsOf(h *Host, name string) Stats {
	for _, s := range h.Stats() {
		if s.Analyzer == name {
			return s
		}
	}
	return Stats{}
}
