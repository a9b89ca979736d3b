// Package pcapfile reads and writes capture files: pcap (micro- and
// nanosecond, both byte orders, libpcap's variants) and pcapng (several
// interfaces, any timestamp resolution), with tcpdump-style output rotation.
//
// The reader follows libpcap 1.10's savefile code rule for rule, so that a
// file is read exactly as tcpdump -r reads it: the same packets, lengths and
// timestamps, the same snapshot-length adjustments, and an error where
// libpcap gives one. Errors are *Error values naming the file and the byte
// offset of the header, record or block at fault.
package pcapfile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/spec"
)

// Format is a capture file format.
type Format uint8

// Capture file formats.
const (
	FormatPcap Format = iota + 1
	FormatPcapNG
)

// String names the format.
func (f Format) String() string {
	switch f {
	case FormatPcap:
		return "pcap"
	case FormatPcapNG:
		return "pcapng"
	}
	return fmt.Sprintf("format(%d)", uint8(f))
}

// Reader reads packets from a pcap or pcapng stream. The data a read
// returns points into the reader's buffer and is valid until the next read.
type Reader struct {
	name   string
	src    io.Reader
	closer io.Closer
	buf    []byte
	spare  []byte // the other buffer (see fill)
	swaps  uint64
	pos    int   // next unread byte in buf
	end    int   // bytes of buf filled
	base   int64 // file offset of buf[0]
	srcEOF bool
	srcErr error

	format   Format
	order    binary.ByteOrder
	swapped  bool
	linkType spec.LinkType
	linkExt  uint32
	rawLink  uint32 // the link-type value as stored (pcap: without the upper six bits)
	snaplen  uint32
	nano     bool // pcap: nanosecond magic

	// pcap
	hdrSize int
	fast    bool   // records can take pcapNext's fast path
	fastMax uint32 // the largest caplen the fast path takes
	res     uint64 // timestamp ticks per second
	lengths lengthOrder

	// pcapng
	ng   ngState
	desc ngDescs
}

const (
	readBufSize = 256 << 10 // about a core's L2 cache: records are parsed while hot
	maxRecord   = 256 << 20 // never buffer more than this for one record
)

// Open opens a capture file. Close releases it.
func Open(name string) (*Reader, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	r, err := NewReader(f, name)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.closer = f
	return r, nil
}

// NewReaderBytes reads a capture file held in memory; packets point into b.
func NewReaderBytes(b []byte, name string) (*Reader, error) {
	return newReader(nil, name, b)
}

// Stable reports whether the data ReadPacket returns stays valid until
// Close (the file is in memory: NewReaderBytes), rather than until the next
// read.
func (r *Reader) Stable() bool { return r.src == nil }

// NewReader reads a capture file from src; name identifies it in errors.
func NewReader(src io.Reader, name string) (*Reader, error) {
	return newReader(src, name, nil)
}

// newReader reads from src, or from mem when src is nil.
func newReader(src io.Reader, name string, mem []byte) (*Reader, error) {
	r := &Reader{name: name, src: src}
	if src == nil {
		r.buf, r.end, r.srcEOF = mem, len(mem), true
	} else {
		r.buf = make([]byte, readBufSize)
	}
	got := r.fill(4)
	if got < 4 {
		if r.srcErr != nil {
			return nil, &Error{File: name, Offset: 0, Err: r.srcErr}
		}
		return nil, r.errf(0, ErrTruncated, "tried to read 4 file header bytes, only got %d", got)
	}
	magic := r.buf[0:4]
	if ok, err := r.pcapHeader(magic); ok || err != nil {
		return r, err
	}
	if ok, err := r.ngHeader(); ok || err != nil {
		return r, err
	}
	return nil, r.errf(0, ErrFormat, "not a pcap or pcapng file")
}

// Name returns the name the reader reports in errors.
func (r *Reader) Name() string { return r.name }

// Format returns the file's format.
func (r *Reader) Format() Format { return r.format }

// LinkType returns the link-layer header type of the packets (for pcapng,
// that of the first interface, as libpcap presents it).
func (r *Reader) LinkType() spec.LinkType { return r.linkType }

