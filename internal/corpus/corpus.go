// Package corpus finds and loads the shared test corpora (../shared/corpus:
// libpcap's TESTrun tables and capture files, tcpdump's capture files) for
// tests and benchmarks. A test that needs the corpus and cannot find it fails
// when CI=true and skips otherwise.
package corpus

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"testing"
)

// Root returns the absolute path of the shared corpus directory, or "" when
// it cannot be found. WRING_CORPUS overrides the search.
func Root() string {
	if d := os.Getenv("WRING_CORPUS"); d != "" {
		return d
	}
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return ""
	}
	// internal/corpus/corpus.go -> repository root -> ../shared/corpus
	repo := filepath.Dir(filepath.Dir(filepath.Dir(file)))
	d := filepath.Join(filepath.Dir(repo), "shared", "corpus")
	if st, err := os.Stat(d); err == nil && st.IsDir() {
		return d
	}
	return ""
}

// Need returns the corpus root, or stops the test: it fails when CI=true
// and skips with the reason elsewhere.
func Need(tb testing.TB) string {
	tb.Helper()
	r := Root()
	if r == "" {
		Unavailable(tb, "the shared corpus (../shared/corpus) is not present")
	}
	return r
}

// Unavailable stops a test whose prerequisite is missing: a failure in CI
// (CI=true), a skip with the reason elsewhere.
func Unavailable(tb testing.TB, reason string) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatalf("required in CI: %s", reason)
	}
	tb.Skip(reason)
}

// Case is one entry of libpcap's TESTrun tables (see the corpus README).
type Case struct {
	Kind      string  `json:"kind"`
	Label     string  `json:"label"`
	Expr      string  `json:"expr"`
	DLT       string  `json:"DLT"`
	Optimize  int     `json:"optimize"`
	Snaplen   *int    `json:"snaplen"`
	LinuxExt  any     `json:"linuxext"`
	Netmask   *string `json:"netmask"`
	Expected  string  `json:"expected"`
	Savefile  string  `json:"savefile"`
	CFuncName string  `json:"cfuncname"`
	CFuncArg  any     `json:"cfuncarg"` // string, number or null
}

// HasLinuxExt reports whether the case asks for Linux extensions.
func (c *Case) HasLinuxExt() bool {
	switch v := c.LinuxExt.(type) {
	case nil:
		return false
	case string:
		return v != ""
	case float64:
		return v != 0
	case bool:
		return v
	}
	return false
}

var (
	casesOnce sync.Once
	cases     []Case
	casesErr  error
)

// Cases returns every TESTrun case, loaded once.
func Cases(tb testing.TB) []Case {
	tb.Helper()
	root := Need(tb)
	casesOnce.Do(func() {
		b, err := os.ReadFile(filepath.Join(root, "libpcap", "TESTrun.json"))
		if err != nil {
			casesErr = err
			return
		}
		casesErr = json.Unmarshal(b, &cases)
	})
	if casesErr != nil {
		tb.Fatalf("load TESTrun.json: %v", casesErr)
	}
	return cases
}

// CasesOf returns the TESTrun cases of one kind ("filter_accept", ...).
func CasesOf(tb testing.TB, kind string) []Case {
	tb.Helper()
	var out []Case
	for _, c := range Cases(tb) {
		if c.Kind == kind {
			out = append(out, c)
		}
	}
	return out
}

// Files returns the sorted absolute paths of the files in a corpus
// subdirectory ("tcpdump", "libpcap/filter", "libpcap/savefile").
func Files(tb testing.TB, sub string) []string {
	tb.Helper()
	root := Need(tb)
	ents, err := os.ReadDir(filepath.Join(root, sub))
	if err != nil {
		tb.Fatalf("corpus %s: %v", sub, err)
	}
	var out []string
	for _, e := range ents {
		if e.Type().IsRegular() && e.Name() != "LICENSE" && e.Name() != "README.md" {
			out = append(out, filepath.Join(root, sub, e.Name()))
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		tb.Fatalf("corpus %s is empty", sub)
	}
	return out
}

// Path joins a path relative to the corpus root.
func Path(tb testing.TB, rel string) string {
	tb.Helper()
	p := filepath.Join(Need(tb), rel)
	if _, err := os.Stat(p); err != nil {
		tb.Fatalf("corpus file: %v", fmt.Errorf("%s: %w", rel, err))
	}
	return p
}
