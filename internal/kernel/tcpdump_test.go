//go:build linux

package kernel

import (
	"bytes"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/spec"
)

// compileJob is one tcpdump compilation: either for a link type (-y) or for
// the link type of a capture file (-r).
type compileJob struct {
	DLT      string // -y, when Savefile is empty
	Savefile string // -r
	Snaplen  int    // -s, when not 0
	Optimize bool   // false adds -O
	Expr     string
}

func (j compileJob) args() []string {
	a := []string{"-dd"}
	if j.Savefile != "" {
		a = append(a, "-r", j.Savefile)
	} else {
		a = append(a, "-y", j.DLT)
	}
	if j.Snaplen != 0 {
		a = append(a, "-s", strconv.Itoa(j.Snaplen))
	}
	if !j.Optimize {
		a = append(a, "-O")
	}
	return append(a, "--", j.Expr)
}

// compiled is a job's result: the program, or why tcpdump could not
// compile it.
type compiled struct {
	Prog spec.Program
	Err  error
}

// needTcpdump stops the test when tcpdump is missing.
func needTcpdump(tb testing.TB) {
	tb.Helper()
	if _, err := exec.LookPath("tcpdump"); err != nil {
		corpus.Unavailable(tb, "tcpdump is not installed (apt-get install tcpdump)")
	}
}

// compileAll runs tcpdump for every job with two workers (the machines are
// small) and returns the results in job order. Nothing is cached across
// runs. tcpdump runs in a network namespace of its own (the caller is
// root), so host names that are not in /etc/hosts fail without DNS.
func compileAll(jobs []compileJob) []compiled {
	out := make([]compiled, len(jobs))
	next := make(chan int)
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				out[i] = compileOne(jobs[i])
			}
		}()
	}
	for i := range jobs {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

func compileOne(j compileJob) compiled {
	cmd := exec.Command("tcpdump", j.args()...)
	// An empty network namespace: names that need DNS fail at once instead
	// of sending queries off the machine.
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return compiled{Err: fmt.Errorf("tcpdump %s: %v: %s", strings.Join(j.args(), " "), err, strings.TrimSpace(stderr.String()))}
	}
	prog, err := parseDD(stdout.String())
	if err != nil {
		return compiled{Err: fmt.Errorf("tcpdump %s: %w", strings.Join(j.args(), " "), err)}
	}
	return compiled{Prog: prog}
}

// parseDD reads tcpdump -dd output: one "{ code, jt, jf, k }," per line.
func parseDD(s string) (spec.Program, error) {
	var p spec.Program
	for n, line := range strings.Split(strings.TrimSpace(s), "\n") {
		line = strings.TrimSpace(line)
		line = strings.TrimSuffix(strings.TrimPrefix(line, "{"), "},")
		f := strings.Split(line, ",")
		if len(f) != 4 {
			return nil, fmt.Errorf("line %d: %q is not { code, jt, jf, k }", n+1, line)
		}
		var v [4]uint64
		for i := range f {
			x, err := strconv.ParseUint(strings.TrimSpace(f[i]), 0, 32)
			if err != nil {
				return nil, fmt.Errorf("line %d field %d: %w", n+1, i+1, err)
			}
			v[i] = x
		}
		if v[0] > 0xffff || v[1] > 0xff || v[2] > 0xff {
			return nil, fmt.Errorf("line %d: field out of range", n+1)
		}
		p = append(p, spec.Instruction{Op: uint16(v[0]), Jt: uint8(v[1]), Jf: uint8(v[2]), K: uint32(v[3])})
	}
	return p, nil
}
