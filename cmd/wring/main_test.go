package main

import (
	"os"
	"strings"
	"testing"
)

// asWring makes the test binary run as wring when set in its environment,
// so tests can start `wring` as a process of its own (in a namespace, with
// capabilities dropped) without building it.
const asWring = "WRING_TEST_AS_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(asWring) == "1" {
		os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// wringCommand is the command line that runs wring: this test binary with
// asWring set in its environment.
func wringCommand(t *testing.T) (argv, env []string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return []string{exe}, []string{asWring + "=1"}
}

// errorLines returns stderr's lines that are wring's messages, leaving out
// the summary's per-queue and per-analyzer lines.
func errorLines(stderr string) []string {
	var out []string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "wring: ") && !strings.HasPrefix(l, "wring: queue ") {
			out = append(out, l)
		}
	}
	return out
}
