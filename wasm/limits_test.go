package wasm

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/wringcap/wring/capture/packet"
)

// wasiImport declares WASI function f as $name.
func wasiImport(f wasiFunc) string {
	var b strings.Builder
	fmt.Fprintf(&b, `(import "wasi_snapshot_preview1" %q (func $%s`, f.name, f.name)
	if f.params > 0 {
		b.WriteString(" (param")
		for k := 0; k < f.params; k++ {
			if isI64(f, k) {
				b.WriteString(" i64")
			} else {
				b.WriteString(" i32")
			}
		}
		b.WriteString(")")
	}
	if !f.noErrno {
		b.WriteString(" (result i32)")
	}
	b.WriteString("))")
	return b.String()
}

func isI64(f wasiFunc, k int) bool {
	for _, j := range f.i64 {
		if j == k {
			return true
		}
	}
	return false
}

// wasiCall calls f with every argument arg (i64 ones widened).
func wasiCall(f wasiFunc, arg string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "(call $%s", f.name)
	for k := 0; k < f.params; k++ {
		if isI64(f, k) {
			fmt.Fprintf(&b, " (i64.extend_i32_u %s)", arg)
		} else {
			b.WriteString(" " + arg)
		}
	}
	b.WriteString(")")
	if !f.noErrno {
		return "(drop " + b.String() + ")"
	}
	return b.String()
}

// TestHostCallFlood: a guest calling one host function in a loop, with
// harmless arguments, spends its fuel on the calls' own price and fails
// with ErrFuel naming the module, well inside the backstop; the analyzer
// beside it keeps working. Every WASI function and wring import is tried.
func TestHostCallFlood(t *testing.T) {
	type flood struct {
		name, imp, call string
		grant           bool
	}
	var cases []flood
	for _, f := range wasiFuncs {
		if f.name == "proc_exit" {
			continue // it ends the call: see TestWASIBehaviour
		}
		// Pointer arguments 0x9000 (inside memory), counts 1.
		cases = append(cases, flood{name: f.name, imp: wasiImport(f), call: wasiCall(f, "(i32.const 1)")})
	}
	cases = append(cases,
		flood{name: "wring.log", imp: `(import "wring" "log" (func $log (param i32 i32 i32)))`,
			call: `(call $log (i32.const 0) (i32.const 0x500) (i32.const 1024))`},
		flood{name: "wring.rules", imp: `(import "wring" "rules" (func $rules (param i32 i32) (result i32)))`,
			call: `(drop (call $rules (i32.const 0x9000) (i32.const 4096)))`, grant: true})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var logs logBuffer
			bin := analyzerWAT(t, map[string]string{"{{IMPORTS}}": tc.imp,
				"{{PROCESS}}": "(loop $l " + tc.call + " (br $l))"})
			h := newHost(t, testConfig(&logs).WithCallTimeout(time.Minute),
				Analyzer{Name: "flood", Binary: bin, GrantRules: tc.grant},
				Analyzer{Name: "good", Binary: analyzerWAT(t, nil)})
			if tc.grant {
				if err := h.SetRules("flood", make([]byte, 4000)); err != nil {
					t.Fatal(err)
				}
			}
			start := time.Now()
			b := mkBatch([]uint16{80, 1}, 64)
			h.Handle(b)
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("one batch took %v", d)
			}
			s := statsOf(h, "flood")
			if s.Fuel != 1 || s.Failures != 1 {
				t.Fatalf("not stopped by fuel: %+v\n%s", s, logs.String())
			}
			if b.Verdicts[0].Action != packet.ActionMatch {
				t.Fatal("the good analyzer's verdict is missing")
			}
			if out := logs.String(); !strings.Contains(out, "analyzer=flood") || !strings.Contains(out, "fuel exhausted") {
				t.Fatalf("log does not name the module and the limit:\n%s", out)
			}
		})
	}
}

