//go:build !linux

package main

// taiOffset returns 0: the kernel rules run on Linux only.
func taiOffset() int64 { return 0 }