// LinkTypeValue returns the link-type value as the file stores it (pcap:
// without its upper six bits). It differs from LinkType only for values that
// do not fit 16 bits, which no link type uses and libpcap's filter compiler
// rejects.
func (r *Reader) LinkTypeValue() uint32 { return r.rawLink }

// LinkTypeExt returns the upper six bits of a pcap header's link-type field
// (FCS information), which a rewrite keeps.
func (r *Reader) LinkTypeExt() uint32 { return r.linkExt }

// Snaplen returns the snapshot length libpcap uses for the file: the
// header's value, or the link type's maximum when that is 0 or too large.
func (r *Reader) Snaplen() uint32 { return r.snaplen }

// Nanosecond reports whether a pcap file has nanosecond timestamps.
func (r *Reader) Nanosecond() bool { return r.nano }

// Swapped reports whether the file's byte order is the opposite of the
// host's (little-endian hosts: a big-endian file).
func (r *Reader) Swapped() bool { return r.swapped }

// Offset returns the file offset of the next unread byte.
func (r *Reader) Offset() int64 { return r.base + int64(r.pos) }

// Close closes the underlying file when the reader opened it.
func (r *Reader) Close() error {
	if r.closer != nil {
		return r.closer.Close()
	}
	return nil
}

// ReadPacket reads the next packet into info and returns its bytes, which
// stay valid until the next call. It returns io.EOF after the last packet.
func (r *Reader) ReadPacket(info *packet.Info) ([]byte, error) {
	if r.format == FormatPcap {
		return r.pcapNext(info)
	}
	return r.ngNext(info)
}

// fill makes at least n unread bytes available if the source has them and
// returns how many are available (which may be fewer, at end of file).
//
// The reader keeps two buffers. When the unread bytes and n more do not fit
// the current one, the unread tail moves to the other buffer and they swap
// roles (Swaps counts it); so data returned before a swap stays valid until
// the next swap. A record larger than the buffer gets a new, larger buffer.
func (r *Reader) fill(n int) int {
	if r.end-r.pos >= n || r.src == nil {
		return r.end - r.pos
	}
	if len(r.buf)-r.pos < n {
		size := len(r.buf)
		var nb []byte
		if n > size {
			size = n + readBufSize
			nb = make([]byte, size)
		} else if len(r.spare) == size {
			nb = r.spare
		} else {
			nb = make([]byte, size)
		}
		copy(nb, r.buf[r.pos:r.end])
		r.spare = r.buf
		r.buf = nb
		r.base += int64(r.pos)
		r.end -= r.pos
		r.pos = 0
		r.swaps++
	}
	for r.end < r.pos+n && !r.srcEOF {
		m, err := r.src.Read(r.buf[r.end:])
		r.end += m
		if err != nil {
			r.srcEOF = true
			if !errors.Is(err, io.EOF) {
				r.srcErr = err
			}
		}
	}
	return r.end - r.pos
}

// Swaps returns how many times the reader moved to its other buffer. Data
// returned by ReadPacket stays valid until Swaps has advanced twice: a
// caller holding several packets at once (a batch) stops taking more after
// a packet whose read made Swaps advance.
func (r *Reader) Swaps() uint64 { return r.swaps }

// take returns the next n bytes, or what is there (fewer) at end of file.
func (r *Reader) take(n int) []byte {
	got := r.fill(n)
	if got > n {
		got = n
	}
	b := r.buf[r.pos : r.pos+got]
	r.pos += got
	return b
}

// skip discards n bytes and returns how many were there.
func (r *Reader) skip(n int64) int64 {
	var done int64
	for done < n {
		chunk := n - done
		if chunk > readBufSize {
			chunk = readBufSize
		}
		b := r.take(int(chunk))
		done += int64(len(b))
		if int64(len(b)) < chunk {
			break
		}
	}
	return done
}

// readErr turns a short read into an error: the source's own error if it
// had one, else a truncation at off.
func (r *Reader) readErr(off int64, format string, args ...any) error {
	if r.srcErr != nil {
		return &Error{File: r.name, Offset: off, Err: fmt.Errorf("error reading dump file: %w", r.srcErr)}
	}
	return r.errf(off, ErrTruncated, format, args...)
}
