//go:build linux

package hostile

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/internal/trafficgen"
)

// Bounds the suite holds every attack to (issue 11, acceptance 1).
const (
	packets     = 100_000
	slack       = 10 * time.Second // past each attack's own bound
	rssAbove    = 512 << 20        // peak RSS above the run without analyzers
	loadTimeout = 60 * time.Second // wasm.DefaultLoadTimeout
	callTimeout = time.Second      // wasm.DefaultCallTimeout
	quarantine  = 5                // wasm.DefaultQuarantineAfter
	benign      = "dns"            // the well-behaved analyzer beside each attack
)

// env is what every test of the suite shares: the binary, the capture, a
// compilation cache, and the reference runs.
type env struct {
	dir, bin, capture, cache string
	baseRSS                  int64         // peak RSS of a run without analyzers
	benignTime               time.Duration // a run with the benign analyzer alone
}

var (
	envOnce sync.Once
	shared  *env
	envErr  error
	envDir  string // removed by TestMain: the runs' outputs are about 2.4 GB
)

// TestMain removes the shared directory of wring's runs, which the tests'
// own cleanups cannot (it outlives every test).
func TestMain(m *testing.M) {
	code := m.Run()
	if envDir != "" {
		os.RemoveAll(envDir)
	}
	os.Exit(code)
}

func setup(t *testing.T) *env {
	t.Helper()
	if _, err := exec.LookPath("wat2wasm"); err != nil {
		corpus.Unavailable(t, "wat2wasm (wabt) is not installed")
	}
	if _, err := os.Stat("/usr/bin/time"); err != nil {
		corpus.Unavailable(t, "GNU time (/usr/bin/time, Debian package time) is not installed")
	}
	envOnce.Do(func() {
		dir, err := os.MkdirTemp("", "wring-hostile-hA-")
		if err != nil {
			envErr = err
			return
		}
		envDir = dir
		e := &env{dir: dir, bin: filepath.Join(dir, "wring"), capture: filepath.Join(dir, "mixed.pcap"), cache: filepath.Join(dir, "cache")}
		if out, err := exec.Command("go", "build", "-o", e.bin, "../../cmd/wring").CombinedOutput(); err != nil {
			envErr = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		f, err := os.Create(e.capture)
		if err != nil {
			envErr = err
			return
		}
		if err := trafficgen.Generate(f, trafficgen.Config{Seed: 11, Count: packets}); err != nil {
			envErr = err
			return
		}
		if err := f.Close(); err != nil {
			envErr = err
			return
		}
		base := e.run(context.Background(), nil, time.Minute)
		if base.err != nil || base.code != 0 {
			envErr = fmt.Errorf("run without analyzers: code %d, %v\n%s", base.code, base.err, base.stderr)
			return
		}
		e.baseRSS = base.rss
		// Twice: the first run fills the compilation cache.
		for i := 0; i < 2; i++ {
			r := e.run(context.Background(), []string{"--analyzer", benign}, 5*time.Minute)
			if r.err != nil || r.code != 0 || r.events[benign] == 0 {
				envErr = fmt.Errorf("run with %s alone: code %d, %v, events %v\n%s", benign, r.code, r.err, r.events, r.stderr)
				return
			}
			e.benignTime = r.wall
		}
		shared = e
	})
	if envErr != nil {
		t.Fatal(envErr)
	}
	return shared
}

// result is one run of wring.
type result struct {
	wall   time.Duration
	rss    int64 // peak resident set, bytes
	code   int
	stderr string
	events map[string]int // events per analyzer
	out    string         // the -w file
	exited time.Time      // when the process was seen to end
	err    error          // killed at the deadline, or could not start
}

// run runs `wring read` over the capture with extra arguments, killing it
// after limit.
func (e *env) run(ctx context.Context, args []string, limit time.Duration) result {
	return e.runWith(ctx, args, limit, nil)
}

// runWith also calls during(cmd, stderr lines) once the process started.
func (e *env) runWith(ctx context.Context, args []string, limit time.Duration, during func(*exec.Cmd, <-chan string)) result {
	tmp, err := os.MkdirTemp(e.dir, "run")
	if err != nil {
		return result{err: err}
	}
	out := filepath.Join(tmp, "out.pcap")
	events := filepath.Join(tmp, "events.json")
	full := []string{"read", "-r", e.capture, "-w", out}
	if slices.Contains(args, "--analyzer") {
		// --events without an analyzer is a usage error.
		full = append(full, "--events", events)
	}
	full = append(full, args...)
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	// Peak RSS through GNU time's wait4: a child of this (large) test
	// process would inherit its high-water mark, a grandchild forked by
	// time inherits time's. Runs that are signalled go without it (time
	// does not pass signals on).
	rssFile := filepath.Join(tmp, "rss")
	var cmd *exec.Cmd
	if during == nil {
		cmd = exec.CommandContext(ctx, "/usr/bin/time", append([]string{"-f", "%M", "-o", rssFile, e.bin}, full...)...)
	} else {
		cmd = exec.CommandContext(ctx, e.bin, full...)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+e.cache, "HOME="+e.dir)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return result{err: err}
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return result{err: err}
	}
	var buf bytes.Buffer
	lines := make(chan string, 1024)
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		defer close(lines)
		sc := bufio.NewScanner(io.TeeReader(stderr, &buf))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	if during != nil {
		during(cmd, lines)
	}
	<-copied
	werr := cmd.Wait()
	r := result{wall: time.Since(start), exited: time.Now(), stderr: buf.String(), out: out, code: cmd.ProcessState.ExitCode()}
	if b, err := os.ReadFile(rssFile); err == nil {
		// time writes "Command exited with non-zero status N" first when
		// it does.
		f := strings.Fields(string(b))
		if len(f) > 0 {
			var kib int64
			fmt.Sscan(f[len(f)-1], &kib)
			r.rss = kib << 10
		}
	} else if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.rss = ru.Maxrss << 10
	}
	if ctx.Err() != nil {
		r.err = fmt.Errorf("killed after %v: %w", limit, ctx.Err())
	} else if werr != nil && r.code < 0 {
		r.err = werr
	}
	r.events = countEvents(events)
	return r
}

