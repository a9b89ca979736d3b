//go:build linux

package kernel

import (
	"os"
	"testing"

	"github.com/wringcap/wring/internal/corpus"
)

// needRoot stops the test unless the process can attach socket filters in
// a private network namespace (root).
func needRoot(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() != 0 {
		corpus.Unavailable(tb, "the kernel oracle needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN for a private network namespace)")
	}
}
