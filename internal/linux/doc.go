// Package linux is wring's one door to the operating system's raw
// interfaces: the x/sys/unix names the capture paths and the privileged
// test helpers use, typed helpers for the socket options and ioctls they
// issue, and the capability checks of the capture modes. No other package
// imports x/sys/unix (internal/archtest checks it), as in cilium/ebpf,
// whose internal/unix plays the same part.
//
// Everything but ErrNotSupported exists only on Linux; packages that use
// it put their Linux code in _linux.go files (or behind a linux build
// constraint) and give other platforms a version that returns
// ErrNotSupported.
package linux

import "errors"

// ErrNotSupported is the one error wring returns when the platform, the
// kernel or a driver cannot do what was asked: live capture off Linux, an
// AF_XDP binding a driver refuses, a kernel without a feature. Match it with
// errors.Is; capture re-exports it as capture.ErrNotSupported.
var ErrNotSupported = errors.New("not supported")