var analyzerField = regexp.MustCompile(`"analyzer":"([^"]+)"`)

func countEvents(path string) map[string]int {
	m := map[string]int{}
	f, err := os.Open(path)
	if err != nil {
		return m
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if s := analyzerField.FindSubmatch(sc.Bytes()); s != nil {
			m[string(s[1])]++
		}
	}
	return m
}

// validPcap checks that the -w file is a capture file that reads to its end.
func validPcap(path string) (int, error) {
	c, err := corpus.ReadCapture(path)
	if err != nil {
		return 0, err
	}
	return len(c.Packets), nil
}

// attack is one hostile module and what its run must show.
type attack struct {
	name  string
	build func(t *testing.T, dir string) string // returns the .wasm path
	bound time.Duration                         // the limit that stops it, beyond a benign run
	want  []string                              // the error names one of these limits
	// ref, when set, is a well-behaved module doing what the limit allows
	// (events at the caps): its run replaces the benign run as the base of
	// the bound.
	ref func(t *testing.T, dir string) string
}

func wat(repl map[string]string) func(*testing.T, string) string {
	return func(t *testing.T, dir string) string {
		return watModule(t, dir, strings.ReplaceAll(t.Name()[strings.LastIndexByte(t.Name(), '/')+1:], " ", "_"), repl)
	}
}

func bin(b func() []byte) func(*testing.T, string) string {
	return func(t *testing.T, dir string) string {
		return binModule(t, dir, strings.ReplaceAll(t.Name()[strings.LastIndexByte(t.Name(), '/')+1:], " ", "_"), b())
	}
}

// runTime is the bound of an attack stopped at run time: the quarantine,
// after at most quarantine calls cut by the backstop.
const runTime = quarantine * callTimeout

