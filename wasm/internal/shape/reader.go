package shape

import (
	"errors"
	"fmt"
)

// errShort is returned when a section, a body or the module ends in the
// middle of a value.
var errShort = errors.New("unexpected end")

// offsetError is a decoding error at a byte offset of the module.
type offsetError struct {
	at  int
	err error
}

func (e *offsetError) Error() string { return fmt.Sprintf("offset %d: %v", e.at, e.err) }
func (e *offsetError) Unwrap() error { return e.err }

// reader decodes the primitive encodings of the binary format between pos
// and end. The first error sticks and later reads return zero values.
type reader struct {
	b        []byte
	pos, end int
	err      error
}

func (r *reader) fail(err error) {
	if r.err == nil {
		r.err = &offsetError{r.pos, err}
	}
}

func (r *reader) byte() byte {
	if r.err != nil {
		return 0
	}
	if r.pos >= r.end {
		r.fail(errShort)
		return 0
	}
	c := r.b[r.pos]
	r.pos++
	return c
}

func (r *reader) bytes(n int) {
	if r.err != nil {
		return
	}
	if n < 0 || n > r.end-r.pos {
		r.fail(fmt.Errorf("%d bytes, %d left: %w", n, r.end-r.pos, errShort))
		return
	}
	r.pos += n
}

// u32 reads an unsigned LEB128 value of at most 32 bits.
func (r *reader) u32() uint32 {
	var v uint32
	for shift := uint(0); ; shift += 7 {
		c := r.byte()
		if r.err != nil {
			return 0
		}
		if shift == 28 && c&0x70 != 0 {
			r.fail(errors.New("u32 overflows 32 bits"))
			return 0
		}
		v |= uint32(c&0x7f) << shift
		if c&0x80 == 0 {
			return v
		}
		if shift >= 28 {
			r.fail(errors.New("u32 longer than 5 bytes"))
			return 0
		}
	}
}

// skipLEB skips a LEB128 value of at most maxBytes bytes.
func (r *reader) skipLEB(maxBytes int) {
	for i := 0; i < maxBytes; i++ {
		c := r.byte()
		if r.err != nil || c&0x80 == 0 {
			return
		}
	}
	r.fail(fmt.Errorf("integer longer than %d bytes", maxBytes))
}

// vec reads a vector length whose elements take at least minSize bytes
// each, and fails when they cannot fit in what is left: a declared length
// is never trusted further than the bytes behind it.
func (r *reader) vec(minSize int) uint32 {
	at := r.pos
	n := r.u32()
	if r.err == nil && uint64(n)*uint64(minSize) > uint64(r.end-r.pos) {
		r.err = &offsetError{at, fmt.Errorf("vector of %d elements in %d bytes", n, r.end-r.pos)}
		return 0
	}
	return n
}

// name skips a length-prefixed byte string.
func (r *reader) name() { r.bytes(int(r.vec(1))) }

// limits reads limits and returns the minimum.
func (r *reader) limits() uint32 {
	flags := r.byte()
	switch flags {
	case 0, 2:
		return r.u32()
	case 1, 3:
		min := r.u32()
		r.u32()
		return min
	default:
		r.fail(fmt.Errorf("unsupported limits flags 0x%02x", flags))
		return 0
	}
}
