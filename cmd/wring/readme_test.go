package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readmeCommand is what the README says one wring command does: the claim
// its comment makes (which must stay in the comment) and the check of it.
type readmeCommand struct {
	claim string
	check func(t *testing.T, stdout, stderr string)
}

func lines(s string) []string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func wantLines(n int) func(t *testing.T, stdout, stderr string) {
	return func(t *testing.T, stdout, stderr string) {
		if got := len(lines(stdout)); got != n {
			t.Errorf("%d lines, want %d", got, n)
		}
	}
}

func wantIn(where string, subs ...string) func(t *testing.T, stdout, stderr string) {
	return func(t *testing.T, stdout, stderr string) {
		s := stdout
		if where == "stderr" {
			s = stderr
		}
		for _, sub := range subs {
			if !strings.Contains(s, sub) {
				t.Errorf("%s lacks %q:\n%.2000s", where, sub, s)
			}
		}
	}
}

// readmeCommands are the README's wring commands (the words after "go run
// ./cmd/wring") that need no root.
var readmeCommands = map[string]readmeCommand{
	"read":               {"filter and summarise the bundled sample", wantLines(500)},
	"read 'tcp port 80'": {"91 lines", wantLines(91)},
	"read -r capture/sample/sample.pcap -w out.pcap 'vlan and udp port 53'": {"14 packets captured, into out.pcap", func(t *testing.T, stdout, stderr string) {
		wantIn("stderr", "14 packets captured")(t, stdout, stderr)
		var out, errw bytes.Buffer
		if code := run([]string{"read", "--count", "-r", "out.pcap"}, nil, &out, &errw); code != 0 || out.String() != "14 packets\n" {
			t.Errorf("out.pcap: exit %d, %q %s", code, out.String(), errw.String())
		}
	}},
	"read -nr capture/sample/sample.pcap port 53 -c 5": {"5 lines", func(t *testing.T, stdout, stderr string) {
		wantLines(5)(t, stdout, stderr)
		for _, l := range lines(stdout) {
			if !strings.Contains(l, ".53") {
				t.Errorf("not port 53: %q", l)
			}
		}
	}},
	"read --count icmp or arp": {"33 packets", func(t *testing.T, stdout, stderr string) {
		if stdout != "33 packets\n" {
			t.Errorf("stdout %q", stdout)
		}
	}},
	"read --json -c 3 tcp": {"3 packets, then a stats object", func(t *testing.T, stdout, stderr string) {
		l := lines(stdout)
		if len(l) != 4 {
			t.Fatalf("%d lines, want 4", len(l))
		}
		for i, line := range l {
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("line %d: %v", i+1, err)
			}
			want := "packet"
			if i == 3 {
				want = "stats"
			}
			if m["type"] != want {
				t.Errorf("line %d: type %v, want %s", i+1, m["type"], want)
			}
		}
	}},
	"compile --libpcap=1.10 'ip multicast'": {"jge #0xe0", wantIn("stdout", "jge      #0xe0")},
	"read --analyzer http --analyzer dns --events events.json": {"events as JSON lines in events.json", func(t *testing.T, stdout, stderr string) {
		wantLines(500)(t, stdout, stderr)
		b, err := os.ReadFile("events.json")
		if err != nil {
			t.Fatal(err)
		}
		wantIn("stdout", `"analyzer":"http"`, `"analyzer":"dns"`)(t, string(b), "")
	}},
	"read -w /dev/null --analyzer flow --analyzer-config flow:idle=10": {"flow events as JSON lines on standard output", func(t *testing.T, stdout, stderr string) {
		l := lines(stdout)
		if len(l) == 0 {
			t.Fatal("no events")
		}
		for _, line := range l {
			if !strings.Contains(line, `"event":"flow"`) {
				t.Errorf("not a flow event: %s", line)
			}
		}
	}},
	"analyzers": {"(http, dns, tls, flow, quic) and their counters", wantIn("stdout", "http ", "dns ", "tls ", "flow ", "quic ", "counters:")},
	"rules check examples/sample.rules": {"normalized, and the classifier's size: 3 tuples",
		wantIn("stderr", "3 rules, 0 flows: 3 tuples")},
	"read --rules examples/sample.rules -w /dev/null": {"58 dropped, 57 sampled out, counters per rule",
		wantIn("stderr", "58 dropped", "57 sampled out", "wring: rule 1: 58 packets")},
	"compile -d 'tcp port 80 and host 192.0.2.1'": {"as tcpdump -d lists it", wantIn("stdout", "(000) ldh      [12]", "ret      #262144")},
	"compile --ebpf --target xdp 'tcp port 80'":   {"eBPF translation for XDP", wantIn("stdout", "Exit")},
	"verify examples/tcp-port-80.bpf":             {"verified (asm format)", wantIn("stdout", "verified (asm format)", "instructions:      20")},
	"completion bash":                             {"bash completion script", wantIn("stdout", "complete -o default -F _wring wring", "--max-packets")},
	"man":                                         {"manual page in roff", wantIn("stdout", ".TH WRING 1", "\\-\\-count")},
}