var (
	fuelLimit = []string{"fuel exhausted"}
	anyStop   = []string{"fuel exhausted", "wall-clock limit"}
	loadLimit = []string{"load memory budget", "load timeout", "limit", "too many", "exceeds", "larger than", "over"}
)

// wasiFuncs are the functions of wasi_snapshot_preview1 with their
// parameter types ('i' i32, 'I' i64) and whether they return an errno.
var wasiFuncs = []struct {
	name, params string
	result       bool
}{
	{"args_get", "ii", true}, {"args_sizes_get", "ii", true}, {"environ_get", "ii", true},
	{"environ_sizes_get", "ii", true}, {"clock_res_get", "ii", true}, {"clock_time_get", "iIi", true},
	{"fd_advise", "iIIi", true}, {"fd_allocate", "iII", true}, {"fd_close", "i", true}, {"fd_datasync", "i", true},
	{"fd_fdstat_get", "ii", true}, {"fd_fdstat_set_flags", "ii", true}, {"fd_fdstat_set_rights", "iII", true},
	{"fd_filestat_get", "ii", true}, {"fd_filestat_set_size", "iI", true}, {"fd_filestat_set_times", "iIIi", true},
	{"fd_pread", "iiiIi", true}, {"fd_prestat_get", "ii", true}, {"fd_prestat_dir_name", "iii", true},
	{"fd_pwrite", "iiiIi", true}, {"fd_read", "iiii", true}, {"fd_readdir", "iiiIi", true}, {"fd_renumber", "ii", true},
	{"fd_seek", "iIii", true}, {"fd_sync", "i", true}, {"fd_tell", "ii", true}, {"fd_write", "iiii", true},
	{"path_create_directory", "iii", true}, {"path_filestat_get", "iiiii", true},
	{"path_filestat_set_times", "iiiiIIi", true}, {"path_link", "iiiiiii", true}, {"path_open", "iiiiiIIii", true},
	{"path_readlink", "iiiiii", true}, {"path_remove_directory", "iii", true}, {"path_rename", "iiiiii", true},
	{"path_symlink", "iiiii", true}, {"path_unlink_file", "iii", true}, {"poll_oneoff", "iiii", true},
	{"proc_raise", "i", true}, {"random_get", "ii", true}, {"sched_yield", "", true},
	{"sock_accept", "iii", true}, {"sock_recv", "iiiiii", true}, {"sock_send", "iiiii", true}, {"sock_shutdown", "ii", true},
}

// floodOf loops on one WASI function with small arguments (pointers and
// counts 1).
func floodOf(name, params string, result bool) map[string]string {
	var sig, args strings.Builder
	for _, p := range params {
		if p == 'I' {
			sig.WriteString(" i64")
			args.WriteString(" (i64.const 1)")
		} else {
			sig.WriteString(" i32")
			args.WriteString(" (i32.const 1)")
		}
	}
	ps := ""
	if sig.Len() > 0 {
		ps = "(param" + sig.String() + ")"
	}
	call := fmt.Sprintf("(call $f%s)", args.String())
	res := ""
	if result {
		res = "(result i32)"
		call = "(drop " + call + ")"
	}
	return map[string]string{
		"{{IMPORTS}}": fmt.Sprintf(`(import "wasi_snapshot_preview1" %q (func $f %s %s))`, name, ps, res),
		"{{PROCESS}}": "(loop $l " + call + " (br $l))",
	}
}

