//go:build linux

package kernel

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wringcap/wring/internal/linux"

	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/internal/progen"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
)

// stricter lists the verifier's rules that may reject what the kernel
// accepts, each with its reason (spec/VERIFIER.md, "Stricter than Linux").
var stricter = map[verifier.ErrorCode]string{
	verifier.ErrRecordNotAllowed: "parse-record range without Options.Record",
	verifier.ErrJumpTooFar:       "upper bound of Linux's eBPF conversion (vlan_avail counted as 3)",
}

// verdicts compares Verify with the kernel's SO_ATTACH_FILTER.
type verdicts struct {
	total, bothAccept, bothReject int
	wringOnly                     []string // wring accepts, kernel rejects: must stay empty
	stricter                      map[verifier.ErrorCode]int
	unexplained                   []string // wring rejects, kernel accepts, for a rule not in stricter
	rejectCodes                   map[verifier.ErrorCode]int
	kernelErrno                   map[string]int
}

func newVerdicts() *verdicts {
	return &verdicts{stricter: map[verifier.ErrorCode]int{}, rejectCodes: map[verifier.ErrorCode]int{}, kernelErrno: map[string]int{}}
}

// short prints at most the first 40 instructions of prog.
func short(prog spec.Program) string {
	if len(prog) <= 40 {
		return fmt.Sprint(prog)
	}
	return fmt.Sprintf("%v ... (%d instructions)", prog[:40], len(prog))
}

func (v *verdicts) add(c *Checker, prog spec.Program, name string) {
	v.total++
	_, werr := verifier.Verify(prog, verifier.Options{})
	kerr := c.Attach(prog)
	var code verifier.ErrorCode
	if werr != nil {
		var ve *verifier.Error
		if !errors.As(werr, &ve) {
			v.unexplained = append(v.unexplained, fmt.Sprintf("%s: error %v is not a *verifier.Error", name, werr))
			return
		}
		code = ve.Code
		v.rejectCodes[code]++
	}
	if kerr != nil {
		var errno linux.Errno
		if errors.As(kerr, &errno) {
			v.kernelErrno[errno.Error()]++
		} else {
			v.kernelErrno[kerr.Error()]++
		}
	}
	switch {
	case werr == nil && kerr == nil:
		v.bothAccept++
	case werr != nil && kerr != nil:
		v.bothReject++
	case werr == nil:
		v.wringOnly = append(v.wringOnly, fmt.Sprintf("%s: kernel says %v\n%s", name, kerr, short(prog)))
	default:
		if _, ok := stricter[code]; ok {
			v.stricter[code]++
		} else {
			v.unexplained = append(v.unexplained, fmt.Sprintf("%s: wring says %v, the kernel accepts\n%s", name, werr, short(prog)))
		}
	}
}

func (v *verdicts) report(t *testing.T, what string) {
	t.Helper()
	codes := make([]string, 0, len(v.rejectCodes))
	for c, n := range v.rejectCodes {
		codes = append(codes, fmt.Sprintf("%v %d", c, n))
	}
	sort.Strings(codes)
	t.Logf("%s: %d programs: both accept %d, both reject %d, wring accepts and kernel rejects %d, wring stricter (documented) %v, unexplained %d",
		what, v.total, v.bothAccept, v.bothReject, len(v.wringOnly), v.stricter, len(v.unexplained))
	t.Logf("%s: wring's rejections by rule: %s; kernel errnos: %v", what, strings.Join(codes, ", "), v.kernelErrno)
	for i, s := range v.wringOnly {
		if i == 5 {
			break
		}
		t.Errorf("wring accepts, kernel rejects: %s", s)
	}
	for i, s := range v.unexplained {
		if i == 5 {
			break
		}
		t.Errorf("unexplained disagreement: %s", s)
	}
	if len(v.wringOnly) > 0 || len(v.unexplained) > 0 {
		t.Errorf("%s: %d programs wring accepts and the kernel rejects, %d other disagreements not documented", what, len(v.wringOnly), len(v.unexplained))
	}
	if n := v.kernelErrno[linux.ENOMEM.Error()]; n > 0 {
		t.Errorf("%s: the kernel ran out of option memory on %d programs: the comparison needs the private namespace", what, n)
	}
}

