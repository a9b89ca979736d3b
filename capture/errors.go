package capture

import "github.com/wringcap/wring/internal/linux"

// ErrNotSupported is the error every capture package wraps when the
// platform, the kernel or a driver cannot do what was asked: live capture
// off Linux, an AF_XDP mode a driver refuses. It is one value, whichever
// package returns it (afpacket.ErrNotSupported, afxdp.ErrNotSupported and
// live.ErrNotSupported are the same), so errors.Is matches any of them.
var ErrNotSupported = linux.ErrNotSupported
