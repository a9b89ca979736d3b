//go:build !linux

package live

import (
	"errors"
	"runtime"
	"strings"
	"testing"
)

// TestOpenOffLinux: every live entry point says it is Linux-only, in one
// line naming this platform.
func TestOpenOffLinux(t *testing.T) {
	_, err1 := Open(Device{Name: "en0", Queue: -1}, Options{})
	_, err2 := LinkTypeOf(Device{Name: "en0", Queue: -1})
	_, err3 := Interfaces()
	for _, err := range []error{err1, err2, err3} {
		if !errors.Is(err, ErrNotSupported) || !strings.Contains(err.Error(), runtime.GOOS+"/"+runtime.GOARCH) || strings.Contains(err.Error(), "\n") {
			t.Errorf("got %v: want one line naming %s/%s, matching ErrNotSupported", err, runtime.GOOS, runtime.GOARCH)
		}
	}
}