func newPrivateChecker(t *testing.T) *Checker {
	t.Helper()
	needRoot(t)
	c, err := NewChecker()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if !c.Private() {
		corpus.Unavailable(t, "could not raise net.core.optmem_max in a private network namespace")
	}
	return c
}

// TestVerifierAgainstKernelCorpus compares Verify with the kernel on every
// program Debian's tcpdump emits (-dd) for the filter_accept cases of
// libpcap's TESTrun.
func TestVerifierAgainstKernelCorpus(t *testing.T) {
	c := newPrivateChecker(t)
	needTcpdump(t)
	var jobs []compileJob
	seen := map[string]bool{}
	linuxExt := 0
	for _, tc := range corpus.CasesOf(t, "filter_accept") {
		if tc.HasLinuxExt() {
			linuxExt++ // needs a live Linux capture; tcpdump -y cannot ask for it
			continue
		}
		j := compileJob{DLT: tc.DLT, Optimize: tc.Optimize != 0, Expr: tc.Expr}
		if tc.Snaplen != nil {
			j.Snaplen = *tc.Snaplen
		}
		key := strings.Join(j.args(), "\x00")
		if !seen[key] {
			seen[key] = true
			jobs = append(jobs, j)
		}
	}
	start := time.Now()
	results := compileAll(jobs)
	compileTime := time.Since(start)
	v := newVerdicts()
	failed := 0
	for i, r := range results {
		if r.Err != nil {
			failed++
			continue
		}
		v.add(c, r.Prog, fmt.Sprintf("tcpdump %s", strings.Join(jobs[i].args(), " ")))
	}
	t.Logf("filter_accept: %d distinct compilations (%d cases need Linux extensions), Debian's tcpdump compiled %d and could not compile %d, in %v",
		len(jobs), linuxExt, len(jobs)-failed, failed, compileTime.Round(time.Millisecond))
	v.report(t, "tcpdump -dd")
	if v.total < 1000 {
		t.Errorf("only %d programs compiled: the comparison is too small to mean anything", v.total)
	}

	// The expected listings themselves: libpcap master's programs,
	// including those Debian's older libpcap cannot compile.
	m := newVerdicts()
	for _, tc := range corpus.CasesOf(t, "filter_accept") {
		prog, err := spec.ParseText([]byte(tc.Expected), spec.TextListing)
		if err != nil {
			t.Errorf("%s: expected listing does not parse: %v", tc.Label, err)
			continue
		}
		m.add(c, prog, "expected listing of "+tc.Label)
	}
	m.report(t, "libpcap master's expected listings")
}

// TestVerifierAgainstKernelRandom compares Verify with the kernel on the
// fixed corner cases of progen, programs whose first ja lands near the
// reach of an eBPF jump, and at least 100,000 random programs aimed at the
// verifier's rules (WRING_ORACLE_PROGRAMS overrides the count).
func TestVerifierAgainstKernelRandom(t *testing.T) {
	c := newPrivateChecker(t)
	n := 100000
	if s := os.Getenv("WRING_ORACLE_PROGRAMS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			t.Fatalf("WRING_ORACLE_PROGRAMS: %v", err)
		}
	}
	start := time.Now()
	corners := newVerdicts()
	for i, p := range progen.Corners() {
		corners.add(c, p, fmt.Sprintf("corner %d", i))
	}
	corners.report(t, "corners")

	g := progen.New(1, progen.Config{})
	limit := newVerdicts()
	for i := range 500 {
		limit.add(c, g.JumpLimit(), fmt.Sprintf("jump-limit program %d (seed 1)", i))
	}
	limit.report(t, "ja near the eBPF reach")

	random := newVerdicts()
	for i := range n {
		random.add(c, g.Program(), fmt.Sprintf("random program %d (seed 1)", i))
	}
	random.report(t, "random")
	t.Logf("summary: %d programs (%d corners, %d near the jump reach, %d random) in %v; wring accepts and kernel rejects: %d",
		corners.total+limit.total+random.total, corners.total, limit.total, random.total, time.Since(start).Round(time.Millisecond),
		len(corners.wringOnly)+len(limit.wringOnly)+len(random.wringOnly))
	if random.total < n {
		t.Errorf("compared %d random programs, want %d", random.total, n)
	}
}
