//go:build linux

package hostile

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSignals: SIGINT and SIGTERM stop `wring read` within a second, with a
// valid -w file and the summary, both while a hostile analyzer loops on
// host calls and while analyzers are still loading (issue 11, acceptance
// 2).
func TestSignals(t *testing.T) {
	e := setup(t)
	dir := t.TempDir()
	// 450,000 sched_yield calls a batch: about 47M of the 50M fuel units, so
	// every call succeeds and the run lasts minutes.
	busy := watModule(t, dir, "busy", map[string]string{
		"{{IMPORTS}}": `(import "wasi_snapshot_preview1" "sched_yield" (func $y (result i32)))`,
		"{{PROCESS}}": `(local.set $i (i32.const 0))
		  (loop $l (drop (call $y)) (local.set $i (i32.add (local.get $i) (i32.const 1)))
		    (br_if $l (i32.lt_u (local.get $i) (i32.const 450000))))
		  (local.set $i (i32.const 0))`})
	// An init that loops on host calls until its 2e9 units run out.
	slow := watModule(t, dir, "slowinit", map[string]string{
		"{{IMPORTS}}": `(import "wasi_snapshot_preview1" "sched_yield" (func $y (result i32)))`,
		"{{INIT}}":    `(loop $l (drop (call $y)) (br $l))`})
	for _, tc := range []struct {
		name    string
		args    []string
		running bool          // wait for packets in the -w file
		after   time.Duration // then wait this long
		want    []string      // in stderr besides the summary
	}{
		{"host-call loop", []string{"--analyzer", benign, "--analyzer", busy}, true, 500 * time.Millisecond, []string{"while reading packets"}},
		{"loading", []string{"--analyzer", slow, "--analyzer", benign}, false, 300 * time.Millisecond, []string{"while loading analyzers"}},
	} {
		for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
			t.Run(tc.name+"/"+sig.String(), func(t *testing.T) {
				var sent time.Time
				var signalled bool
				r := e.runWith(context.Background(), tc.args, 5*time.Minute, func(cmd *exec.Cmd, lines <-chan string) {
					for l := range lines {
						if strings.HasPrefix(l, "reading from file") {
							break
						}
					}
					out := flagValue(cmd.Args, "-w")
					for tc.running {
						if st, err := os.Stat(out); err == nil && st.Size() > 24 {
							break
						}
						time.Sleep(20 * time.Millisecond)
					}
					time.Sleep(tc.after)
					sent = time.Now()
					signalled = cmd.Process.Signal(sig) == nil
				})
				if !signalled {
					t.Fatal("the signal was not sent: the process had ended")
				}
				if r.err != nil {
					t.Fatalf("%v\n%s", r.err, r.stderr)
				}
				after := r.exited.Sub(sent)
				t.Logf("%v: exited %v after the signal, status %d", sig, after.Round(time.Millisecond), r.code)
				if after > time.Second {
					t.Errorf("exited %v after %v", after, sig)
				}
				if !strings.Contains(r.stderr, "packets captured") {
					t.Errorf("no summary:\n%s", tail(r.stderr, 20))
				}
				if !containsAny(r.stderr, tc.want) {
					t.Errorf("stderr does not say %q:\n%s", tc.want, tail(r.stderr, 20))
				}
				if _, err := validPcap(r.out); err != nil {
					st, _ := os.Stat(r.out)
					t.Errorf("-w file invalid: %v (%v)", err, st)
				}
			})
		}
	}
}

// flagValue is the argument after flag in args.
func flagValue(args []string, flag string) string {
	for i, a := range args[:len(args)-1] {
		if a == flag {
			return args[i+1]
		}
	}
	return ""
}
