package pcapfile

import (
	"errors"
	"fmt"
)

// Sentinel errors, matched with errors.Is through *Error.
var (
	// ErrFormat: the file is neither pcap nor pcapng.
	ErrFormat = errors.New("unknown file format")
	// ErrTruncated: the file ends inside a header or a record.
	ErrTruncated = errors.New("truncated capture file")
	// ErrVersion: a pcap or pcapng version libpcap does not read.
	ErrVersion = errors.New("unsupported version")
	// ErrCapLen: a record's captured length is larger than the file allows.
	ErrCapLen = errors.New("invalid packet capture length")
	// ErrBlock: a pcapng block or option is malformed.
	ErrBlock = errors.New("malformed pcapng block")
	// ErrInterface: pcapng interfaces that libpcap cannot present as one
	// stream (a packet on an unknown interface, a second link type).
	ErrInterface = errors.New("unsupported pcapng interface")
)

// Error is a problem at a byte offset of a capture file.
type Error struct {
	File   string // the file's name as given to Open or NewReader
	Offset int64  // byte offset of the header, record or block at fault
	Err    error  // the cause, wrapping one of the sentinels
}

// Error formats the error as "file: offset N: cause".
func (e *Error) Error() string {
	return fmt.Sprintf("%s: offset %d: %v", e.File, e.Offset, e.Err)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// errf builds an Error at off whose cause wraps sentinel.
func (r *Reader) errf(off int64, sentinel error, format string, args ...any) error {
	return &Error{File: r.name, Offset: off, Err: fmt.Errorf("%w: "+format, append([]any{sentinel}, args...)...)}
}
