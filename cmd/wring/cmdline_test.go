package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/wringcap/wring/capture/sample"
	"github.com/wringcap/wring/internal/corpus"
)

// parseLine parses a wring command line without running it.
func parseLine(t *testing.T, args []string) (*cli, string, error) {
	t.Helper()
	var c cli
	var out, errw bytes.Buffer
	p, err := newParser(&c, nil, &out, &errw, func(int) { panic(exitSentinel{}) })
	if err != nil {
		t.Fatal(err)
	}
	ctx, err := p.Parse(permute(p.Model, args))
	if err != nil {
		return &c, "", err
	}
	return &c, ctx.Command(), nil
}

// tcpdumpLines are tcpdump command lines (reading a file) with what wring
// must make of them: the file, the output, the count, the expression and
// the printing flags. F stands for the capture file, X for a filter file
// holding "udp # comment".
var tcpdumpLines = []struct {
	line    string
	file    string // -r
	write   string // -w
	count   uint64 // -c
	expr    string
	verbose int
	times   int
	count2  bool // --count
}{
	{line: "-n -r F tcp -c 5", file: "F", count: 5, expr: "tcp"},                                    // a flag after the expression
	{line: "-n -c 5 -r F tcp", file: "F", count: 5, expr: "tcp"},                                    // before it
	{line: "-n -r F tcp and -c 3 port 80", file: "F", count: 3, expr: "tcp and port 80"},            // in the middle
	{line: "-nr F -c5 udp", file: "F", count: 5, expr: "udp"},                                       // combined short flags, attached value
	{line: "-nnvvvr F -ttttc2 port 53", file: "F", count: 2, expr: "port 53", verbose: 3, times: 4}, // several counters combined
	{line: "-n -r F -- tcp and port 80", file: "F", expr: "tcp and port 80"},                        // -- ends the flags
	{line: "-n -r F -c 4 -- tcp and port 80", file: "F", count: 4, expr: "tcp and port 80"},         // flags before --
	{line: "-n -r - -w - udp", file: "-", write: "-", expr: "udp"},                                  // standard input to standard output
	{line: "-n -r F -w- -c 3 tcp", file: "F", write: "-", count: 3, expr: "tcp"},                    // -w- attached
	{line: "-n -r F -F X", file: "F", expr: ""},                                                     // the expression from a file
	{line: "-n -r F -F X tcp", file: "F", expr: "tcp"},                                              // -F wins over arguments (tcpdump ignores them)
	{line: "-n --count -r F icmp or arp", file: "F", expr: "icmp or arp", count2: true},             // --count
	{line: "-n -r F -c 7 -w - ip6", file: "F", write: "-", count: 7, expr: "ip6"},                   // -w - with a count
	{line: "-n -r F udp port 53 -t", file: "F", expr: "udp port 53", times: 1},                      // a printing flag last
	{line: "-n -r F -y EN10MB -c 2", file: "F", count: 2},                                           // -y reading a file
	{line: "-n -r F -U -w - -c 2 tcp", file: "F", write: "-", count: 2, expr: "tcp"},                // -U
	{line: "-n -r F -l -c 2 tcp", file: "F", count: 2, expr: "tcp"},                                 // -l
	{line: "-n -r F -# -c 3", file: "F", count: 3},                                                  // -#
	{line: "-n -r F -c 3 --time-stamp-precision=nano", file: "F", count: 3},                         // a long flag with =
}

