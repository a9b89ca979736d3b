//go:build linux

package linux

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// sigBlocked reports whether the calling thread blocks signal sig, from
// /proc/thread-self/status (the kernel's view, not the one we asked for).
func sigBlocked(t *testing.T, sig int) bool {
	t.Helper()
	b, err := os.ReadFile("/proc/thread-self/status")
	if err != nil {
		t.Skipf("no /proc/thread-self/status: %v", err)
	}
	for l := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(l, "SigBlk:"); ok {
			m, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				t.Fatalf("SigBlk %q: %v", v, err)
			}
			return m&(1<<(sig-1)) != 0
		}
	}
	t.Fatal("no SigBlk line")
	return false
}

func TestBlockPreemptSignal(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	const sigurg = 23
	if sigBlocked(t, sigurg) {
		t.Fatal("SIGURG blocked before the test")
	}
	if was, err := BlockPreemptSignal(); err != nil || was {
		t.Fatalf("BlockPreemptSignal: was blocked %v, %v", was, err)
	}
	if !sigBlocked(t, sigurg) {
		t.Fatal("SIGURG not blocked after BlockPreemptSignal")
	}
	if was, err := BlockPreemptSignal(); err != nil || !was {
		t.Fatalf("BlockPreemptSignal again: was blocked %v, %v", was, err)
	}
	if err := UnblockPreemptSignal(); err != nil {
		t.Fatal(err)
	}
	if sigBlocked(t, sigurg) {
		t.Fatal("SIGURG still blocked after UnblockPreemptSignal")
	}
	if n := testing.AllocsPerRun(100, func() {
		BlockPreemptSignal()
		UnblockPreemptSignal()
	}); n != 0 {
		t.Fatalf("%v allocations per block and unblock", n)
	}
}
