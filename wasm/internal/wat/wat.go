// Package wat builds WebAssembly text into binary modules with wabt's
// wat2wasm, for tests and benchmarks of the host.
package wat

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// ErrNoTool is returned when wat2wasm is not installed.
var ErrNoTool = errors.New("wat2wasm (wabt) is not installed")

// Compile converts WebAssembly text to a binary module.
func Compile(src string) ([]byte, error) {
	tool, err := exec.LookPath("wat2wasm")
	if err != nil {
		return nil, ErrNoTool
	}
	dir, err := os.MkdirTemp("", "wat")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	in := filepath.Join(dir, "m.wat")
	out := filepath.Join(dir, "m.wasm")
	if err := os.WriteFile(in, []byte(src), 0o644); err != nil {
		return nil, err
	}
	var stderr bytes.Buffer
	cmd := exec.Command(tool, "--enable-all", "-o", out, in)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("wat2wasm: %w: %s", err, stderr.String())
	}
	return os.ReadFile(out)
}

// CompileFile converts a .wat file to a binary module.
func CompileFile(path string) ([]byte, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Compile(string(src))
}