// TestHostCallWorkIsCharged: calls whose work is large are refused before
// they do it, with an error naming the import.
func TestHostCallWorkIsCharged(t *testing.T) {
	for _, tc := range []struct {
		name, imp, call, text string
	}{
		{"random_get 60 MiB", `(import "wasi_snapshot_preview1" "random_get" (func $r (param i32 i32) (result i32)))`,
			`(drop (call $r (i32.const 0) (i32.const 62914560)))`, "random_get needs 62914560 units"},
		{"fd_write 1024 iovecs", `(import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))`,
			`(loop $l (drop (call $w (i32.const 1) (i32.const 0x9000) (i32.const 1024) (i32.const 0x8ff0))) (br $l))`, "fd_write needs 8192 units"},
		{"poll_oneoff 1024 subscriptions", `(import "wasi_snapshot_preview1" "poll_oneoff" (func $p (param i32 i32 i32 i32) (result i32)))`,
			`(loop $l (drop (call $p (i32.const 0x20000) (i32.const 0x40000) (i32.const 1024) (i32.const 0x8ff0))) (br $l))`, "poll_oneoff needs 32768 units"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs logBuffer
			bin := analyzerWAT(t, map[string]string{"{{IMPORTS}}": tc.imp, "{{PROCESS}}": tc.call})
			h := newHost(t, testConfig(&logs).WithCallTimeout(time.Minute), Analyzer{Name: "work", Binary: bin})
			start := time.Now()
			h.Handle(mkBatch([]uint16{1}, 64))
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("one batch took %v", d)
			}
			if s := statsOf(h, "work"); s.Fuel != 1 {
				t.Fatalf("%+v\n%s", s, logs.String())
			}
			if !strings.Contains(logs.String(), tc.text) {
				t.Fatalf("log does not say %q:\n%s", tc.text, logs.String())
			}
		})
	}
}

// TestWASIBehaviour checks what the host's WASI answers.
func TestWASIBehaviour(t *testing.T) {
	imp := `
	(import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
	(import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
	(import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))
	(import "wasi_snapshot_preview1" "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))`
	// One clock subscription of an hour at 0x9100: poll_oneoff must answer
	// at once. fd_write of two iovecs (3 and 5 bytes) to stderr reports 8.
	// Counters: packets <- poll's errno*1000 + events, bytes <- write's
	// nwritten, http <- path_open's errno.
	after := `
	  (i32.store8 (i32.const 0x9108) (i32.const 0))
	  (i64.store (i32.const 0x9118) (i64.const 3600000000000))
	  (i64.store (i32.const 0x1000) (i64.extend_i32_u (i32.add
	    (i32.mul (call $poll (i32.const 0x9100) (i32.const 0x9200) (i32.const 1) (i32.const 0x9300)) (i32.const 1000))
	    (i32.load (i32.const 0x9300)))))
	  (i32.store (i32.const 0x9400) (i32.const 0)) (i32.store (i32.const 0x9404) (i32.const 3))
	  (i32.store (i32.const 0x9408) (i32.const 0)) (i32.store (i32.const 0x940c) (i32.const 5))
	  (drop (call $write (i32.const 2) (i32.const 0x9400) (i32.const 2) (i32.const 0x9500)))
	  (i64.store (i32.const 0x1008) (i64.extend_i32_u (i32.load (i32.const 0x9500))))
	  (i64.store (i32.const 0x1010) (i64.extend_i32_u (call $open (i32.const 3) (i32.const 0) (i32.const 0) (i32.const 1)
	    (i32.const 0) (i64.const 0) (i64.const 0) (i32.const 0) (i32.const 0x9600))))`
	h := newHost(t, testConfig(nil), Analyzer{Name: "w", Binary: analyzerWAT(t, map[string]string{"{{IMPORTS}}": imp, "{{AFTER}}": after})})
	start := time.Now()
	h.Handle(mkBatch([]uint16{1}, 64))
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("poll_oneoff slept: %v", d)
	}
	if s := statsOf(h, "w"); s.Failures != 0 {
		t.Fatalf("%+v", s)
	}
	for name, want := range map[string]uint64{"packets": 1, "bytes": 8, "http": errnoBadf} {
		if got, _ := counter(h, "w", name); got != want {
			t.Errorf("counter %s = %d, want %d", name, got, want)
		}
	}

	// proc_exit ends the call with a trap that says so.
	var logs logBuffer
	h = newHost(t, testConfig(&logs), Analyzer{Name: "exit", Binary: analyzerWAT(t, map[string]string{
		"{{IMPORTS}}": `(import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))`,
		"{{PROCESS}}": `(call $exit (i32.const 3))`})})
	h.Handle(mkBatch([]uint16{1}, 64))
	if s := statsOf(h, "exit"); s.Traps != 1 || !strings.Contains(logs.String(), "proc_exit(3)") {
		t.Fatalf("%+v\n%s", s, logs.String())
	}
}

