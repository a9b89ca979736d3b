package ebpf

import (
	"errors"
	"fmt"
)

// Sentinel errors; callers branch on them with errors.Is.
var (
	// ErrOptions: the Options are incomplete or inconsistent.
	ErrOptions = errors.New("invalid translation options")
	// ErrUnsupported: the program uses something the target cannot see
	// (an ancillary load with no equivalent there, or a parse-record load).
	ErrUnsupported = errors.New("not available on this target")
	// ErrTooLarge: the translation does not fit eBPF's jump offsets.
	ErrTooLarge = errors.New("translation too large")
)

// Error is a translation failure at one instruction of the classic program.
type Error struct {
	PC     int    // the instruction that cannot be translated
	Target Target // the target asked for
	What   string // what the instruction needs, e.g. "ancillary load rxhash"
	Err    error  // ErrUnsupported, or another cause
}

// Error returns "pc N: what: cause (target target)".
func (e *Error) Error() string {
	return fmt.Sprintf("pc %d: %s: %v (%s target)", e.PC, e.What, e.Err, e.Target)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }
