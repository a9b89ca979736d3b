package verifier

import "fmt"

// ErrorCode names the rule a rejected program breaks. Every code is itself an
// error, so callers branch with errors.Is(err, verifier.ErrDivByZero) on the
// *Error that Verify returns.
type ErrorCode int

// The rules Verify enforces. All but ErrRecordNotAllowed, ErrRecordOffset
// and ErrAncillaryNotAllowed are rules of Linux's classic checker
// (bpf_check_basics_ok, bpf_check_classic, check_load_and_stores) or of
// its conversion to eBPF (ErrJumpTooFar); spec/VERIFIER.md lists them.
const (
	// ErrEmpty: the program has no instruction.
	ErrEmpty ErrorCode = iota + 1
	// ErrTooLong: the program has more than spec.MaxInstructions instructions.
	ErrTooLong
	// ErrInvalidOpcode: the 16-bit opcode is not one Linux accepts
	// (unknown class/mode/size combination or unused bits set).
	ErrInvalidOpcode
	// ErrJumpOutOfRange: a jump lands on or past the end of the program.
	ErrJumpOutOfRange
	// ErrBackwardJump: a ja whose offset wraps around to an earlier
	// instruction (libpcap's protochain loop). Linux rejects it as out of
	// range; the verifier names it so callers can tell loops apart.
	ErrBackwardJump
	// ErrNoReturn: the last instruction is not a return.
	ErrNoReturn
	// ErrScratchIndex: a scratch memory index is 16 or more.
	ErrScratchIndex
	// ErrDivByZero: a division or modulo by the constant 0.
	ErrDivByZero
	// ErrShiftTooLarge: a left or right shift by a constant of 32 or more.
	ErrShiftTooLarge
	// ErrUninitScratch: a scratch slot is read where some path reaching the
	// read has not written it.
	ErrUninitScratch
	// ErrUnknownExtension: an absolute load in Linux's ancillary range
	// (spec.AncillaryBase and above) at an offset Linux does not know.
	ErrUnknownExtension
	// ErrAncillaryNotAllowed: an ancillary load while Options.NoAncillary is set.
	ErrAncillaryNotAllowed
	// ErrJumpTooFar: a ja that skips so much code that Linux, which converts
	// classic programs to eBPF before running them, cannot encode the jump
	// in eBPF's signed 16-bit offset (bpf_convert_filter rejects it).
	ErrJumpTooFar
	// ErrRecordNotAllowed: a load from the parse record range without
	// Options.Record.
	ErrRecordNotAllowed
	// ErrRecordOffset: a parse record load that reads past the end of the
	// record.
	ErrRecordOffset
)

var codeText = map[ErrorCode]string{
	ErrEmpty:               "empty program",
	ErrTooLong:             "program too long",
	ErrInvalidOpcode:       "invalid opcode",
	ErrJumpOutOfRange:      "jump out of range",
	ErrBackwardJump:        "backward jump",
	ErrNoReturn:            "no return at end",
	ErrScratchIndex:        "scratch index out of range",
	ErrDivByZero:           "division by zero",
	ErrShiftTooLarge:       "shift too large",
	ErrUninitScratch:       "uninitialised scratch read",
	ErrUnknownExtension:    "unknown extension",
	ErrAncillaryNotAllowed: "ancillary load not allowed",
	ErrJumpTooFar:          "jump too far",
	ErrRecordNotAllowed:    "record load not allowed",
	ErrRecordOffset:        "record load out of range",
}

// Error returns the rule's name.
func (c ErrorCode) Error() string {
	if s, ok := codeText[c]; ok {
		return s
	}
	return fmt.Sprintf("verifier error %d", int(c))
}

// String returns the rule's name.
func (c ErrorCode) String() string { return c.Error() }

// Error is a rejected program: the instruction (PC) and the rule it breaks.
// It unwraps to its Code, so errors.Is(err, ErrDivByZero) works.
type Error struct {
	// Code is the rule broken.
	Code ErrorCode
	// PC is the index of the offending instruction; for ErrEmpty it is 0
	// and for ErrTooLong the first instruction past the limit.
	PC int
	// Reason says what is wrong at PC, in words naming the values involved.
	Reason string
}

// Error formats the error as "PC 7: <rule>: <reason>".
func (e *Error) Error() string {
	if e.Reason == "" {
		return fmt.Sprintf("PC %d: %s", e.PC, e.Code)
	}
	return fmt.Sprintf("PC %d: %s: %s", e.PC, e.Code, e.Reason)
}

// Unwrap returns the Code, for errors.Is.
func (e *Error) Unwrap() error { return e.Code }

func errorf(code ErrorCode, pc int, format string, args ...any) *Error {
	return &Error{Code: code, PC: pc, Reason: fmt.Sprintf(format, args...)}
}