// TestBackstop: calls that fuel does not stop in time (fuel set high) are
// stopped by the wall-clock backstop at their next host call or function
// entry, with ErrTimeout naming the module.
func TestBackstop(t *testing.T) {
	for _, tc := range []struct{ name, imp, extra, process string }{
		{name: "host call loop", imp: `(import "wasi_snapshot_preview1" "sched_yield" (func $y (result i32)))`,
			process: `(loop $l (drop (call $y)) (br $l))`},
		{name: "guest call loop", extra: `(func $f (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))`,
			process: `(loop $l (drop (call $f (i32.const 1))) (br $l))`},
		{name: "call-free loop", process: `(loop $l (br $l))`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs logBuffer
			bin := analyzerWAT(t, map[string]string{"{{IMPORTS}}": tc.imp, "{{EXTRA}}": tc.extra, "{{PROCESS}}": tc.process})
			h := newHost(t, testConfig(&logs).WithFuel(1<<60).WithCallTimeout(200*time.Millisecond),
				Analyzer{Name: "slow", Binary: bin}, Analyzer{Name: "good", Binary: analyzerWAT(t, nil)})
			start := time.Now()
			b := mkBatch([]uint16{80}, 64)
			h.Handle(b)
			d := time.Since(start)
			if d < 150*time.Millisecond || d > 3*time.Second {
				t.Errorf("stopped after %v, the limit is 200ms", d)
			}
			s := statsOf(h, "slow")
			if s.Timeouts != 1 || s.Failures != 1 {
				t.Fatalf("%+v\n%s", s, logs.String())
			}
			if !strings.Contains(logs.String(), "wall-clock limit") || !strings.Contains(logs.String(), "analyzer=slow") {
				t.Fatalf("log:\n%s", logs.String())
			}
			if b.Verdicts[0].Action != packet.ActionMatch {
				t.Fatal("the good analyzer's verdict is missing")
			}
		})
	}
}

// TestBackstopUnderCollection: with GOMAXPROCS 2 and the garbage collector
// running all the time, the backstop stops a guest that loops without host
// calls, 100 times in a row, each within its bound. Compiled guest code
// cannot be preempted by the Go runtime: before fuel slices a collection
// that started while the guest ran waited for it, the watcher waited for
// the collection, and the process hung until the call's own fuel (here
// 2^60 units: years) ran out.
func TestBackstopUnderCollection(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	quit := make(chan struct{})
	defer close(quit)
	go func() {
		for {
			select {
			case <-quit:
				return
			default:
				runtime.GC()
			}
		}
	}()
	for _, tc := range []struct{ name, extra, process string }{
		{name: "call-free loop", process: `(loop $l (br $l))`},
		{name: "guest call loop", extra: `(func $f (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))`,
			process: `(loop $l (drop (call $f (i32.const 1))) (br $l))`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs logBuffer
			bin := analyzerWAT(t, map[string]string{"{{EXTRA}}": tc.extra, "{{PROCESS}}": tc.process})
			h := newHost(t, testConfig(&logs).WithFuel(1<<60).WithCallTimeout(20*time.Millisecond).WithFailClosed(false).WithQuarantine(1000, time.Hour),
				Analyzer{Name: "slow", Binary: bin})
			var worst time.Duration
			for i := range 100 {
				start := time.Now()
				h.Handle(mkBatch([]uint16{80}, 8))
				d := time.Since(start)
				worst = max(worst, d)
				if d > 2*time.Second {
					t.Fatalf("call %d stopped after %v, the limit is 20ms", i, d)
				}
			}
			s := statsOf(h, "slow")
			if s.Timeouts != 100 || s.Failures != 100 {
				t.Fatalf("%+v", s)
			}
			t.Logf("%d calls stopped by the backstop, the slowest after %v", s.Timeouts, worst)
		})
	}
}

// TestInterrupt: Interrupt stops a running call after the grace, without
// counting a failure, and later calls are not made.
func TestInterrupt(t *testing.T) {
	var logs logBuffer
	bin := analyzerWAT(t, map[string]string{
		"{{IMPORTS}}": `(import "wasi_snapshot_preview1" "sched_yield" (func $y (result i32)))`,
		"{{PROCESS}}": `(loop $l (drop (call $y)) (br $l))`})
	h := newHost(t, testConfig(&logs).WithFuel(1<<60).WithCallTimeout(time.Hour), Analyzer{Name: "spin", Binary: bin})
	done := make(chan time.Time, 1)
	go func() {
		h.Handle(mkBatch([]uint16{1}, 64))
		done <- time.Now()
	}()
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	h.Interrupt()
	select {
	case end := <-done:
		if d := end.Sub(start); d > time.Second {
			t.Errorf("the call ended %v after Interrupt", d)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the call did not end after Interrupt")
	}
	s := statsOf(h, "spin")
	if s.Interrupted != 1 || s.Failures != 0 || s.Quarantined {
		t.Fatalf("%+v", s)
	}
	// Past the grace, no call is made: the batch gets the policy at once.
	time.Sleep(DefaultStopGrace)
	start = time.Now()
	h.Handle(mkBatch([]uint16{1}, 64))
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("a batch after the grace took %v", d)
	}
	if s := statsOf(h, "spin"); s.Interrupted < 2 || s.PolicyPackets < 2 {
		t.Fatalf("%+v", s)
	}
}

