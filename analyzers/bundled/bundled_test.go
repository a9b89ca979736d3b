package bundled

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/wringcap/wring/internal/corpus"
)

// TestCommittedMatchesSource rebuilds every bundled analyzer and compares the
// bytes with the committed .wasm.
func TestCommittedMatchesSource(t *testing.T) {
	if testing.Short() {
		t.Skip("rebuilding the analyzers takes a while")
	}
	if want := strings.TrimSpace(Toolchain()); want != runtime.Version() {
		t.Fatalf("the bundled analyzers were built with %s, this toolchain is %s: run go generate ./analyzers/bundled", want, runtime.Version())
	}
	dir := t.TempDir()
	for _, a := range List() {
		t.Run(a.Name, func(t *testing.T) {
			if a.Name == "tls" {
				if _, err := exec.LookPath("clang"); err != nil {
					corpus.Unavailable(t, "clang is not installed")
				}
			}
			cmd := exec.Command("go", "run", "./gen", "-o", dir, "-only", a.Name)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			got, err := os.ReadFile(filepath.Join(dir, a.Name+".wasm"))
			if err != nil {
				t.Fatal(err)
			}
			committed, err := Module(a.Name)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, committed) {
				t.Fatalf("%s.wasm (%d bytes) differs from a fresh build of its source (%d bytes): run go generate ./analyzers/bundled", a.Name, len(committed), len(got))
			}
		})
	}
}

func TestList(t *testing.T) {
	l := List()
	if len(l) < 2 {
		t.Fatalf("only %d bundled analyzers", len(l))
	}
	for _, a := range l {
		b, err := Module(a.Name)
		if err != nil || len(b) < 8 || string(b[:4]) != "\x00asm" {
			t.Fatalf("%s: %v", a.Name, err)
		}
	}
	if _, err := Module("nope"); err == nil {
		t.Fatal("no error for an unknown analyzer")
	}
}
