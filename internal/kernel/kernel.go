package kernel

import "errors"

// ErrNotSupported is returned off Linux.
var ErrNotSupported = errors.New("classic socket filters need linux")
