//go:build linux

package wasm

import (
	"runtime"

	"github.com/wringcap/wring/internal/linux"
)

// enterGuest pins the goroutine to its thread and blocks the runtime's
// preemption signal on it; leaveGuest undoes both (see guestthread.go).
// rt_sigprocmask on a valid set cannot fail; were it to, the call runs as
// it would without the mask.
func enterGuest() {
	runtime.LockOSThread()
	_ = linux.BlockPreemptSignal()
}

func leaveGuest() {
	_ = linux.UnblockPreemptSignal()
	runtime.UnlockOSThread()
}
