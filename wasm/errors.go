package wasm

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error the host returns or logs about an analyzer is
// an *Error that wraps one of them.
var (
	ErrTooLarge       = errors.New("module larger than the size cap")
	ErrCompile        = errors.New("module does not compile")
	ErrLoadTimeout    = errors.New("loading took longer than the load timeout")
	ErrCompileTimeout = ErrLoadTimeout // the old name of ErrLoadTimeout
	ErrBudget         = errors.New("module over the load memory budget")
	ErrTimeout        = errors.New("call exceeded its wall-clock limit")
	ErrInterrupted    = errors.New("interrupted: the host is stopping")
	ErrConfig         = errors.New("configuration not made by NewConfig")
	ErrMissingExport  = errors.New("missing or mistyped export")
	ErrVersion        = errors.New("unsupported ABI version")
	ErrImport         = errors.New("import not provided by the host")
	ErrCapability     = errors.New("import needs a capability the operator did not grant")
	ErrInit           = errors.New("initialisation failed")
	ErrABI            = errors.New("ABI violation")
	ErrFuel           = errors.New("fuel exhausted")
	ErrTrap           = errors.New("trap")
	ErrGuest          = errors.New("guest returned an error")
	ErrQuarantined    = errors.New("analyzer quarantined after repeated failures")
	ErrUnknown        = errors.New("no such analyzer")
	ErrClosed         = errors.New("host closed")
)

// Error is an error about one analyzer: which one, what the host was doing,
// and why it failed.
type Error struct {
	Analyzer string // the analyzer's name
	Op       string // "load", "compile", "instantiate", "init", "wring_process", "wring_tick", "reload", or a host import's name
	Err      error  // wraps one of the sentinel errors
}

func (e *Error) Error() string {
	return fmt.Sprintf("analyzer %q: %s: %v", e.Analyzer, e.Op, e.Err)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// errStackOverflow is the trap of a call past the call stack budget
// (Config.WithCallStackSlots); it is a kind of ErrTrap.
var errStackOverflow = fmt.Errorf("%w: call stack overflow: the call stack budget is spent", ErrTrap)

func errorf(name, op string, sentinel error, format string, args ...any) *Error {
	if format == "" {
		return &Error{Analyzer: name, Op: op, Err: sentinel}
	}
	return &Error{Analyzer: name, Op: op, Err: fmt.Errorf("%w: "+format, append([]any{sentinel}, args...)...)}
}

// callError is the error of a guest call that failed with kind: err itself
// when it already says so (a host import's refusal), else err wrapped.
func callError(name, op string, kind, err error) *Error {
	if errors.Is(err, kind) {
		return &Error{Analyzer: name, Op: op, Err: err}
	}
	return errorf(name, op, kind, "%w", err)
}
