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
// BlockPreemptSignal reports whether the signal was blocked already (a
// caller that nests blocks unblocks only when it was not). Neither
// allocates; each is one rt_sigprocmask system call.
func BlockPreemptSignal() (was bool, err error) {
	var old unix.Sigset_t
	if err := unix.PthreadSigmask(unix.SIG_BLOCK, &preemptSet, &old); err != nil {
		return false, err
	}
	n := uint(unix.SIGURG) - 1
	return old.Val[n/64]&(1<<(n%64)) != 0, nil
}

// UnblockPreemptSignal undoes BlockPreemptSignal on the calling thread.
func UnblockPreemptSignal() error {
	return unix.PthreadSigmask(unix.SIG_UNBLOCK, &preemptSet, nil)
}
