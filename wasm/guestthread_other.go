//go:build !linux

package wasm

// enterGuest and leaveGuest change nothing off Linux (see guestthread.go).
func enterGuest() {}

func leaveGuest() {}
