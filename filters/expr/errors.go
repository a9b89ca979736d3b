package expr

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors that callers can test for with errors.Is.
var (
	// ErrSyntax marks an expression that does not parse.
	ErrSyntax = errors.New("syntax error")
	// ErrUnsupported marks a primitive that is valid but cannot be used
	// with the chosen link type or options.
	ErrUnsupported = errors.New("not supported")
	// ErrNoResolver marks a host or network name used while name
	// resolution is off.
	ErrNoResolver = errors.New("name resolution is off")
	// ErrTooLong marks a program longer than spec.MaxInstructions; it
	// comes wrapped with ErrUnsupported.
	ErrTooLong = errors.New("program too long")
)

// Error is a compile error with the position of the offending text.
type Error struct {
	// Pos is the byte offset (0-based) in the expression where the problem
	// starts.
	Pos int
	// Len is the length in bytes of the offending text (at least 1 when the
	// expression is not empty).
	Len int
	// Msg describes the problem, in lower case.
	Msg string
	// Err is an optional sentinel (ErrSyntax, ErrUnsupported,
	// ErrNoResolver) the error wraps.
	Err error
}

// Error returns the message with its column.
func (e *Error) Error() string { return fmt.Sprintf("column %d: %s", e.Pos+1, e.Msg) }

// Unwrap returns the sentinel the error wraps, if any.
func (e *Error) Unwrap() error { return e.Err }

func errAt(pos, n int, format string, args ...any) *Error {
	return &Error{Pos: pos, Len: n, Msg: fmt.Sprintf(format, args...), Err: ErrSyntax}
}

// Caret renders src on one line and, under it, a caret line marking the
// offending bytes of err (^ under the first byte, ~ under the rest). Tabs
// and newlines in src are shown as spaces so the columns line up. It
// returns "" when err is not an *Error.
func Caret(src string, err error) string {
	var e *Error
	if !errors.As(err, &e) {
		return ""
	}
	line := strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, src)
	pos := e.Pos
	if pos > len(line) {
		pos = len(line)
	}
	n := e.Len
	if n < 1 {
		n = 1
	}
	if pos+n > len(line) && pos < len(line) {
		n = len(line) - pos
	}
	var b strings.Builder
	b.WriteString(line)
	b.WriteByte('\n')
	b.WriteString(strings.Repeat(" ", pos))
	b.WriteByte('^')
	if n > 1 {
		b.WriteString(strings.Repeat("~", n-1))
	}
	return b.String()
}