// TestTcpdumpCommandLines parses each tcpdump command line and checks what
// wring made of it; then, where tcpdump is installed, runs both on the
// sample and compares: the bytes with -w -, the count with --count, the
// number of lines otherwise (the text printer is checked elsewhere).
func TestTcpdumpCommandLines(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "sample.pcap")
	x := filepath.Join(dir, "filter.txt")
	if err := os.WriteFile(f, sample.Pcap, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(x, []byte("udp # a comment, ignored\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, tcpdumpErr := exec.LookPath("tcpdump")
	for _, c := range tcpdumpLines {
		args := strings.Fields(c.line)
		for i, a := range args {
			switch a {
			case "F":
				args[i] = f
			case "X":
				args[i] = x
			}
		}
		t.Run(c.line, func(t *testing.T) {
			parsed, cmd, err := parseLine(t, append([]string{"read"}, args...))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if cmd != "read <expression>" && cmd != "read" {
				t.Fatalf("command %q", cmd)
			}
			r := &parsed.Read
			file := r.File
			if file == f {
				file = "F"
			}
			if file != c.file || r.Write != c.write || r.Count != c.count || r.Verbose != c.verbose || r.Times != c.times || r.CountOnly != c.count2 {
				t.Errorf("got -r %q -w %q -c %d -v×%d -t×%d --count %v", file, r.Write, r.Count, r.Verbose, r.Times, r.CountOnly)
			}
			expr, err := expression(r.Expr, r.FilterFile, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			want := c.expr
			if r.FilterFile != "" {
				want = "udp"
			}
			if got := strings.Join(strings.Fields(expr), " "); got != want {
				t.Errorf("expression %q, want %q", got, want)
			}
			if tcpdumpErr != nil {
				return
			}
			var wout, werr bytes.Buffer
			code := run(append([]string{"read"}, args...), bytes.NewReader(sample.Pcap), &wout, &werr)
			if code != 0 {
				t.Fatalf("wring exit %d: %s", code, werr.String())
			}
			td := exec.Command("tcpdump", args...)
			td.Stdin = bytes.NewReader(sample.Pcap)
			td.Env = append(os.Environ(), "TZ=UTC")
			tout, err := td.Output()
			if err != nil {
				t.Fatalf("tcpdump: %v", err)
			}
			switch {
			case c.write == "-":
				if !bytes.Equal(wout.Bytes(), tout) {
					t.Errorf("-w -: wring wrote %d bytes, tcpdump %d, not the same", wout.Len(), len(tout))
				}
			case c.count2:
				if wout.String() != string(tout) {
					t.Errorf("--count: wring %q, tcpdump %q", wout.String(), tout)
				}
			default:
				// A packet's first line starts in column 1; -v's
				// continuation lines start with white space.
				count := packetLines
				if strings.Contains(c.line, "-#") {
					count = numberedLines
				}
				if w, d := count(wout.String()), count(string(tout)); w != d || w == 0 {
					t.Errorf("wring printed %d packets, tcpdump %d", w, d)
				}
			}
		})
	}
	if tcpdumpErr != nil {
		corpus.Unavailable(t, "tcpdump is not installed: the command lines were parsed but not compared with tcpdump's")
	}
}

// TestCommandLineErrors: unknown flags are errors that name the flag and
// suggest the closest, never part of the expression; wring alone prints the
// usage; --version prints the version.
func TestCommandLineErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"read", "--cuont"}, 2, []string{"read: unknown flag --cuont", "did you mean --count?", "never part of the filter expression"}},
		{[]string{"read", "tcp", "--bacth", "5"}, 2, []string{"unknown flag --bacth", "did you mean --batch?"}},
		{[]string{"read", "-a"}, 2, []string{"unknown flag -a", "did you mean -A (--ascii)?"}},
		{[]string{"read", "-i", "eth0"}, 2, []string{"unknown flag -i", "wring capture -i"}},
		{[]string{"read", "-tttttt"}, 2, []string{"only -t, -tt, -ttt, -tttt and -ttttt are supported"}},
		{[]string{"read", "-y", "NOPE"}, 2, []string{"-y NOPE", "unknown link type"}},
		{[]string{"read", "--json", "-x"}, 2, []string{"-x changes the text lines"}},
		{[]string{"read", "-F", "/nonexistent/filter"}, 2, []string{"-F", "/nonexistent/filter"}},
		{[]string{"read", "-Z", "no-such-user-here"}, 2, []string{"-Z no-such-user-here"}},
		{[]string{"read", "-z", "gzip"}, 2, []string{"-z needs -w"}},
		{nil, 2, []string{"Usage: wring <command>", "read", "capture", "compile"}},
	} {
		var out, errw bytes.Buffer
		code := run(c.args, nil, &out, &errw)
		msg := errw.String()
		if code != c.code {
			t.Errorf("%v: exit %d, want %d: %s", c.args, code, c.code, msg)
		}
		for _, w := range c.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%v: stderr lacks %q:\n%s", c.args, w, msg)
			}
		}
		if c.args != nil && strings.Count(msg, "wring: ") != 1 {
			t.Errorf("%v: want one message, got:\n%s", c.args, msg)
		}
	}
	var out, errw bytes.Buffer
	if code := run([]string{"--version"}, nil, &out, &errw); code != 0 || !strings.HasPrefix(out.String(), "wring ") {
		t.Errorf("--version: exit %d, %q %q", code, out.String(), errw.String())
	}
}

