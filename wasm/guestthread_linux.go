//go:build linux

package wasm

import (
	"runtime"

	"github.com/wringcap/wring/internal/linux"
)

// enterGuest pins the goroutine to its thread and blocks the runtime's
// preemption signal on it; leaveGuest undoes both (see guestthread.go).
// held reports that the signal was blocked already (an enclosing
// enterGuest): leaveGuest then leaves it blocked. rt_sigprocmask on a valid
// set cannot fail; were it to, the call runs as it would without the mask.
func enterGuest() (held bool) {
	runtime.LockOSThread()
	held, _ = linux.BlockPreemptSignal()
	return held
}

func leaveGuest(held bool) {
	if !held {
		_ = linux.UnblockPreemptSignal()
	}
	runtime.UnlockOSThread()
}
