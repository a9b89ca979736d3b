//go:build linux

package wasm

import "golang.org/x/sys/unix"

// ThreadCPU returns the CPU time of the calling thread in nanoseconds
// (CLOCK_THREAD_CPUTIME_ID): with the goroutine locked to its thread, time
// the shared machine gives to other processes does not inflate it. Exported
// to the package's external tests only.
func ThreadCPU() int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0
	}
	return ts.Nano()
}