// packetLines counts the lines that start a packet's output.
func packetLines(s string) int {
	n := 0
	for _, l := range strings.Split(s, "\n") {
		if l != "" && l[0] != ' ' && l[0] != '\t' {
			n++
		}
	}
	return n
}

// numberedLines counts -#'s numbered lines ("    1  12:00:00...").
func numberedLines(s string) int {
	return len(regexp.MustCompile(`(?m)^ *[0-9]+  [0-9]`).FindAllStringIndex(s, -1))
}

// TestIPBroadcastOffline: "ip broadcast" compiles with netmask 0 when no
// interface gives one, as tcpdump -r and tcpdump -d do, instead of failing
// with "netmask not known".
func TestIPBroadcastOffline(t *testing.T) {
	for _, args := range [][]string{{"compile", "ip broadcast"}, {"read", "-c", "1", "ip", "broadcast"}} {
		var out, errw bytes.Buffer
		if code := run(args, nil, &out, &errw); code != 0 {
			t.Errorf("%v: exit %d: %s", args, code, errw.String())
		}
	}
	if _, err := exec.LookPath("tcpdump"); err != nil {
		corpus.Unavailable(t, "tcpdump is not installed")
	}
	var out, errw bytes.Buffer
	run([]string{"compile", "-d", "ip broadcast"}, nil, &out, &errw)
	td, err := exec.Command("tcpdump", "-d", "ip broadcast").Output()
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != string(td) {
		t.Errorf("wring compile:\n%s\ntcpdump -d:\n%s", out.String(), td)
	}
}

// FuzzCommandLine: any command line parses to a result or an error, never
// a panic, and permuting keeps every word.
func FuzzCommandLine(f *testing.F) {
	for _, c := range tcpdumpLines {
		f.Add("read " + c.line)
	}
	f.Add("read -- -c 5 tcp")
	f.Add("compile -dd -- tcp -O0")
	f.Add("read -w")
	f.Add("read --analyzer-config")
	f.Fuzz(func(t *testing.T, line string) {
		args := strings.Split(line, " ")
		var c cli
		p, err := newParser(&c, nil, io.Discard, io.Discard, func(int) { panic(exitSentinel{}) })
		if err != nil {
			t.Fatal(err)
		}
		perm := permute(p.Model, args)
		words := func(l []string) map[string]int {
			m := map[string]int{}
			for _, w := range l {
				if w != "--" {
					m[w]++
				}
			}
			return m
		}
		if a, b := words(args), words(perm); !reflect.DeepEqual(a, b) {
			t.Fatalf("permute(%q) = %q: words lost or added", args, perm)
		}
		defer func() {
			if r := recover(); r != nil {
				if _, ok := r.(exitSentinel); !ok {
					t.Fatalf("%q: panic %v", args, r)
				}
			}
		}()
		p.Parse(perm)
	})
}
