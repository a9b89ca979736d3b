// Command bench regenerates BENCHMARKS.md: it runs the project's Go
// benchmarks (and the whole-process comparisons) in one go, so that every
// figure stands beside its anchor measured in the same run, and writes the
// tables.
//
//	go run ./internal/bench            # all sections, writes BENCHMARKS.md
//	go run ./internal/bench -only filter -benchtime 2s -o /tmp/b.md
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

func main() {
	out := flag.String("o", "BENCHMARKS.md", "output file")
	only := flag.String("only", "", "comma-separated section keys to run (default all)")
	benchtime := flag.String("benchtime", "1s", "go test -benchtime")
	count := flag.Int("count", 3, "go test -count; the table shows the median")
	flag.Parse()

	want := map[string]bool{}
	for _, k := range strings.Split(*only, ",") {
		if k != "" {
			want[k] = true
		}
	}
	var doc bytes.Buffer
	fmt.Fprintf(&doc, "# wring benchmarks\n\n")
	fmt.Fprintf(&doc, "Regenerate with `go run ./internal/bench` (about 10 minutes on 2 cores). "+
		"Every figure in a table was measured in the same run as its anchor; the machine is shared and noisy, "+
		"so ratios are what count. Values are the median of %d runs of `go test -bench -benchtime %s -benchmem`.\n\n",
		*count, *benchtime)
	fmt.Fprintf(&doc, "- generated: %s\n- machine: %s/%s, %d CPUs, %s\n- go: %s\n\n",
		time.Now().UTC().Format(time.RFC3339), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), cpuModel(), runtime.Version())

	for _, s := range sections {
		if len(want) > 0 && !want[s.Key] {
			continue
		}
		fmt.Fprintf(os.Stderr, "bench: %s\n", s.Title)
		fmt.Fprintf(&doc, "## %s\n\n", s.Title)
		if s.Intro != "" {
			fmt.Fprintf(&doc, "%s\n\n", s.Intro)
		}
		body, err := s.Run(Env{Benchtime: *benchtime, Count: *count})
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench: %s: %v\n", s.Key, err)
			fmt.Fprintf(&doc, "Not measured in this run: %v\n\n", err)
			continue
		}
		doc.WriteString(body)
		doc.WriteString("\n")
	}
	if err := os.WriteFile(*out, doc.Bytes(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "bench: wrote %s\n", *out)
}

// Env carries the run-wide settings to each section.
type Env struct {
	Benchtime string
	Count     int
}

// Section is one part of BENCHMARKS.md.
type Section struct {
	Key, Title, Intro string
	Run               func(Env) (string, error)
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "model name") {
			if _, v, ok := strings.Cut(l, ":"); ok {
				return strings.TrimSpace(v)
			}
		}
	}
	return "unknown CPU"
}

// goBench runs `go test -run ^$ -bench pattern` in the given packages and
// returns the parsed results.
func goBench(env Env, pattern string, pkgs ...string) (Results, error) {
	args := []string{"test", "-run", "^$", "-bench", pattern, "-benchmem",
		"-benchtime", env.Benchtime, "-count", fmt.Sprint(env.Count)}
	args = append(args, pkgs...)
	cmd := exec.Command("go", args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	res := Parse(out)
	if err != nil && len(res) == 0 {
		return nil, fmt.Errorf("go %s: %w", strings.Join(args, " "), err)
	}
	return res, nil
}
