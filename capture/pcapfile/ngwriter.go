package pcapfile

import (
	"fmt"
	"io"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/spec"
)

// NgWriter writes a pcapng file with gopacket's pcapgo: one Interface
// Description Block per (interface, link type) seen, nanosecond
// timestamps.
type NgWriter struct {
	w       *pcapgo.NgWriter
	cw      *countWriter
	closer  io.Closer
	snaplen uint32
	ifaces  map[ngKey]int
	logical int64 // bytes written, buffered ones included
}

type ngKey struct {
	iface uint32
	lt    spec.LinkType
}

// countWriter counts the bytes that pass through it.
type countWriter struct {
	w io.Writer
	n int64
}

// Write writes p and counts it.
func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// NewNgWriter starts a pcapng file whose first interface has link type lt.
// Close closes w when it is an io.Closer.
func NewNgWriter(w io.Writer, lt spec.LinkType, snaplen uint32) (*NgWriter, error) {
	cw := &countWriter{w: w}
	ng, err := pcapgo.NewNgWriterInterface(cw, ngInterface(0, lt, snaplen), pcapgo.NgWriterOptions{
		SectionInfo: pcapgo.NgSectionInfo{Application: "wring"},
	})
	if err != nil {
		return nil, fmt.Errorf("write pcapng header: %w", err)
	}
	nw := &NgWriter{w: ng, cw: cw, snaplen: snaplen, ifaces: map[ngKey]int{{0, lt}: 0}}
	if err := nw.sync(); err != nil {
		return nil, err
	}
	if c, ok := w.(io.Closer); ok {
		nw.closer = c
	}
	return nw, nil
}

func ngInterface(id uint32, lt spec.LinkType, snaplen uint32) pcapgo.NgInterface {
	return pcapgo.NgInterface{
		Name:                fmt.Sprintf("if%d", id),
		LinkType:            layers.LinkType(lt),
		SnapLength:          snaplen,
		TimestampResolution: 9,
	}
}

// WritePacket appends an Enhanced Packet Block, adding an Interface
// Description Block first for a new (interface, link type).
func (nw *NgWriter) WritePacket(info *packet.Info, data []byte) error {
	k := ngKey{info.Interface, info.LinkType}
	id, ok := nw.ifaces[k]
	if !ok {
		if err := nw.sync(); err != nil {
			return err
		}
		var err error
		if id, err = nw.w.AddInterface(ngInterface(info.Interface, info.LinkType, nw.snaplen)); err != nil {
			return err
		}
		nw.ifaces[k] = id
		if err := nw.sync(); err != nil {
			return err
		}
	}
	sec, frac := stampFor(info, 1_000_000_000)
	ci := gopacket.CaptureInfo{
		Timestamp:      time.Unix(sec, int64(frac)),
		CaptureLength:  len(data),
		Length:         int(info.WireLen),
		InterfaceIndex: id,
	}
	// An Enhanced Packet Block without options: 32 bytes and the data
	// padded to 4.
	nw.logical += 32 + int64(len(data)+3)&^3
	return nw.w.WritePacket(ci, data)
}

// sync flushes and takes the byte count from what reached the writer.
func (nw *NgWriter) sync() error {
	err := nw.w.Flush()
	nw.logical = nw.cw.n
	return err
}

// Written returns the bytes written so far, buffered ones included.
func (nw *NgWriter) Written() int64 { return nw.logical }

// Flush writes buffered blocks out.
func (nw *NgWriter) Flush() error { return nw.w.Flush() }

// Close flushes and closes the underlying writer if it is a Closer.
func (nw *NgWriter) Close() error {
	err := nw.w.Flush()
	if nw.closer != nil {
		if cerr := nw.closer.Close(); err == nil {
			err = cerr
		}
	}
	return err
}
