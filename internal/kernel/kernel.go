package kernel

import (
	"fmt"

	"github.com/wringcap/wring/internal/linux"
)

// ErrNotSupported is returned off Linux (wrapped with what needs Linux);
// it is wring's one not-supported value, linux.ErrNotSupported.
var ErrNotSupported = linux.ErrNotSupported

// errNotLinux is what every entry point returns off Linux.
var errNotLinux = fmt.Errorf("classic socket filters need linux: %w", ErrNotSupported)
