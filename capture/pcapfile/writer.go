package pcapfile

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/wringcap/wring/capture/packet"
)

// PacketWriter is what every capture-file writer does.
type PacketWriter interface {
	// WritePacket appends one packet. info.CapLen must equal len(data).
	WritePacket(info *packet.Info, data []byte) error
	// Flush writes buffered data to the underlying writer.
	Flush() error
	// Close flushes and closes what the writer opened.
	Close() error
}

// Header is what a pcap file header says.
type Header struct {
	LinkType uint32 // the link-type field, including any upper FCS bits
	Snaplen  uint32
	Nano     bool // nanosecond timestamps (magic 0xa1b23c4d)
}

// Writer writes a pcap file in the host's (little-endian) byte order, as
// libpcap's pcap_dump does.
type Writer struct {
	w       *bufio.Writer
	closer  io.Closer
	res     uint64
	written int64
	hdr     [16]byte
}

// NewWriter writes a pcap file header to w and returns a writer for the
// records. Close closes w when it is an io.Closer.
func NewWriter(w io.Writer, h Header) (*Writer, error) {
	pw := &Writer{w: bufio.NewWriterSize(w, 1<<16), res: 1_000_000}
	if c, ok := w.(io.Closer); ok {
		pw.closer = c
	}
	var fh [24]byte
	magic := uint32(magicMicro)
	if h.Nano {
		magic, pw.res = magicNano, 1_000_000_000
	}
	binary.LittleEndian.PutUint32(fh[0:], magic)
	binary.LittleEndian.PutUint16(fh[4:], 2)
	binary.LittleEndian.PutUint16(fh[6:], 4)
	binary.LittleEndian.PutUint32(fh[16:], h.Snaplen)
	binary.LittleEndian.PutUint32(fh[20:], h.LinkType)
	if _, err := pw.w.Write(fh[:]); err != nil {
		return nil, fmt.Errorf("write pcap header: %w", err)
	}
	pw.written = 24
	return pw, nil
}

// stampFor returns the seconds and fraction (in units of 1/res) to store
// for a packet: the file's own stamp when it has one, scaled as libpcap
// scales it, else the nanosecond timestamp.
func stampFor(info *packet.Info, res uint64) (sec int64, frac uint64) {
	if info.Stamp.Res != 0 {
		return info.Stamp.Scaled(res)
	}
	ns := info.Timestamp
	sec = ns / 1_000_000_000
	rem := ns % 1_000_000_000
	if rem < 0 {
		sec--
		rem += 1_000_000_000
	}
	return sec, uint64(rem) / (1_000_000_000 / res)
}

// WritePacket appends one record.
func (pw *Writer) WritePacket(info *packet.Info, data []byte) error {
	sec, frac := stampFor(info, pw.res)
	h := &pw.hdr
	binary.LittleEndian.PutUint32(h[0:], uint32(sec))
	binary.LittleEndian.PutUint32(h[4:], uint32(frac))
	binary.LittleEndian.PutUint32(h[8:], uint32(len(data)))
	binary.LittleEndian.PutUint32(h[12:], info.WireLen)
	if _, err := pw.w.Write(h[:]); err != nil {
		return err
	}
	if _, err := pw.w.Write(data); err != nil {
		return err
	}
	pw.written += 16 + int64(len(data))
	return nil
}

// Written returns the bytes written so far, header included.
func (pw *Writer) Written() int64 { return pw.written }

// Flush writes buffered records out.
func (pw *Writer) Flush() error { return pw.w.Flush() }

// Close flushes and closes the underlying writer if it is a Closer.
func (pw *Writer) Close() error {
	err := pw.w.Flush()
	if pw.closer != nil {
		if cerr := pw.closer.Close(); err == nil {
			err = cerr
		}
	}
	return err
}
