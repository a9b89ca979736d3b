//go:build linux

package linux

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// preemptSet holds SIGURG only: the signal the Go runtime sends a thread to
// preempt the goroutine it runs.
var preemptSet = func() (s unix.Sigset_t) {
	n := uint(unix.SIGURG) - 1
	s.Val[n/64] |= 1 << (n % 64)
	return s
}()

// BlockPreemptSignal blocks SIGURG on the calling thread, and
// UnblockPreemptSignal unblocks it again. Between the two the runtime's
// preemption requests stay pending (at most one) instead of interrupting
// the thread; a pending one is delivered at the unblock. The caller must
// hold the thread (runtime.LockOSThread) from the block to the unblock, or
// the mask stays behind on a thread that then runs other goroutines.
// Neither allocates; both are one rt_sigprocmask system call.
func BlockPreemptSignal() error { return preemptMask(unix.SIG_BLOCK) }

// UnblockPreemptSignal undoes BlockPreemptSignal on the calling thread.
func UnblockPreemptSignal() error { return preemptMask(unix.SIG_UNBLOCK) }

func preemptMask(how int) error {
	// The kernel's sigset is 8 bytes on every Linux architecture Go runs on.
	_, _, e := unix.RawSyscall6(unix.SYS_RT_SIGPROCMASK, uintptr(how), uintptr(unsafe.Pointer(&preemptSet)), 0, 8, 0, 0)
	if e != 0 {
		return e
	}
	return nil
}
