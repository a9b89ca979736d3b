//go:build !linux

package main

import (
	"bytes"
	"runtime"
	"strings"
	"testing"
)

// TestCaptureOffLinux: off Linux, wring capture and wring capture -D fail
// with one line naming the platform.
func TestCaptureOffLinux(t *testing.T) {
	for _, args := range [][]string{{"capture", "-i", "en0"}, {"capture", "-D"}} {
		var stderr bytes.Buffer
		code := run(args, bytes.NewReader(nil), &bytes.Buffer{}, &stderr)
		msg := strings.TrimRight(stderr.String(), "\n")
		if code != 1 || strings.Contains(msg, "\n") || !strings.Contains(msg, "live capture needs linux") ||
			!strings.Contains(msg, runtime.GOOS+"/"+runtime.GOARCH) {
			t.Errorf("wring %s: exit %d, %q: want exit 1 and one line naming %s/%s", strings.Join(args, " "), code, msg, runtime.GOOS, runtime.GOARCH)
		}
	}
}
