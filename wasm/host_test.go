package wasm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/wringcap/wring/capture/packet"
)

func TestGoodAnalyzer(t *testing.T) {
	var events bytes.Buffer
	h := newHost(t, testConfig(nil).WithEvents(&events), Analyzer{Name: "good", Binary: analyzerWAT(t, nil)})
	ports := []uint16{80, 53, 9, 443, 80}
	b := mkBatch(ports, 100)
	if err := h.Handle(b); err != nil {
		t.Fatal(err)
	}
	want := []packet.Verdict{
		{Action: packet.ActionMatch, Tag: 80},
		{Action: packet.ActionForward, Sink: 1}, // "mirror" is the host's sink 1
		{Action: packet.ActionDrop},
		{},
		{Action: packet.ActionMatch, Tag: 80},
	}
	for i := range want {
		if b.Verdicts[i] != want[i] {
			t.Errorf("packet %d (port %d): verdict %+v, want %+v", i, ports[i], b.Verdicts[i], want[i])
		}
	}
	for name, v := range map[string]uint64{"packets": 5, "bytes": 500, "http": 2} {
		if got, ok := counter(h, "good", name); !ok || got != v {
			t.Errorf("counter %s = %d (%v), want %d", name, got, ok, v)
		}
	}
	lines := strings.Split(strings.TrimSpace(events.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("events:\n%s", events.String())
	}
	var ev map[string]any
	if err := json.Unmarshal([]byte(lines[1]), &ev); err != nil {
		t.Fatal(err)
	}
	var ts struct{ Ts int64 }
	if err := json.Unmarshal([]byte(lines[1]), &ts); err != nil {
		t.Fatal(err)
	}
	if ev["analyzer"] != "good" || ev["event"] != "hit" || ev["port"] != float64(80) || ts.Ts != 1600000000000000004 {
		t.Errorf("event %s", lines[1])
	}
}

func TestBatchLargerThanGuestBatch(t *testing.T) {
	h := newHost(t, testConfig(nil), Analyzer{Name: "good", Binary: analyzerWAT(t, nil)})
	ports := make([]uint16, 1000)
	for i := range ports {
		ports[i] = uint16(i % 100)
	}
	// 1000 packets of 1500 bytes: more than 256 per call and more than the
	// 512 KiB batch area, so the host splits the batch.
	b := mkBatch(ports, 1500)
	if err := h.Handle(b); err != nil {
		t.Fatal(err)
	}
	if got, _ := counter(h, "good", "packets"); got != 1000 {
		t.Fatalf("packets counter %d, want 1000", got)
	}
	if got, _ := counter(h, "good", "bytes"); got != 1500*1000 {
		t.Fatalf("bytes counter %d", got)
	}
	if s := statsOf(h, "good"); s.Calls < 4 || s.Packets != 1000 {
		t.Fatalf("stats %+v", s)
	}
	for i, v := range b.Verdicts {
		if (ports[i] == 80) != (v.Action == packet.ActionMatch) {
			t.Fatalf("packet %d port %d verdict %+v", i, ports[i], v)
		}
	}
}

// TestVerdictPrecedence runs two analyzers that disagree: drop wins over
// forward over match; among equals the first analyzer's opinion stands; a
// packet dropped by the first is not shown to the second.
func TestVerdictPrecedence(t *testing.T) {
	// second: matches everything with tag 7, forwards port 80, drops 443.
	second := analyzerWAT(t, map[string]string{"{{AFTER}}": `
	  (local.set $i (i32.const 0))
	  (block $d2 (loop $l2
	    (br_if $d2 (i32.ge_u (local.get $i) (local.get $n)))
	    (local.set $d (i32.add (i32.const 0x10020) (i32.mul (local.get $i) (i32.const 104))))
	    (local.set $port (i32.load16_u offset=44 (local.get $d)))
	    (local.set $v (i32.add (i32.const 0x2000) (i32.shl (local.get $i) (i32.const 3))))
	    (i64.store (local.get $v) (i64.const 0x0000000700000001))
	    (if (i32.eq (local.get $port) (i32.const 80)) (then (i64.store (local.get $v) (i64.const 0x0000000500000002))))
	    (if (i32.eq (local.get $port) (i32.const 443)) (then (i64.store (local.get $v) (i64.const 3))))
	    (local.set $i (i32.add (local.get $i) (i32.const 1)))
	    (br $l2)))`})
	h := newHost(t, testConfig(nil),
		Analyzer{Name: "first", Binary: analyzerWAT(t, nil)},
		Analyzer{Name: "second", Binary: second})
	ports := []uint16{80, 53, 9, 443, 1}
	b := mkBatch(ports, 64)
	if err := h.Handle(b); err != nil {
		t.Fatal(err)
	}
	want := []packet.Verdict{
		{Action: packet.ActionForward, Sink: 1, Tag: 5}, // forward beats the first's match
		{Action: packet.ActionForward, Sink: 1},         // both forward: the first's stands
		{Action: packet.ActionDrop},                     // dropped by first
		{Action: packet.ActionDrop},                     // dropped by second
		{Action: packet.ActionMatch, Tag: 7},            // only second has an opinion
	}
	for i := range want {
		if b.Verdicts[i] != want[i] {
			t.Errorf("packet %d (port %d): verdict %+v, want %+v", i, ports[i], b.Verdicts[i], want[i])
		}
	}
	// The port-9 packet was dropped by the first analyzer: the second saw 4.
	if got, _ := counter(h, "second", "packets"); got != 4 {
		t.Errorf("second saw %d packets, want 4", got)
	}
}

func TestConcurrentWorkers(t *testing.T) {
	h := newHost(t, testConfig(nil), Analyzer{Name: "good", Binary: analyzerWAT(t, nil)})
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := h.NewWorker()
			for i := 0; i < 50; i++ {
				if err := w.Handle(mkBatch([]uint16{80, 1, 2, 3}, 64)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if got, _ := counter(h, "good", "packets"); got != 4*50*4 {
		t.Fatalf("packets %d, want %d", got, 4*50*4)
	}
	if got, _ := counter(h, "good", "http"); got != 4*50 {
		t.Fatalf("http %d, want %d", got, 4*50)
	}
}

func TestReloadAtBatchBoundary(t *testing.T) {
	h := newHost(t, testConfig(nil), Analyzer{Name: "good", Binary: analyzerWAT(t, nil)})
	// v2 counts each packet twice in "packets", so that we can tell which
	// version saw which batch.
	v2 := analyzerWAT(t, map[string]string{"{{AFTER}}": `(i64.store (i32.const 0x1000) (i64.add (i64.load (i32.const 0x1000)) (i64.extend_i32_u (local.get $n))))`})
	var wg sync.WaitGroup
	const batches, per = 200, 8
	wg.Add(1)
	var handled [2]int
	go func() {
		defer wg.Done()
		w := h.NewWorker()
		for i := 0; i < batches; i++ {
			if err := w.Handle(mkBatch(make([]uint16, per), 64)); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	if err := h.Reload(context.Background(), "good", v2, nil); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	_ = handled
	pk, _ := counter(h, "good", "packets")
	by, _ := counter(h, "good", "bytes")
	// bytes counts each packet once in both versions: no packet lost or
	// seen twice.
	if by != batches*per*64 {
		t.Fatalf("bytes %d, want %d", by, batches*per*64)
	}
	// packets = old-version packets + 2 * new-version packets, and the
	// switch happened at a batch boundary: (pk - total) is the new
	// version's share, a whole number of batches.
	total := uint64(batches * per)
	if pk < total || (pk-total)%per != 0 {
		t.Fatalf("packets %d: not a batch-boundary switch (total %d)", pk, total)
	}
	if s := statsOf(h, "good"); s.Reloads != 1 {
		t.Fatalf("reloads %d", s.Reloads)
	}
	// A reload with a broken module keeps the old one.
	if err := h.Reload(context.Background(), "good", []byte("junk"), nil); !errors.Is(err, ErrCompile) {
		t.Fatalf("reload junk: %v", err)
	}
	if err := h.Handle(mkBatch([]uint16{80}, 64)); err != nil {
		t.Fatal(err)
	}
	if by2, _ := counter(h, "good", "bytes"); by2 != by+64 {
		t.Fatalf("after failed reload: bytes %d, want %d", by2, by+64)
	}
}

func TestRulesCapability(t *testing.T) {
	imp := `(import "wring" "rules" (func $rules (param i32 i32) (result i32)))`
	// On a batch whose header says the rules changed, copy them to 0x9000
	// and count their length in "http".
	bin := analyzerWAT(t, map[string]string{"{{IMPORTS}}": imp, "{{AFTER}}": `
	  (if (i32.and (i32.load (i32.const 0x10004)) (i32.const 1))
	    (then (i64.store (i32.const 0x1010) (i64.extend_i32_s (call $rules (i32.const 0x9000) (i32.const 256))))))`})
	_, err := NewHost(context.Background(), testConfig(nil), Analyzer{Name: "r", Binary: bin})
	if !errors.Is(err, ErrCapability) || !strings.Contains(err.Error(), `"r"`) {
		t.Fatalf("without the grant: %v", err)
	}
	h := newHost(t, testConfig(nil), Analyzer{Name: "r", Binary: bin, GrantRules: true})
	if err := h.SetRules("r", []byte("tcp port 80")); err != nil {
		t.Fatal(err)
	}
	h.Handle(mkBatch([]uint16{1}, 64))
	if got, _ := counter(h, "r", "http"); got != 11 {
		t.Fatalf("rules length seen by the guest %d, want 11", got)
	}
}

func TestLogImport(t *testing.T) {
	var logs logBuffer
	imp := `(import "wring" "log" (func $log (param i32 i32 i32)))`
	bin := analyzerWAT(t, map[string]string{"{{IMPORTS}}": imp, "{{AFTER}}": `(call $log (i32.const 2) (i32.const 0x500) (i32.const 7))`})
	h := newHost(t, testConfig(&logs), Analyzer{Name: "talker", Binary: bin})
	for i := 0; i < 100; i++ {
		h.Handle(mkBatch([]uint16{1}, 64))
	}
	out := logs.String()
	if !strings.Contains(out, "analyzer=talker") || !strings.Contains(out, `packets`) {
		t.Fatalf("log: %s", out)
	}
	if n := strings.Count(out, "guest log"); n > DefaultLogLines*2 || n == 0 {
		t.Fatalf("%d log lines: the rate limit does not hold", n)
	}
}

func TestInitFailures(t *testing.T) {
	good := analyzerWAT(t, nil)
	for _, tc := range []struct {
		name string
		a    Analyzer
		cfg  Config
		want error
	}{
		{"config refused by init", Analyzer{Name: "m", Binary: good, Config: []byte("fail")}, testConfig(nil), ErrInit},
		{"unknown sink", Analyzer{Name: "m", Binary: good}, testConfig(nil).WithSinks("pcap"), ErrInit},
		{"bad name", Analyzer{Name: "bad name", Binary: good}, testConfig(nil), ErrInit},
		{"not wasm", Analyzer{Name: "m", Binary: []byte("hello")}, testConfig(nil), ErrCompile},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewHost(context.Background(), tc.cfg, tc.a)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			var e *Error
			if !errors.As(err, &e) || e.Analyzer != tc.a.Name {
				t.Fatalf("error %v does not name the analyzer", err)
			}
		})
	}
}

// TestCompilationCacheDir: a second host with the same directory loads the
// module from the compiled code the first one stored.
func TestCompilationCacheDir(t *testing.T) {
	dir := t.TempDir()
	bin := analyzerWAT(t, nil)
	for i := 0; i < 2; i++ {
		h, err := NewHost(context.Background(), testConfig(nil).WithCompilationCacheDir(dir), Analyzer{Name: "good", Binary: bin})
		if err != nil {
			t.Fatal(err)
		}
		b := mkBatch([]uint16{80}, 64)
		h.Handle(b)
		h.Close(context.Background())
		if b.Verdicts[0].Action != packet.ActionMatch {
			t.Fatalf("run %d: %+v", i, b.Verdicts[0])
		}
	}
	n := 0
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	if n == 0 {
		t.Fatal("nothing stored in the cache directory")
	}
}

// TestEngines runs the good analyzer and a runaway one on both of wazero's
// engines: the fuel rewrite bounds the interpreter too.
func TestEngines(t *testing.T) {
	for _, interp := range []bool{false, true} {
		t.Run(map[bool]string{false: "compiler", true: "interpreter"}[interp], func(t *testing.T) {
			h := newHost(t, testConfig(nil).WithInterpreter(interp),
				Analyzer{Name: "spin", Binary: analyzerWAT(t, map[string]string{"{{PROCESS}}": "(loop $l (br $l))"})},
				Analyzer{Name: "good", Binary: analyzerWAT(t, nil)})
			b := mkBatch([]uint16{80, 53, 9, 1}, 64)
			if err := h.Handle(b); err != nil {
				t.Fatal(err)
			}
			want := []packet.Action{packet.ActionMatch, packet.ActionForward, packet.ActionDrop, packet.ActionNone}
			for i, v := range b.Verdicts {
				if v.Action != want[i] {
					t.Fatalf("packet %d: %+v", i, v)
				}
			}
			if s := statsOf(h, "spin"); s.Fuel != 1 {
				t.Fatalf("spin: %+v", s)
			}
		})
	}
}
