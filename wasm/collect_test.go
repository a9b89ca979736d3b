package wasm

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A garbage collection must complete while a hostile guest runs, whatever
// the shape of its loop: compiled guest code has no safe point of the Go
// runtime, and a collection that waits on it stops every goroutine of the
// process (see guestthread.go). Each shape runs in a child process (this
// test binary again, TestCollectionShapeChild), with the collector running
// in a loop beside it: a stalled collection stalls every goroutine of the
// process, the timers of a deadline included, so only another process can
// tell a stall from a slow run. The parent gives each child a minute, then
// asks it for its goroutines (SIGQUIT) and fails with them.

// collectShapes are the loops a guest can spin in, each with a fuel budget
// (1<<60 units) that only the backstop can cut short.
var collectShapes = []struct {
	name   string
	repl   map[string]string
	interp bool // on wazero's interpreter (Go code, preempted by signal)
}{
	{name: "call-free loop", repl: map[string]string{"{{PROCESS}}": `(loop $l (br $l))`}},
	{name: "guest call loop", repl: map[string]string{
		"{{EXTRA}}":   `(func $f (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))`,
		"{{PROCESS}}": `(loop $l (drop (call $f (i32.const 1))) (br $l))`}},
	{name: "indirect call loop", repl: map[string]string{
		"{{EXTRA}}": `(type $t (func (param i32) (result i32)))
  (table 1 funcref) (elem (i32.const 0) $f)
  (func $f (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))`,
		"{{PROCESS}}": `(loop $l (drop (call_indirect (type $t) (i32.const 1) (i32.const 0))) (br $l))`}},
	{name: "br_table loop", repl: map[string]string{"{{PROCESS}}": `(loop $l (br_table $l $l (i32.const 1)))`}},
	{name: "host call loop", repl: map[string]string{
		"{{IMPORTS}}": `(import "wasi_snapshot_preview1" "sched_yield" (func $y (result i32)))`,
		"{{PROCESS}}": `(loop $l (drop (call $y)) (br $l))`}},
	{name: "guest call loop, interpreted", interp: true, repl: map[string]string{
		"{{EXTRA}}":   `(func $f (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))`,
		"{{PROCESS}}": `(loop $l (drop (call $f (i32.const 1))) (br $l))`}},
	// One memory.fill of 20 MiB or more (the memory grows to 320 pages or
	// more) costs 1.3M units or more, above a fuel slice (2^20): the loop
	// body runs a whole slice and more without a yield.
	{name: "body above a slice", repl: map[string]string{"{{PROCESS}}": `
    (if (i32.lt_u (memory.size) (i32.const 320))
      (then (if (i32.eq (memory.grow (i32.const 303)) (i32.const -1)) (then unreachable))))
    (loop $l
      (memory.fill (i32.const 0x40000) (i32.const 0)
        (i32.sub (i32.mul (memory.size) (i32.const 0x10000)) (i32.const 0x40000)))
      (br $l))`}},
}

// collectCalls is how many calls each child makes (each stopped by the
// backstop after 20ms); WRING_COLLECT_CALLS sets another number for longer
// stress runs.
func collectCalls() int {
	if n, err := strconv.Atoi(os.Getenv("WRING_COLLECT_CALLS")); err == nil && n > 0 {
		return n
	}
	return 30
}

func TestCollectionWhileGuestRuns(t *testing.T) {
	if os.Getenv("WRING_COLLECT_SHAPE") != "" {
		t.Skip("in a child")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, sh := range collectShapes {
		t.Run(sh.name, func(t *testing.T) {
			if sh.interp && raceEnabled {
				// The backstop writes the reserve global while wazero's
				// interpreter reads it in Go: the race detector reports
				// that (a plain 8-byte access on the platforms wring runs
				// on; the compiled engine's reads are not Go code).
				t.Skip("the interpreter reads globals the backstop writes: a data race under -race")
			}
			var out bytes.Buffer
			cmd := exec.Command(exe, "-test.run=^TestCollectionShapeChild$", "-test.count=1", "-test.v", "-test.timeout=0")
			cmd.Env = append(os.Environ(), "WRING_COLLECT_SHAPE="+sh.name)
			cmd.Stdout, cmd.Stderr = &out, &out
			start := time.Now()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("the child failed after %v: %v\n%s", time.Since(start).Round(time.Millisecond), err, tail(out.String(), 4000))
				}
				t.Logf("%s", lineWith(out.String(), "collections"))
			case <-time.After(time.Minute):
				cmd.Process.Signal(syscall.SIGQUIT) // its goroutines, then it exits
				select {
				case <-done:
				case <-time.After(10 * time.Second):
					cmd.Process.Kill()
					<-done
				}
				t.Fatalf("the child did not finish within a minute (a collection waiting on the guest?):\n%s", tail(out.String(), 16000))
			}
		})
	}
}

// TestCollectionShapeChild is the child of TestCollectionWhileGuestRuns: it
// runs only with WRING_COLLECT_SHAPE set.
func TestCollectionShapeChild(t *testing.T) {
	name := os.Getenv("WRING_COLLECT_SHAPE")
	if name == "" {
		t.Skip("runs as a child of TestCollectionWhileGuestRuns")
	}
	var repl map[string]string
	var interp bool
	for _, sh := range collectShapes {
		if sh.name == name {
			repl, interp = sh.repl, sh.interp
		}
	}
	if repl == nil {
		t.Fatalf("no shape %q", name)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	var logs logBuffer
	h := newHost(t, testConfig(&logs).WithFuel(1<<60).WithCallTimeout(20*time.Millisecond).
		WithFailClosed(false).WithQuarantine(1000, time.Hour).WithInterpreter(interp),
		Analyzer{Name: "spin", Binary: analyzerWAT(t, repl)})

	ctx, cancel := context.WithCancel(context.Background())
	gcs := make(chan int, 1)
	go func() {
		n := 0
		for ctx.Err() == nil {
			runtime.GC()
			n++
		}
		gcs <- n
	}()
	var worst time.Duration
	start := time.Now()
	calls := collectCalls()
	for i := range calls {
		s := time.Now()
		h.Handle(mkBatch([]uint16{80}, 8))
		worst = max(worst, time.Since(s))
		if worst > 5*time.Second {
			cancel()
			t.Fatalf("call %d took %v; the limit is 20ms", i, worst)
		}
	}
	cancel()
	n := <-gcs
	st := statsOf(h, "spin")
	if st.Timeouts != uint64(calls) {
		t.Fatalf("%d of %d calls stopped by the backstop: %+v\n%s", st.Timeouts, calls, st, logs.String())
	}
	if n == 0 {
		t.Fatal("no collection completed while the guest ran")
	}
	fmt.Printf("%d calls in %v, the slowest %v; %d collections\n", calls,
		time.Since(start).Round(time.Millisecond), worst.Round(time.Millisecond), n)
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

func lineWith(s, word string) string {
	for l := range strings.Lines(s) {
		if strings.Contains(l, word) {
			return strings.TrimSpace(l)
		}
	}
	return "(no summary line)"
}
