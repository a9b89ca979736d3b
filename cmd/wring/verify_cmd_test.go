package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runVerify runs `wring verify args...` with stdin and returns the exit
// code, standard output and standard error.
func runVerify(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errw bytes.Buffer
	code := run(append([]string{"verify"}, args...), strings.NewReader(stdin), &out, &errw)
	return code, out.String(), errw.String()
}

// repoFile returns the path of a file relative to the repository root.
func repoFile(rel string) string { return filepath.Join("..", "..", rel) }

func TestVerifyBundledExample(t *testing.T) {
	code, out, errs := runVerify(t, "", repoFile("examples/tcp-port-80.bpf"))
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	for _, want := range []string{"verified (asm format)", "instructions:      20", "max packet offset: 58",
		"scratch slots:     none", "extensions:        none", "length guards:", "pc 0: packet length >="} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestVerifyFormats(t *testing.T) {
	// "tcp port 80"'s IPv4 half, hand-written in each format.
	srcs := map[string]string{
		"listing": "(000) ldh      [12]\n(001) jeq      #0x800           jt 2\tjf 5\n(002) ldb      [23]\n(003) jeq      #0x6             jt 4\tjf 5\n(004) ret      #262144\n(005) ret      #0\n",
		"c":       "{ 0x28, 0, 0, 0x0000000c },\n{ 0x15, 0, 3, 0x00000800 },\n{ 0x30, 0, 0, 0x00000017 },\n{ 0x15, 0, 1, 0x00000006 },\n{ 0x6, 0, 0, 0x00040000 },\n{ 0x6, 0, 0, 0x00000000 },\n",
		"decimal": "6\n40 0 0 12\n21 0 3 2048\n48 0 0 23\n21 0 1 6\n6 0 0 262144\n6 0 0 0\n",
		"asm":     "ldh [12]\njneq #0x800, drop\nldb [23]\njneq #6, drop\nret #262144\ndrop: ret #0\n",
	}
	for format, src := range srcs {
		for _, args := range [][]string{{}, {"-"}, {"--format", format}} {
			code, out, errs := runVerify(t, src, args...)
			if code != 0 || !strings.Contains(out, "verified ("+format+" format)") || !strings.Contains(out, "instructions:      6") ||
				!strings.Contains(out, "max packet offset: 24") {
				t.Errorf("%s %v: exit %d\nstdout:\n%s\nstderr:\n%s", format, args, code, out, errs)
			}
		}
	}
	// A file argument works as stdin does.
	path := filepath.Join(t.TempDir(), "p.ddd")
	if err := os.WriteFile(path, []byte(srcs["decimal"]), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, _ := runVerify(t, "", path); code != 0 || !strings.Contains(out, path+": verified (decimal format)") {
		t.Errorf("file argument: exit %d, %q", code, out)
	}
}

func TestVerifyFacts(t *testing.T) {
	src := "ld #len\nst M[3]\nldb #vlan_avail\nldx M[3]\nldh [x + 14]\nld #proto\nldh [0xffd0002c]\nret a\n"
	code, out, errs := runVerify(t, src, "--record")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"scratch slots:     M[3]", "extensions:        proto vlan_avail record", "max packet offset: none"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestVerifyRejects(t *testing.T) {
	cases := []struct {
		name, src string
		args      []string
		want      string
	}{
		{"uninitialised scratch", "ld M[0]\nret a\n", nil, "PC 0: uninitialised scratch read"},
		{"division by zero", "ld #1\ndiv #0\nret a\n", nil, "PC 1: division by zero"},
		{"no return", "{ 0x28, 0, 0, 12 },\n", nil, "PC 0: no return at end"},
		{"jump past the end", "2\n21 0 5 1\n6 0 0 0\n", nil, "PC 0: jump out of range"},
		{"record without --record", "ldh [0xffd0002c]\nret a\n", nil, "PC 0: record load not allowed"},
		{"ancillary with --no-ancillary", "ld #proto\nret a\n", []string{"--no-ancillary"}, "PC 0: ancillary load not allowed"},
		{"empty", "# nothing\n", nil, "PC 0: empty program"},
	}
	for _, c := range cases {
		code, out, errs := runVerify(t, c.src, c.args...)
		if code != 1 || !strings.Contains(errs, c.want) || out != "" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 1 and %q", c.name, code, out, errs, c.want)
		}
	}
}

func TestVerifyUnreadable(t *testing.T) {
	cases := []struct {
		name, src string
		args      []string
		want      string
	}{
		{"bad label", "ldh [12]\njeq #1, L1, nope\nL1: ret #0\n", nil, "line 2, column 13: no such label"},
		{"bad listing", "(000) ldh [12]\n(001) frob\n", nil, "line 2, column 7: unknown instruction"},
		{"wrong format", "ldh [12]\nret #0\n", []string{"--format", "decimal"}, "line 1, column 1"},
		{"count mismatch", "3\n6 0 0 0\n", nil, "line 1, column 1: the count says 3"},
		{"missing file", "", []string{"/nonexistent/prog.bpf"}, "/nonexistent/prog.bpf"},
	}
	for _, c := range cases {
		code, out, errs := runVerify(t, c.src, c.args...)
		if code != 2 || !strings.Contains(errs, c.want) || out != "" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 2 and %q", c.name, code, out, errs, c.want)
		}
	}
	if code, _, _ := runVerify(t, "", "--format", "hex"); code != 2 {
		t.Errorf("unknown --format: exit %d, want 2", code)
	}
}
