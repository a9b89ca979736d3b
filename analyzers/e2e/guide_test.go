package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/wringcap/wring/internal/analyzertest"
	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/wasm"
)

// TestGuideExamples builds the Go and C analyzers of
// spec/WRITING-ANALYZERS.md exactly as the guide says and runs them, so the
// guide cannot drift from the SDKs.
func TestGuideExamples(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Go and C analyzers")
	}
	guide, err := os.ReadFile("../../spec/WRITING-ANALYZERS.md")
	if err != nil {
		t.Fatal(err)
	}
	goSrc := regexp.MustCompile("(?s)```go\n(.*?)```").FindSubmatch(guide)
	cSrc := regexp.MustCompile("(?s)```c\n(.*?)```").FindSubmatch(guide)
	if goSrc == nil || cSrc == nil {
		t.Fatal("the guide has no Go or C example")
	}
	root, _ := filepath.Abs("../..")
	dir := t.TempDir()
	// The Go example, built inside the module so that it can import the SDK.
	gdir := filepath.Join(root, "analyzers", "e2e", "guidetmp"+filepath.Base(dir))
	if err := os.MkdirAll(gdir, 0o755); err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(gdir)
	if err := os.WriteFile(filepath.Join(gdir, "main.go"), goSrc[1], 0o644); err != nil {
		t.Fatal(err)
	}
	goWasm := filepath.Join(dir, "ports.wasm")
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-trimpath", "-o", goWasm, ".")
	cmd.Dir = gdir
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	bins := []wasm.Analyzer{{Name: "ports", Binary: readFile(t, goWasm), Config: []byte("tag=7\n")}}
	if _, err := exec.LookPath("clang"); err != nil {
		corpus.Unavailable(t, "clang is not installed")
	} else {
		cfile := filepath.Join(dir, "syn.c")
		os.WriteFile(cfile, cSrc[1], 0o644)
		cWasm := filepath.Join(dir, "syn.wasm")
		cmd := exec.Command("clang", "--target=wasm32", "-O2", "-nostdlib", "-Wl,--no-entry", "-Wl,--export-dynamic",
			"-Wl,--strip-all", "-I", filepath.Join(root, "wasm/guest/c"), cfile, filepath.Join(root, "wasm/guest/c/wring.c"), "-o", cWasm)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("clang: %v\n%s", err, out)
		}
		bins = append(bins, wasm.Analyzer{Name: "syn", Binary: readFile(t, cWasm)})
	}
	var ev bytes.Buffer
	h, err := wasm.NewHost(context.Background(), wasm.NewConfig().WithEvents(&ev), bins...)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())
	c, err := corpus.ReadCapture(analyzertest.MixedCapture(t, 2000))
	if err != nil {
		t.Fatal(err)
	}
	feed(t, h, c)
	syns := 0
	for _, l := range bytes.Split(bytes.TrimSpace(ev.Bytes()), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatal(err)
		}
		syns++
	}
	counters := map[string]uint64{}
	for _, ct := range h.Counters() {
		counters[ct.Analyzer+"."+ct.Name] = ct.Value
	}
	if counters["ports.http"] == 0 || counters["ports.https"] == 0 || syns == 0 {
		t.Fatalf("counters %v, %d events", counters, syns)
	}
	for _, s := range h.Stats() {
		if s.Failures != 0 {
			t.Fatalf("%+v", s)
		}
	}
}

func readFile(t *testing.T, p string) []byte {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
