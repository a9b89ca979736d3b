//go:build !linux

package fuel

import "time"

// threadCPU falls back to wall time where no per-thread CPU clock is read.
func threadCPU() int64 { return time.Now().UnixNano() }
