//go:build linux

package linux

import "golang.org/x/sys/unix"

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
	return unix.PthreadSigmask(how, &preemptSet, nil)
}