// TestLoadBounded: the whole load is under one deadline (an init that
// loops on host calls), cancelling the context stops it at once, and a
// module over the memory budget is refused before it is compiled.
func TestLoadBounded(t *testing.T) {
	spin := analyzerWAT(t, map[string]string{
		"{{IMPORTS}}": `(import "wasi_snapshot_preview1" "sched_yield" (func $y (result i32)))`,
		"{{INIT}}":    `(loop $l (drop (call $y)) (br $l))`})
	t.Run("deadline", func(t *testing.T) {
		start := time.Now()
		_, err := NewHost(context.Background(), testConfig(nil).WithInitFuel(1<<60).WithLoadTimeout(300*time.Millisecond),
			Analyzer{Name: "spin", Binary: spin})
		if !errors.Is(err, ErrLoadTimeout) || !strings.Contains(err.Error(), `"spin"`) || !strings.Contains(err.Error(), "initialising") {
			t.Fatalf("err = %v", err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("load took %v", d)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(200*time.Millisecond, cancel)
		start := time.Now()
		_, err := NewHost(ctx, testConfig(nil).WithInitFuel(1<<60), Analyzer{Name: "spin", Binary: spin})
		if !errors.Is(err, ErrInterrupted) || !strings.Contains(err.Error(), `"spin"`) {
			t.Fatalf("err = %v", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("load took %v after the cancel", d)
		}
	})
	t.Run("budget", func(t *testing.T) {
		// One table of 1M elements (8 MB, within the shape limits) and a
		// memory of 64 pages (4 MiB), against a budget of 8 MiB.
		bin := compile(t, `(module (memory (export "memory") 64) (table 1000000 funcref))`)
		start := time.Now()
		_, err := NewHost(context.Background(), testConfig(nil).WithLoadMemoryBudget(8<<20), Analyzer{Name: "tables", Binary: bin})
		if !errors.Is(err, ErrBudget) || !strings.Contains(err.Error(), `"tables"`) || !strings.Contains(err.Error(), "in 1000000 elements") ||
			!strings.Contains(err.Error(), "memory 4194304") {
			t.Fatalf("err = %v", err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("refusal took %v", d)
		}
	})
}

// TestLoadFailuresQuarantined: with the option, a module that fails to
// load is quarantined and the others run.
func TestLoadFailuresQuarantined(t *testing.T) {
	var logs logBuffer
	h := newHost(t, testConfig(&logs).WithLoadFailuresQuarantined(true),
		Analyzer{Name: "bad", Binary: []byte("\x00asm\x01\x00\x00\x00\x01\xff")},
		Analyzer{Name: "good", Binary: analyzerWAT(t, nil)})
	b := mkBatch([]uint16{80, 1}, 64)
	h.Handle(b)
	if b.Verdicts[0].Action != packet.ActionMatch {
		t.Fatal("the good analyzer's verdict is missing")
	}
	s := statsOf(h, "bad")
	if !s.Quarantined || !errors.Is(s.LoadError, ErrCompile) || s.QuarantinedPackets != 2 {
		t.Fatalf("%+v", s)
	}
	if !strings.Contains(logs.String(), "analyzer=bad") {
		t.Fatalf("log:\n%s", logs.String())
	}
	// Reload brings it in.
	if err := h.Reload(context.Background(), "bad", analyzerWAT(t, nil), nil); err != nil {
		t.Fatal(err)
	}
	h.Handle(mkBatch([]uint16{80}, 64))
	if got, _ := counter(h, "bad", "packets"); got != 1 {
		t.Fatalf("after reload the analyzer saw %d packets", got)
	}
}

// TestEventCaps: events over the per-call caps are not written and are
// counted as lost.
func TestEventCaps(t *testing.T) {
	// 100 "hit" events per call (26 bytes each, 2.6 KB of the 16 KiB area).
	flood := analyzerWAT(t, map[string]string{"{{AFTER}}": `
	  (local.set $i (i32.const 0))
	  (loop $e (call $event (i32.const 0) (i32.const 7))
	    (local.set $i (i32.add (local.get $i) (i32.const 1)))
	    (br_if $e (i32.lt_u (local.get $i) (i32.const 100))))`})
	for _, tc := range []struct {
		name           string
		events, bytes  int
		wantW, wantOut uint64
	}{
		{"event cap", 10, 1 << 20, 10, 90},
		{"byte cap", 1000, 1000, 0, 0}, // as many whole lines as fit in 1000 bytes: set below
		{"no cap reached", 1000, 1 << 20, 100, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "byte cap" {
				// Every "hit" line has the same length: measure it
				// uncapped, then 1000 bytes hold floor(1000/len) lines.
				var all logBuffer
				h := newHost(t, testConfig(nil).WithEvents(&all), Analyzer{Name: "ev", Binary: flood})
				h.Handle(mkBatch([]uint16{1}, 64))
				first, _, _ := strings.Cut(all.String(), "\n")
				if len(first) == 0 {
					t.Fatal("no event written without caps")
				}
				tc.wantW = uint64(tc.bytes / (len(first) + 1))
				tc.wantOut = 100 - tc.wantW
			}
			var ev logBuffer
			h := newHost(t, testConfig(nil).WithEvents(&ev).WithEventLimits(tc.events, tc.bytes), Analyzer{Name: "ev", Binary: flood})
			h.Handle(mkBatch([]uint16{1}, 64))
			s := statsOf(h, "ev")
			if s.Events != tc.wantW || s.EventsOverCap != tc.wantOut || s.EventsLost != tc.wantOut || s.Failures != 0 {
				t.Fatalf("%+v", s)
			}
			if n := strings.Count(ev.String(), "\n"); uint64(n) != tc.wantW || len(ev.String()) > tc.bytes {
				t.Fatalf("%d lines, %d bytes written", n, len(ev.String()))
			}
		})
	}
}

// TestCacheRepair: a damaged compilation cache entry is deleted, named in
// a warning, and the module compiled again.
func TestCacheRepair(t *testing.T) {
	dir := t.TempDir()
	bin := analyzerWAT(t, nil)
	h, err := NewHost(context.Background(), testConfig(nil).WithCompilationCacheDir(dir), Analyzer{Name: "good", Binary: bin})
	if err != nil {
		t.Fatal(err)
	}
	h.Close(context.Background())
	var entries []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			entries = append(entries, p)
		}
		return nil
	})
	if len(entries) == 0 {
		t.Fatal("nothing cached")
	}
	for _, p := range entries {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		b[len(b)/2] ^= 0xff // in the native code: the checksum no longer matches
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if !cacheEntryDamaged(p) {
			t.Fatalf("%s: damage not detected", p)
		}
	}
	var logs logBuffer
	h = newHost(t, testConfig(&logs).WithCompilationCacheDir(dir), Analyzer{Name: "good", Binary: bin})
	b := mkBatch([]uint16{80}, 64)
	h.Handle(b)
	if b.Verdicts[0].Action != packet.ActionMatch {
		t.Fatal("the recompiled module does not work")
	}
	out := logs.String()
	for _, p := range entries {
		if !strings.Contains(out, p) {
			t.Fatalf("warning does not name %s:\n%s", p, out)
		}
		if _, err := os.Stat(p); err == nil && cacheEntryDamaged(p) {
			t.Fatalf("%s still damaged", p)
		}
	}
}

