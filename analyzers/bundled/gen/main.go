// Command gen builds the bundled analyzers into analyzers/bundled:
//
//	go generate ./analyzers/bundled        (or: go run ./analyzers/bundled/gen -o analyzers/bundled)
//
// Go analyzers are built with GOOS=wasip1 GOARCH=wasm -buildmode=c-shared
// -trimpath and no build id, so the same toolchain gives the same bytes; the
// toolchain's version is written to TOOLCHAIN. C analyzers are built
// freestanding with clang --target=wasm32 and lld (flags below); the SDK's
// runtime needs no libc.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// analyzer is one bundled analyzer and how to build it.
type analyzer struct {
	name string
	src  string // directory, relative to the repository root
	lang string // "go" or "c"
}

var analyzers = []analyzer{
	{"http", "analyzers/http", "go"},
	{"dns", "analyzers/dns", "go"},
	{"tls", "analyzers/tls", "go"},
	{"flow", "analyzers/flow", "go"},
	{"quic", "analyzers/quic", "go"},
	{"sip", "analyzers/sip", "go"},
}

// cFlags are the clang flags for C analyzers, fixed for reproducible output.
var cFlags = []string{
	"--target=wasm32", "-O2", "-nostdlib", "-fno-builtin-memcpy", "-fno-builtin-memset",
	"-ffile-prefix-map=SRC=.", "-Wl,--no-entry", "-Wl,--export-dynamic", "-Wl,--strip-all",
	"-Wl,-z,stack-size=65536", "-I", "wasm/guest/c",
}

func main() {
	out := flag.String("o", ".", "output directory")
	only := flag.String("only", "", "comma-separated analyzers to build (default all)")
	flag.Parse()
	root, err := repoRoot()
	if err != nil {
		fail(err)
	}
	outDir, err := filepath.Abs(*out)
	if err != nil {
		fail(err)
	}
	for _, a := range analyzers {
		if *only != "" && !strings.Contains(","+*only+",", ","+a.name+",") {
			continue
		}
		dst := filepath.Join(outDir, a.name+".wasm")
		if err := build(root, a, dst); err != nil {
			fail(fmt.Errorf("%s: %w", a.name, err))
		}
	}
	if *only == "" {
		if err := os.WriteFile(filepath.Join(outDir, "TOOLCHAIN"), []byte(runtime.Version()+"\n"), 0o644); err != nil {
			fail(err)
		}
	}
}

func build(root string, a analyzer, dst string) error {
	var cmd *exec.Cmd
	switch a.lang {
	case "go":
		cmd = exec.Command("go", "build", "-buildmode=c-shared", "-trimpath", "-buildvcs=false",
			"-ldflags=-s -w -buildid=", "-o", dst, "./"+a.src)
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0", "GOFLAGS=", "GOWASM=")
	case "c":
		srcs, err := filepath.Glob(filepath.Join(root, a.src, "*.c"))
		if err != nil || len(srcs) == 0 {
			return fmt.Errorf("no C sources in %s", a.src)
		}
		args := make([]string, 0, len(cFlags)+len(srcs)+8)
		for _, f := range cFlags {
			args = append(args, strings.ReplaceAll(f, "SRC", root))
		}
		for _, s := range srcs {
			rel, _ := filepath.Rel(root, s)
			args = append(args, rel)
		}
		args = append(args, "wasm/guest/c/wring.c", "-o", dst)
		cmd = exec.Command("clang", args...)
	}
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%v: %w\n%s", cmd.Args, err, stderr.String())
	}
	return nil
}

func repoRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", err
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("not inside the module")
	}
	return filepath.Dir(mod), nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gen:", err)
	os.Exit(1)
}
