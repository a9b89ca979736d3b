//go:build !linux

package wasm

import "time"

// ThreadCPU falls back to wall time where no per-thread CPU clock is read.
func ThreadCPU() int64 { return time.Now().UnixNano() }
