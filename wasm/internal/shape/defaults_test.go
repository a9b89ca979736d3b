package shape

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/wasm/internal/wat"
)

// guests returns the modules the defaults must accept with room to spare:
// the bundled analyzers (Go, wasip1), the C SDK's examples built as the wasm
// package's tests build them, and the host's test modules.
func guests(t *testing.T) map[string][]byte {
	t.Helper()
	mods := map[string][]byte{}
	bundled, _ := filepath.Glob("../../../analyzers/bundled/*.wasm")
	if len(bundled) == 0 {
		t.Fatal("no bundled analyzers found")
	}
	for _, f := range bundled {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		mods[filepath.Base(f)] = b
	}
	if _, err := exec.LookPath("clang"); err != nil {
		corpus.Unavailable(t, "clang is not installed (CI installs clang, lld and wasi-libc)")
	}
	sdk := "../../guest/c"
	examples, _ := filepath.Glob(filepath.Join(sdk, "examples", "*.c"))
	if len(examples) == 0 {
		t.Fatal("no C SDK examples found")
	}
	// The C SDK tests' freestanding flags (wasm/csdk_test.go).
	flags := []string{"--target=wasm32", "-O2", "-nostdlib", "-fno-builtin-memcpy", "-fno-builtin-memset",
		"-Wl,--no-entry", "-Wl,--export-dynamic", "-Wl,--strip-all", "-Wl,-z,stack-size=65536"}
	for _, ex := range examples {
		out := filepath.Join(t.TempDir(), "m.wasm")
		args := append(append([]string{}, flags...), "-I", sdk, ex, filepath.Join(sdk, "wring.c"), "-o", out)
		if b, err := exec.Command("clang", args...).CombinedOutput(); err != nil {
			t.Fatalf("clang %s: %v\n%s", ex, err, b)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		mods["c/"+filepath.Base(ex)] = b
	}
	wats, _ := filepath.Glob("../../testdata/*.wat")
	for _, f := range wats {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		// analyzer.wat is a template: its markers take their defaults
		// (wasm/helpers_test.go).
		s := strings.ReplaceAll(string(src), "{{VERSION}}", "(i32.const 1)")
		s = regexp.MustCompile(`\{\{[A-Z]+\}\}`).ReplaceAllString(s, "")
		b, err := wat.Compile(s)
		if err != nil {
			corpus.Unavailable(t, err.Error())
		}
		mods["wat/"+filepath.Base(f)] = b
	}
	return mods
}

// TestDefaultsFarAbove measures every guest and checks that each default
// limit is at least 4 times the largest value any of them has (the
// measurements RATIONALE.md quotes are this test's log).
func TestDefaultsFarAbove(t *testing.T) {
	const margin = 4
	var most Shape
	for name, bin := range guests(t) {
		s, err := Measure(bin)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := Check(bin, DefaultLimits()); err != nil {
			t.Errorf("%s refused: %v", name, err)
		}
		t.Logf("%-14s %+v", name, s)
		mv, sv := reflect.ValueOf(&most).Elem(), reflect.ValueOf(s)
		for i := range mv.NumField() {
			mv.Field(i).SetUint(max(mv.Field(i).Uint(), sv.Field(i).Uint()))
		}
	}
	t.Logf("largest        %+v", most)
	dv, mv := reflect.ValueOf(DefaultLimits()), reflect.ValueOf(most)
	for i := range dv.NumField() {
		if d, m := dv.Field(i).Uint(), mv.Field(i).Uint(); d < margin*m {
			t.Errorf("Limits.%s = %d, less than %d times the largest guest's %d", dv.Type().Field(i).Name, d, margin, m)
		}
	}
}
