//go:build !linux

package kernel

import "github.com/wringcap/wring/spec"

// Checker asks the kernel whether it accepts programs (Linux only).
type Checker struct{}

// NewChecker returns ErrNotSupported off Linux.
func NewChecker() (*Checker, error) { return nil, errNotLinux }

// Attach returns ErrNotSupported off Linux.
func (c *Checker) Attach(prog spec.Program) error { return errNotLinux }

// Close does nothing off Linux.
func (c *Checker) Close() error { return nil }

// Private returns false off Linux.
func (c *Checker) Private() bool { return false }

// Attach returns ErrNotSupported off Linux.
func Attach(prog spec.Program) error { return errNotLinux }

// Runner runs filters in the kernel (Linux only).
type Runner struct{}

// NewRunner returns ErrNotSupported off Linux.
func NewRunner() (*Runner, error) { return nil, errNotLinux }

// SetFilter returns ErrNotSupported off Linux.
func (r *Runner) SetFilter(prog spec.Program) error { return errNotLinux }

// Run returns ErrNotSupported off Linux.
func (r *Runner) Run(pkt []byte) (int, bool, error) { return 0, false, errNotLinux }

// Close does nothing off Linux.
func (r *Runner) Close() error { return nil }