func attacks() []attack {
	var as []attack
	// Host-call floods: every WASI function, every wring import the CLI
	// grants (wring.rules needs a capability it does not grant: see the
	// capability attack).
	for _, f := range wasiFuncs {
		as = append(as, attack{name: "flood " + f.name, build: wat(floodOf(f.name, f.params, f.result)), bound: runTime, want: fuelLimit})
	}
	as = append(as,
		attack{name: "flood wring.log", build: wat(map[string]string{
			"{{IMPORTS}}": `(import "wring" "log" (func $log (param i32 i32 i32)))`,
			"{{PROCESS}}": `(loop $l (call $log (i32.const 3) (i32.const 0x500) (i32.const 1024)) (br $l))`}),
			bound: runTime, want: fuelLimit},
		attack{name: "wring.rules without the grant", build: wat(map[string]string{
			"{{IMPORTS}}": `(import "wring" "rules" (func $r (param i32 i32) (result i32)))`,
			"{{PROCESS}}": `(loop $l (drop (call $r (i32.const 0) (i32.const 0x10000))) (br $l))`}),
			bound: 0, want: []string{"rules capability"}},
		attack{name: "random_get 60 MiB", build: wat(map[string]string{
			"{{MEMORY}}":  `(memory (export "memory") 1024)`,
			"{{IMPORTS}}": `(import "wasi_snapshot_preview1" "random_get" (func $r (param i32 i32) (result i32)))`,
			"{{PROCESS}}": `(loop $l (drop (call $r (i32.const 0) (i32.const 62914560))) (br $l))`}),
			bound: runTime, want: []string{"random_get needs"}},
		attack{name: "fd_write 7M iovecs", build: wat(map[string]string{
			"{{MEMORY}}":  `(memory (export "memory") 1024)`,
			"{{IMPORTS}}": `(import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))`,
			"{{PROCESS}}": `(loop $l (drop (call $w (i32.const 1) (i32.const 0x100000) (i32.const 7000000) (i32.const 0x8ff0))) (br $l))`}),
			bound: runTime, want: fuelLimit},
		attack{name: "fd_write 1024 iovecs", build: wat(map[string]string{
			"{{IMPORTS}}": `(import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))`,
			"{{PROCESS}}": `(loop $l (drop (call $w (i32.const 2) (i32.const 0x9000) (i32.const 1024) (i32.const 0x8ff0))) (br $l))`}),
			bound: runTime, want: []string{"fd_write needs"}},
		attack{name: "poll_oneoff sleeping an hour", build: wat(map[string]string{
			"{{IMPORTS}}": `(import "wasi_snapshot_preview1" "poll_oneoff" (func $p (param i32 i32 i32 i32) (result i32)))`,
			"{{PROCESS}}": `(i64.store (i32.const 0x9118) (i64.const 3600000000000))
			  (loop $l (drop (call $p (i32.const 0x9100) (i32.const 0x9200) (i32.const 1) (i32.const 0x9300))) (br $l))`}),
			bound: runTime, want: fuelLimit},
		attack{name: "infinite loop", build: wat(map[string]string{"{{PROCESS}}": `(loop $l (br $l))`}), bound: runTime, want: fuelLimit},
		attack{name: "guest call loop", build: wat(map[string]string{
			"{{EXTRA}}":   `(func $g (result i32) (i32.const 1))`,
			"{{PROCESS}}": `(loop $l (drop (call $g)) (br $l))`}), bound: runTime, want: fuelLimit},
		attack{name: "deep recursion", build: wat(map[string]string{
			"{{EXTRA}}":   `(func $d (param i32) (result i32) (call $d (i32.add (local.get 0) (i32.const 1))))`,
			"{{PROCESS}}": `(drop (call $d (i32.const 0)))`}), bound: runTime, want: append(anyStop, "stack overflow")},
		attack{name: "memory.grow bomb", build: wat(map[string]string{
			"{{PROCESS}}": `(loop $l (drop (memory.grow (i32.const 1))) (br $l))`}), bound: runTime, want: fuelLimit},
		attack{name: "memory.fill whole memory loop", build: wat(map[string]string{
			"{{INIT}}":    `(drop (memory.grow (i32.sub (i32.const 1024) (memory.size))))`,
			"{{PROCESS}}": `(loop $l (memory.fill (i32.const 0) (i32.const 0) (i32.mul (memory.size) (i32.const 65536))) (br $l))`}),
			bound: runTime, want: anyStop},
		attack{name: "memory.copy whole memory loop", build: wat(map[string]string{
			"{{INIT}}":    `(drop (memory.grow (i32.sub (i32.const 1024) (memory.size))))`,
			"{{PROCESS}}": `(loop $l (memory.copy (i32.const 0) (i32.const 1) (i32.sub (i32.mul (memory.size) (i32.const 65536)) (i32.const 1))) (br $l))`}),
			bound: runTime, want: anyStop},
		attack{name: "events flood", build: wat(map[string]string{
			"{{MEMORY}}": `(memory (export "memory") 256)`,
			// A 1 MiB event area (the most the host takes) at 0x100000,
			// filled once in init with 10-byte events (104,856 of them);
			// every call then only declares it full, so the guest pays
			// almost nothing for what the host reads.
			"{{INIT}}": `(i32.store (i32.const 0x42c) (i32.const 0x100000)) (i32.store (i32.const 0x430) (i32.const 0x100000))
			  (local.set $cfg (i32.const 0))
			  (block $full (loop $e
			    (br_if $full (i32.gt_u (i32.add (local.get $cfg) (i32.const 10)) (i32.const 0xffff8)))
			    (local.set $len (i32.add (i32.const 0x100008) (local.get $cfg)))
			    (i32.store16 (local.get $len) (i32.const 10))
			    (i32.store16 offset=2 (local.get $len) (i32.const 0))
			    (i32.store offset=4 (local.get $len) (i32.const -1))
			    (i32.store8 offset=8 (local.get $len) (i32.const 1))
			    (i32.store8 offset=9 (local.get $len) (i32.const 0x78))
			    (local.set $cfg (i32.add (local.get $cfg) (i32.const 10)))
			    (br $e)))
			  (i32.store (i32.const 0x600000) (local.get $cfg))`,
			"{{AFTER}}": `(i32.store (i32.const 0x100000) (i32.load (i32.const 0x600000)))`}),
			bound: 0, want: []string{"events lost"}, ref: wat(map[string]string{
				// Exactly the per-call cap: 1024 10-byte events a call.
				"{{AFTER}}": `(local.set $i (i32.const 0))
				  (loop $e
				    (local.set $d (i32.add (i32.const 0x3008) (i32.mul (local.get $i) (i32.const 10))))
				    (i32.store16 (local.get $d) (i32.const 10))
				    (i32.store16 offset=2 (local.get $d) (i32.const 0))
				    (i32.store offset=4 (local.get $d) (i32.const -1))
				    (i32.store8 offset=8 (local.get $d) (i32.const 1))
				    (i32.store8 offset=9 (local.get $d) (i32.const 0x78))
				    (local.set $i (i32.add (local.get $i) (i32.const 1)))
				    (br_if $e (i32.lt_u (local.get $i) (i32.const 1024))))
				  (i32.store (i32.const 0x3000) (i32.const 10240))`})},
		attack{name: "tick flood", build: wat(map[string]string{
			"{{INIT}}": `(i32.store (i32.const 0x43c) (i32.const 1))`,
			"{{EXTRA}}": `(func (export "wring_tick") (param i64 i32) (result i32) (local $i i32)
			  (block $full (loop $e
			    (br_if $full (i32.gt_u (i32.add (local.get $i) (i32.const 10)) (i32.const 0x3ff0)))
			    (i32.store16 (i32.add (i32.const 0x3008) (local.get $i)) (i32.const 10))
			    (i32.store16 offset=2 (i32.add (i32.const 0x3008) (local.get $i)) (i32.const 0))
			    (i32.store offset=4 (i32.add (i32.const 0x3008) (local.get $i)) (i32.const -1))
			    (i32.store8 offset=8 (i32.add (i32.const 0x3008) (local.get $i)) (i32.const 1))
			    (i32.store8 offset=9 (i32.add (i32.const 0x3008) (local.get $i)) (i32.const 0x78))
			    (local.set $i (i32.add (local.get $i) (i32.const 10)))
			    (br $e)))
			  (i32.store (i32.const 0x3000) (local.get $i))
			  (i32.const 1))`}),
			bound: 0, want: nil},
		attack{name: "trap every call", build: wat(map[string]string{"{{PROCESS}}": `unreachable`}), bound: 0, want: []string{"unreachable", "quarantined"}},
		// Load time.
		attack{name: "1000 tables of 10M", build: bin(func() []byte { return module(nil, tables(1000, 10_000_000), nil) }), bound: 0, want: loadLimit},
		attack{name: "100k tables of 10M", build: bin(func() []byte { return module(nil, tables(100_000, 10_000_000), nil) }), bound: 0, want: loadLimit},
		attack{name: "1000 imported tables of 10M", build: bin(func() []byte {
			return withImports(module(nil, nil, nil), importedTables(1000, 10_000_000))
		}), bound: 0, want: loadLimit},
		attack{name: "element segment of 4M", build: bin(func() []byte {
			return module([][]byte{{0, 0x0b}}, tables(1, 4_000_000), elemSegment(4_000_000))
		}), bound: loadTimeout, want: append(loadLimit, "missing")},
		attack{name: "table.grow 0x7fffffff in init", build: wat(map[string]string{
			"{{EXTRA}}": `(table $t 0 funcref)`,
			"{{INIT}}":  `(drop (table.grow $t (ref.null func) (i32.const 0x7fffffff)))`}),
			// The rewrite caps table.grow (it returns -1): the module
			// loads and works, without the 16 GB the grow asked for.
			bound: loadTimeout, want: []string{": 100000 packets"}},
		attack{name: "table.grow loop", build: wat(map[string]string{
			"{{EXTRA}}":   `(table $t 0 funcref)`,
			"{{PROCESS}}": `(loop $l (drop (table.grow $t (ref.null func) (i32.const 1000000))) (br $l))`}), bound: runTime, want: append(anyStop, loadLimit...)},
		attack{name: "100k nested loops", build: bin(func() []byte { return module([][]byte{nested(0x03, 100_000)}, nil, nil) }),
			bound: loadTimeout, want: append(loadLimit, "missing")},
		attack{name: "1M nested blocks", build: bin(func() []byte { return module([][]byte{nested(0x02, 1_000_000)}, nil, nil) }),
			bound: loadTimeout, want: append(loadLimit, "missing")},
		attack{name: "deep br_table", build: bin(func() []byte { return module([][]byte{brTable(10_000, 1_000_000)}, nil, nil) }),
			bound: loadTimeout, want: append(loadLimit, "missing")},
		attack{name: "huge function body", build: bin(func() []byte { return module([][]byte{hugeBody(2_500_000)}, nil, nil) }),
			bound: loadTimeout, want: append(loadLimit, "missing")},
		attack{name: "module over the size cap", build: bin(func() []byte { return module([][]byte{hugeBody(3_000_000)}, nil, nil) }),
			bound: 0, want: []string{"larger than the size cap"}},
		attack{name: "slow init on host calls", build: wat(map[string]string{
			"{{IMPORTS}}": `(import "wasi_snapshot_preview1" "sched_yield" (func $y (result i32)))`,
			"{{INIT}}":    `(loop $l (drop (call $y)) (br $l))`}), bound: loadTimeout, want: []string{"fuel exhausted", "load timeout"}},
	)
	return as
}

