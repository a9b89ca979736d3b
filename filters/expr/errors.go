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
	// ErrTooComplex marks an expression over one of the input bounds
	// (MaxTokens, MaxTerms, MaxNesting), refused before it is compiled.
	ErrTooComplex = errors.New("expression too complex")
)

// Bounds on an expression, checked while it is lexed, before any syntax
// tree or code is built. libpcap has no such constants: its parser stack
// holds 10,000 entries (9,995 nested parentheses parse with tcpdump 4.99
// and libpcap 1.10.3, 10,000 do not), and its code generator runs out of
// its arena, or time, at a few thousand primitives (3,562 "tcp or ..."
// terms, 1,660 "host" terms) and at tens of thousands of arithmetic
// operators (20,000 "+1" compile). Each bound is above what libpcap
// compiles.
const (
	// MaxTokens is the most tokens (words, numbers, addresses, operators)
	// an expression may have.
	MaxTokens = 100_000
	// MaxTerms is the most primitives an expression may join with "and"
	// and "or".
	MaxTerms = 10_000
	// MaxNesting is the deepest nesting of parentheses and prefix
	// operators ("not", unary "-") an expression may have.
	MaxNesting = 20_000
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