// readmeSkipped are the README commands the test does not run, with why.
var readmeSkipped = map[string]string{
	"go test -count=1 -timeout 50m ./...": "the tests themselves",
	"go run ./internal/bench":             "regenerates BENCHMARKS.md, for minutes",
}

// TestREADMECommands runs every command of the README's sh blocks that
// needs no root, as written, from a directory that looks like a fresh
// clone (the repository's top-level entries linked into a temporary
// directory, so written files land there), and checks that it exits 0 and
// does what its comment says. A command the test does not know fails it,
// so the README and the test stay together.
func TestREADMECommands(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if err := os.Symlink(filepath.Join(root, e.Name()), filepath.Join(work, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(work)
	ran := map[string]bool{}
	inSh := false
	for _, line := range strings.Split(string(readme), "\n") {
		switch {
		case strings.HasPrefix(line, "```sh"):
			inSh = true
			continue
		case strings.HasPrefix(line, "```"):
			inSh = false
			continue
		}
		if !inSh || strings.TrimSpace(line) == "" {
			continue
		}
		words, comment, err := shellWords(line)
		if err != nil {
			t.Errorf("README line %q: %v", line, err)
			continue
		}
		cmdline := strings.TrimSpace(strings.SplitN(line, " #", 2)[0])
		if words[0] == "sudo" {
			continue // needs root and a live interface
		}
		if _, ok := readmeSkipped[cmdline]; ok {
			continue
		}
		if len(words) < 3 || words[0] != "go" || words[1] != "run" || words[2] != "./cmd/wring" {
			t.Errorf("README command %q: not a wring command and not listed in readmeSkipped", cmdline)
			continue
		}
		key := strings.TrimSpace(strings.TrimPrefix(cmdline, "go run ./cmd/wring"))
		rc, ok := readmeCommands[key]
		if !ok {
			t.Errorf("README command %q has no check in readmeCommands", key)
			continue
		}
		ran[key] = true
		t.Run(key, func(t *testing.T) {
			if !strings.Contains(comment, rc.claim) {
				t.Errorf("the README's comment %q no longer says %q", comment, rc.claim)
			}
			var out, errw bytes.Buffer
			if code := run(words[3:], nil, &out, &errw); code != 0 {
				t.Fatalf("exit %d:\n%s", code, errw.String())
			}
			rc.check(t, out.String(), errw.String())
		})
	}
	for k := range readmeCommands {
		if !ran[k] {
			t.Errorf("readmeCommands has %q, which the README no longer shows", k)
		}
	}
}

// shellWords splits a README line as sh does for the quoting the README
// uses ('...' and "..." without escapes) and returns the comment after an
// unquoted #.
func shellWords(line string) (words []string, comment string, err error) {
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\'' || c == '"':
			j := strings.IndexByte(line[i+1:], c)
			if j < 0 {
				return nil, "", errUnterminated
			}
			cur.WriteString(line[i+1 : i+1+j])
			inWord = true
			i += j + 1
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '#' && !inWord:
			comment = strings.TrimSpace(line[i+1:])
			i = len(line)
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	if len(words) == 0 {
		return nil, "", errEmpty
	}
	return words, comment, nil
}

var (
	errUnterminated = errorString("unterminated quote")
	errEmpty        = errorString("no words")
)

type errorString string

func (e errorString) Error() string { return string(e) }