// TestConfigExplicit: the zero Config is refused rather than silently
// replaced, and a nil logger discards.
func TestConfigExplicit(t *testing.T) {
	if _, err := NewHost(context.Background(), Config{}, Analyzer{Name: "a", Binary: analyzerWAT(t, nil)}); !errors.Is(err, ErrConfig) {
		t.Fatalf("zero Config: %v", err)
	}
	h := newHost(t, NewConfig().WithLogger(nil).WithSinks("pcap", "mirror"),
		Analyzer{Name: "trap", Binary: analyzerWAT(t, map[string]string{"{{PROCESS}}": "unreachable"})})
	h.Handle(mkBatch([]uint16{1}, 64)) // logs a failure to the discarding logger
	if s := statsOf(h, "trap"); s.Traps != 1 {
		t.Fatalf("%+v", s)
	}
}

// TestHandleAllocs: the hot path (a batch through a worker, the backstop's
// bookkeeping included) allocates nothing.
func TestHandleAllocs(t *testing.T) {
	h := newHost(t, testConfig(nil), Analyzer{Name: "good", Binary: analyzerWAT(t, nil)})
	w := h.NewWorker()
	b := mkBatch([]uint16{80, 53, 1, 2, 3, 4, 5, 6}, 64)
	w.Handle(b)
	if n := testing.AllocsPerRun(100, func() {
		clear(b.Verdicts)
		w.Handle(b)
	}); n != 0 {
		t.Fatalf("%v allocations per batch", n)
	}
}
