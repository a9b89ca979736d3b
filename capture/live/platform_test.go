package live

import (
	"errors"
	"strings"
	"testing"
)

// TestPlatformError checks the line wring capture prints off Linux: one
// line, naming the platform, matching ErrNotSupported. (Off Linux, Open,
// LinkTypeOf and Interfaces return exactly this error with runtime.GOOS and
// runtime.GOARCH; TestOpenOffLinux checks that there.)
func TestPlatformError(t *testing.T) {
	for _, p := range [][2]string{{"darwin", "arm64"}, {"windows", "amd64"}, {"freebsd", "amd64"}} {
		err := platformError("capture en0", p[0], p[1])
		msg := err.Error()
		if strings.Contains(msg, "\n") {
			t.Errorf("%s/%s: %q is more than one line", p[0], p[1], msg)
		}
		if !strings.Contains(msg, "this is "+p[0]+"/"+p[1]) || !strings.HasPrefix(msg, "capture en0: live capture needs linux") {
			t.Errorf("%s/%s: %q does not name the device, the need and the platform", p[0], p[1], msg)
		}
		if !errors.Is(err, ErrNotSupported) {
			t.Errorf("%s/%s: %v does not match ErrNotSupported", p[0], p[1], err)
		}
	}
}
