//go:build !linux

// Package cputime reads the calling thread's CPU time, for benchmarks that
// report CPU time beside wall time.
package cputime

import "time"

// Thread falls back to wall time where no per-thread CPU clock is read.
func Thread() int64 { return time.Now().UnixNano() }
