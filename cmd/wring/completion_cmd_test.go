package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wringcap/wring/internal/corpus"
)

// TestBashCompletion loads the generated script into bash and asks it to
// complete command names, flags and an enum value.
func TestBashCompletion(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		corpus.Unavailable(t, "bash is not installed")
	}
	var out, errw bytes.Buffer
	if code := run([]string{"completion", "bash"}, nil, &out, &errw); code != 0 {
		t.Fatalf("exit %d: %s", code, errw.String())
	}
	script := filepath.Join(t.TempDir(), "wring.bash")
	if err := os.WriteFile(script, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		words string // the line typed so far; the last word is completed
		want  []string
	}{
		{"wring re", []string{"read"}},
		{"wring read --cou", []string{"--count"}},
		{"wring read tcp --time-stamp-p", []string{"--time-stamp-precision"}},
		{"wring read --time-stamp-precision n", []string{"nano"}},
		{"wring capture --mo", []string{"--mode"}},
		{"wring compile --target ", []string{"xdp", "socket"}},
	} {
		words := strings.Fields(c.words)
		if strings.HasSuffix(c.words, " ") {
			words = append(words, "")
		}
		var quoted []string
		for _, w := range words {
			quoted = append(quoted, "'"+w+"'")
		}
		sh := "source " + script + "; COMP_WORDS=(" + strings.Join(quoted, " ") + "); COMP_CWORD=" +
			itoa(len(words)-1) + "; _wring; printf '%s\\n' \"${COMPREPLY[@]}\""
		got, err := exec.Command("bash", "-c", sh).CombinedOutput()
		if err != nil {
			t.Fatalf("%q: %v\n%s", c.words, err, got)
		}
		for _, w := range c.want {
			if !strings.Contains("\n"+string(got), "\n"+w+"\n") {
				t.Errorf("%q: completions %q lack %q", c.words, got, w)
			}
		}
	}
}

// TestManPage: the page has every command and every flag of read, and
// groff, where installed, reads it without a warning.
func TestManPage(t *testing.T) {
	var out, errw bytes.Buffer
	if code := run([]string{"man"}, nil, &out, &errw); code != 0 {
		t.Fatalf("exit %d: %s", code, errw.String())
	}
	page := out.String()
	for _, want := range []string{".TH WRING 1", ".SS wring read", ".SS wring capture", ".SS wring compile", `\fB\-\-max\-packets\fR`, `\fB\-#\fR, \fB\-\-number\fR`, `\fB\-\-time\-stamp\-precision\fR`} {
		if !strings.Contains(page, want) {
			t.Errorf("man page lacks %q", want)
		}
	}
	if _, err := exec.LookPath("groff"); err != nil {
		return
	}
	cmd := exec.Command("groff", "-man", "-ww", "-z")
	cmd.Stdin = strings.NewReader(page)
	if msg, err := cmd.CombinedOutput(); err != nil || len(msg) > 0 {
		t.Errorf("groff: %v\n%s", err, msg)
	}
}
