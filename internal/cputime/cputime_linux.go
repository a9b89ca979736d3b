//go:build linux

// Package cputime reads the calling thread's CPU time, for benchmarks that
// report CPU time beside wall time: with the goroutine locked to its
// thread, time the shared machine gives to other processes does not
// inflate it.
package cputime

import "github.com/wringcap/wring/internal/linux"

// Thread returns the CPU time the calling thread has used, in nanoseconds
// (CLOCK_THREAD_CPUTIME_ID), or 0 when the clock cannot be read.
func Thread() int64 {
	var ts linux.Timespec
	if err := linux.ClockGettime(linux.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0
	}
	return ts.Nano()
}
