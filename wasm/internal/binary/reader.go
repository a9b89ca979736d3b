// Package binary decodes the primitive encodings of the WebAssembly binary
// format for the packages that read modules before wazero does: shape,
// which checks a module against the host's limits, and fuel, which
// rewrites it. It knows LEB128 integers, vectors, names, limits and how
// far each instruction's immediates reach; what a module means is theirs.
//
// A Reader's first error sticks: later reads return zero values, so a
// caller checks Err once per construct. Every read is bounded by the
// reader's window, and a declared vector length is never trusted further
// than the bytes behind it.
package binary

import (
	"errors"
	"fmt"
)

// ErrShort is the error (wrapped in an *OffsetError) of a read past the end
// of the reader's window: a section, a body or the module ends in the
// middle of a value.
var ErrShort = errors.New("unexpected end")

// OffsetError is a decoding error at a byte offset of the decoded bytes.
type OffsetError struct {
	At  int
	Err error
}

func (e *OffsetError) Error() string { return fmt.Sprintf("offset %d: %v", e.At, e.Err) }
func (e *OffsetError) Unwrap() error { return e.Err }

// Reader decodes B between Pos and End.
type Reader struct {
	B        []byte
	Pos, End int
	Err      error
}

// At returns a reader of b from pos to its end.
func At(b []byte, pos int) Reader { return Reader{B: b, Pos: pos, End: len(b)} }

// Window returns a reader of b from pos to end.
func Window(b []byte, pos, end int) Reader { return Reader{B: b, Pos: pos, End: end} }

// Fail records err at the current position unless an error is recorded.
func (r *Reader) Fail(err error) {
	if r.Err == nil {
		r.Err = &OffsetError{r.Pos, err}
	}
}

// Done reports whether an error is recorded or the window is consumed.
func (r *Reader) Done() bool { return r.Err != nil || r.Pos >= r.End }

// Byte reads one byte.
func (r *Reader) Byte() byte {
	if r.Err != nil {
		return 0
	}
	if r.Pos >= r.End {
		r.Fail(ErrShort)
		return 0
	}
	c := r.B[r.Pos]
	r.Pos++
	return c
}

// Bytes reads n bytes and returns them (a subslice of B, nil on error).
func (r *Reader) Bytes(n int) []byte {
	if r.Err != nil {
		return nil
	}
	if n < 0 || n > r.End-r.Pos {
		r.Fail(fmt.Errorf("%d bytes, %d left: %w", n, r.End-r.Pos, ErrShort))
		return nil
	}
	s := r.B[r.Pos : r.Pos+n]
	r.Pos += n
	return s
}

// U32 reads an unsigned LEB128 value of at most 32 bits.
func (r *Reader) U32() uint32 {
	var v uint32
	for shift := uint(0); ; shift += 7 {
		c := r.Byte()
		if r.Err != nil {
			return 0
		}
		if shift == 28 && c&0x70 != 0 {
			r.Fail(errors.New("u32 overflows 32 bits"))
			return 0
		}
		v |= uint32(c&0x7f) << shift
		if c&0x80 == 0 {
			return v
		}
		if shift >= 28 {
			r.Fail(errors.New("u32 longer than 5 bytes"))
			return 0
		}
	}
}

// SkipLEB skips a signed or unsigned LEB128 value of at most maxBytes
// bytes.
func (r *Reader) SkipLEB(maxBytes int) {
	for i := 0; i < maxBytes; i++ {
		c := r.Byte()
		if r.Err != nil || c&0x80 == 0 {
			return
		}
	}
	r.Fail(fmt.Errorf("integer longer than %d bytes", maxBytes))
}

// Vec reads a vector length whose elements take at least minSize bytes
// each, and fails when they cannot fit in what is left.
func (r *Reader) Vec(minSize int) uint32 {
	at := r.Pos
	n := r.U32()
	if r.Err == nil && uint64(n)*uint64(minSize) > uint64(r.End-r.Pos) {
		r.Err = &OffsetError{at, fmt.Errorf("vector of %d elements in %d bytes", n, r.End-r.Pos)}
		return 0
	}
	return n
}

// Name reads a length-prefixed byte string.
func (r *Reader) Name() []byte { return r.Bytes(int(r.Vec(1))) }

// Limits reads a table's or memory's limits and returns the minimum.
func (r *Reader) Limits() uint32 {
	flags := r.Byte()
	switch flags {
	case 0, 2:
		return r.U32()
	case 1, 3:
		min := r.U32()
		r.U32()
		return min
	default:
		r.Fail(fmt.Errorf("unsupported limits flags 0x%02x", flags))
		return 0
	}
}
