package shape

import (
	"errors"
	"fmt"
)

// ErrLimit is wrapped by every *Error: the module is well formed as far as
// it was read, and one of its quantities exceeds a limit.
var ErrLimit = errors.New("module shape exceeds a limit")

// ErrMalformed is wrapped by every error about a module that does not
// decode: a bad header, a section or vector running past its end, an unknown
// section, opcode or encoding.
var ErrMalformed = errors.New("malformed module")

// Error reports a quantity past its limit and where it was found.
type Error struct {
	Limit   string // the Limits field, e.g. "Nesting"
	What    string // what it counts, e.g. "nesting depth"
	Value   uint64 // the quantity when it passed the limit (a running count or sum stops there)
	Max     uint64 // the limit
	Section string // the section, e.g. "code"
	Func    int64  // the function index (imported functions first), or -1
	Offset  int    // byte offset in the module
}

func (e *Error) Error() string {
	where := e.Section + " section"
	if e.Func >= 0 {
		where += fmt.Sprintf(", function %d", e.Func)
	}
	return fmt.Sprintf("%s, offset %d: %s %d exceeds the limit of %d (Limits.%s)",
		where, e.Offset, e.What, e.Value, e.Max, e.Limit)
}

// Unwrap returns ErrLimit.
func (e *Error) Unwrap() error { return ErrLimit }
