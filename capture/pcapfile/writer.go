package pcapfile

import (
	"encoding/binary"
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
	out
	res uint64
}

// writeBufSize is the writers' buffer: large enough that a write system
// call carries hundreds of packets, small enough to stay in cache.
const writeBufSize = 128 << 10

// out is the output half of Writer and NgWriter: a buffer in front of the
// destination, the first write error (every later write returns it), and
// the count of bytes accepted.
type out struct {
	dst     io.Writer
	closer  io.Closer // dst, when it is an io.Closer
	buf     []byte    // buffered bytes; cap is the buffer size
	err     error
	written int64 // bytes accepted, buffered ones and the file header included
}

func newOut(w io.Writer) out {
	o := out{dst: w, buf: make([]byte, 0, writeBufSize)}
	o.closer, _ = w.(io.Closer)
	return o
}

// writeOut writes b to the destination, remembering the first error.
func (o *out) writeOut(b []byte) error {
	n, err := o.dst.Write(b)
	if err == nil && n < len(b) {
		err = io.ErrShortWrite
	}
	if err != nil {
		o.err = err
	}
	return err
}

// Written returns the bytes written so far, buffered ones and the file
// header included.
func (o *out) Written() int64 { return o.written }

// Flush writes the buffered bytes out.
func (o *out) Flush() error {
	if o.err != nil {
		return o.err
	}
	if len(o.buf) == 0 {
		return nil
	}
	err := o.writeOut(o.buf)
	o.buf = o.buf[:0]
	return err
}

// Close flushes and closes the destination if it is an io.Closer.
func (o *out) Close() error {
	err := o.Flush()
	if o.closer != nil {
		if cerr := o.closer.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// NewWriter writes a pcap file header to w and returns a writer for the
// records. Close closes w when it is an io.Closer.
func NewWriter(w io.Writer, h Header) (*Writer, error) {
	pw := &Writer{out: newOut(w), res: 1_000_000}
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
	pw.buf = append(pw.buf, fh[:]...)
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
	switch res { // the two resolutions files use, divided by constants
	case 1_000_000:
		return sec, uint64(rem) / 1_000
	case 1_000_000_000:
		return sec, uint64(rem)
	}
	return sec, uint64(rem) / (1_000_000_000 / res)
}

// WritePacket appends one record.
func (pw *Writer) WritePacket(info *packet.Info, data []byte) error {
	if pw.err != nil {
		return pw.err
	}
	need := 16 + len(data)
	if len(pw.buf)+need > cap(pw.buf) {
		if err := pw.Flush(); err != nil {
			return err
		}
		if need > cap(pw.buf) {
			return pw.writeLarge(info, data)
		}
	}
	sec, frac := stampFor(info, pw.res)
	n := len(pw.buf)
	b := pw.buf[n : n+need]
	binary.LittleEndian.PutUint32(b[0:], uint32(sec))
	binary.LittleEndian.PutUint32(b[4:], uint32(frac))
	binary.LittleEndian.PutUint32(b[8:], uint32(len(data)))
	binary.LittleEndian.PutUint32(b[12:], info.WireLen)
	copy(b[16:], data)
	pw.buf = pw.buf[:n+need]
	pw.written += int64(need)
	return nil
}

// WritePackets appends one record per packet, in order.
func (pw *Writer) WritePackets(pk []packet.Packet) error {
	for i := range pk {
		if err := pw.WritePacket(&pk[i].Info, pk[i].Data); err != nil {
			return err
		}
	}
	return nil
}

// writeLarge writes a record larger than the buffer (which is empty)
// straight to the destination.
func (pw *Writer) writeLarge(info *packet.Info, data []byte) error {
	sec, frac := stampFor(info, pw.res)
	var h [16]byte
	binary.LittleEndian.PutUint32(h[0:], uint32(sec))
	binary.LittleEndian.PutUint32(h[4:], uint32(frac))
	binary.LittleEndian.PutUint32(h[8:], uint32(len(data)))
	binary.LittleEndian.PutUint32(h[12:], info.WireLen)
	if err := pw.writeOut(h[:]); err != nil {
		return err
	}
	if err := pw.writeOut(data); err != nil {
		return err
	}
	pw.written += 16 + int64(len(data))
	return nil
}