// TestHostileModules runs every attack beside the benign analyzer and
// prints a table of attack, time, RSS and outcome.
func TestHostileModules(t *testing.T) {
	e := setup(t)
	type row struct {
		name, outcome string
		wall          time.Duration
		rss           int64
		ok            bool
	}
	var rows []row
	t.Cleanup(func() {
		var b strings.Builder
		fmt.Fprintf(&b, "\n%d packets; without analyzers peak RSS %d MiB; %s alone %v\n", packets, e.baseRSS>>20, benign, e.benignTime.Round(time.Millisecond))
		fmt.Fprintf(&b, "| attack | time | peak RSS above no-analyzer run | outcome |\n|---|---|---|---|\n")
		for _, r := range rows {
			mark := ""
			if !r.ok {
				mark = "FAIL: "
			}
			fmt.Fprintf(&b, "| %s | %.2f s | %d MiB | %s%s |\n", r.name, r.wall.Seconds(), (r.rss-e.baseRSS)>>20, mark, r.outcome)
		}
		t.Log(b.String())
	})
	for _, a := range attacks() {
		t.Run(a.name, func(t *testing.T) {
			dir := t.TempDir()
			path := a.build(t, dir)
			mod := strings.TrimSuffix(filepath.Base(path), ".wasm")
			base := e.benignTime
			if a.ref != nil {
				refDir := filepath.Join(dir, "ref")
				if err := os.Mkdir(refDir, 0o755); err != nil {
					t.Fatal(err)
				}
				rr := e.run(context.Background(), []string{"--analyzer", a.ref(t, refDir), "--analyzer", benign}, 5*time.Minute)
				if rr.err != nil || rr.code != 0 || strings.Contains(rr.stderr, "events lost") {
					t.Fatalf("reference run: %v, status %d\n%s", rr.err, rr.code, tail(rr.stderr, 20))
				}
				base = rr.wall
				t.Logf("reference run (the limit's own cost): %v", base.Round(time.Millisecond))
			}
			limit := base + a.bound + slack
			r := e.run(context.Background(), []string{"--analyzer", path, "--analyzer", benign}, limit+30*time.Second)
			outcome := summarize(r.stderr, mod)
			var problems []string
			if r.err != nil {
				problems = append(problems, r.err.Error())
			}
			if r.wall > limit {
				problems = append(problems, fmt.Sprintf("took %v, bound %v", r.wall.Round(time.Millisecond), limit.Round(time.Millisecond)))
			}
			if r.rss-e.baseRSS > rssAbove {
				problems = append(problems, fmt.Sprintf("peak RSS %d MiB above the run without analyzers", (r.rss-e.baseRSS)>>20))
			}
			if r.events[benign] == 0 {
				problems = append(problems, "the benign analyzer wrote no events")
			}
			if !strings.Contains(r.stderr, mod) {
				problems = append(problems, "stderr does not name the module")
			}
			if len(a.want) > 0 && !containsAny(r.stderr, a.want) {
				problems = append(problems, fmt.Sprintf("stderr names none of the limits %q", a.want))
			}
			if a.name == "tick flood" && r.events[mod] == 0 {
				problems = append(problems, "tick events not written")
			}
			if n, err := validPcap(r.out); err != nil || n == 0 {
				problems = append(problems, fmt.Sprintf("-w file: %d packets, %v", n, err))
			}
			if len(problems) > 0 {
				outcome = strings.Join(problems, "; ") + " (" + outcome + ")"
				t.Errorf("%s\nexit %d\n%s", strings.Join(problems, "\n"), r.code, tail(r.stderr, 40))
			}
			rows = append(rows, row{name: a.name, outcome: outcome, wall: r.wall, rss: r.rss, ok: len(problems) == 0})
		})
	}
}

func containsAny(s string, subs []string) bool {
	for _, x := range subs {
		if strings.Contains(s, x) {
			return true
		}
	}
	return false
}

// summarize picks the line of stderr that says what happened to the module.
func summarize(stderr, mod string) string {
	var last string
	for _, l := range strings.Split(stderr, "\n") {
		if !strings.Contains(l, mod) {
			continue
		}
		switch {
		case strings.Contains(l, "did not load"), strings.Contains(l, "failures ("), strings.Contains(l, "events lost"):
			last = l
		case last == "" && strings.Contains(l, "analyzer "+mod+":"):
			last = l
		}
	}
	if i := strings.Index(last, mod); i >= 0 {
		last = last[i+len(mod):]
	}
	last = strings.TrimLeft(last, ": ")
	if len(last) > 160 {
		last = last[:160] + "…"
	}
	return strings.ReplaceAll(last, "|", "/")
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
