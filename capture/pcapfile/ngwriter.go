package pcapfile

import (
	"encoding/binary"
	"fmt"
	"io"
	"strconv"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/spec"
)

// pcapng block types and option codes the writer uses.
const (
	ngBlockSHB = 0x0a0d0d0a
	ngBlockIDB = 0x00000001
	ngBlockEPB = 0x00000006
	ngMagic    = 0x1a2b3c4d

	ngOptEnd      = 0
	ngOptUserAppl = 4 // SHB shb_userappl
	ngOptIfName   = 2 // IDB if_name
	ngOptTSResol  = 9 // IDB if_tsresol
)

// NgWriter writes a pcapng file (little-endian): a Section Header Block
// naming wring, one Interface Description Block per (interface, link type)
// seen, named ifN with nanosecond timestamps, and an Enhanced Packet Block
// without options per packet. The blocks are those gopacket's pcapgo
// NgWriter writes for the same calls (a test compares them byte for byte;
// pcapgo refuses a packet longer than its wire length, this writer keeps it);
// wring writes them itself so that the binary does not link gopacket.
//
// NewNgWriterFrom copies a source file's descriptions instead: its section
// options and, for each interface, its link type, snapshot length and
// options (if_name and the rest), with the interface numbers of the source.
type NgWriter struct {
	out
	snaplen uint32
	ifaces  map[ngKey]uint32
	src     NgSource
	srcNext uint32 // the next source interface to describe
}

type ngKey struct {
	iface uint32
	lt    spec.LinkType
}

// NewNgWriter starts a pcapng file whose first interface has link type lt.
// Close closes w when it is an io.Closer.
func NewNgWriter(w io.Writer, lt spec.LinkType, snaplen uint32) (*NgWriter, error) {
	return NewNgWriterFrom(w, lt, snaplen, nil)
}

// NewNgWriterFrom starts a pcapng file that keeps src's descriptions (see
// NgWriter); with a nil src, or one that describes nothing (a pcap file),
// it is NewNgWriter. The section options are src's, with shb_userappl
// "wring" when src has none, as editcap keeps them.
func NewNgWriterFrom(w io.Writer, lt spec.LinkType, snaplen uint32, src NgSource) (*NgWriter, error) {
	nw := &NgWriter{out: newOut(w), snaplen: snaplen, ifaces: map[ngKey]uint32{}}
	var opts []NgOption
	if src != nil {
		if _, ok := src.NgInterface(0); ok {
			nw.src = src
			opts = src.NgSection()
		}
	}
	hasApp := false
	for _, o := range opts {
		hasApp = hasApp || o.Code == ngOptUserAppl
	}
	if !hasApp {
		opts = append(opts[:len(opts):len(opts)], NgOption{Code: ngOptUserAppl, Value: []byte("wring")})
	}
	// Section Header Block: type, length, byte-order magic, version 1.0,
	// section length unknown (-1), options, end of options, length.
	n := uint32(24 + optionsLen(opts) + 4 + 4)
	b := nw.grow(int(n))
	le := binary.LittleEndian
	le.PutUint32(b[0:], ngBlockSHB)
	le.PutUint32(b[4:], n)
	le.PutUint32(b[8:], ngMagic)
	le.PutUint16(b[12:], 1)
	le.PutUint16(b[14:], 0)
	le.PutUint64(b[16:], ^uint64(0))
	putOptions(b[24:], opts)
	le.PutUint32(b[n-8:], ngOptEnd)
	le.PutUint32(b[n-4:], n)
	if nw.src != nil {
		nw.describe(0)
	} else {
		nw.addInterface(ngKey{0, lt}, nil, false, snaplen)
	}
	if err := nw.Flush(); err != nil {
		return nil, fmt.Errorf("write pcapng header: %w", err)
	}
	return nw, nil
}

// optionsLen returns the bytes opts take, each padded to 4.
func optionsLen(opts []NgOption) int {
	n := 0
	for _, o := range opts {
		n += 4 + (len(o.Value)+3)&^3
	}
	return n
}

// putOptions writes opts (values up to 65535 bytes, as they were read).
func putOptions(b []byte, opts []NgOption) {
	for _, o := range opts {
		binary.LittleEndian.PutUint16(b[0:], o.Code)
		binary.LittleEndian.PutUint16(b[2:], uint16(len(o.Value)))
		copy(b[4:], o.Value)
		b = b[4+(len(o.Value)+3)&^3:]
	}
}

// describe writes the source's Interface Description Blocks up to
// interface i, so that each keeps its number.
func (nw *NgWriter) describe(i uint32) {
	for ; nw.srcNext <= i; nw.srcNext++ {
		d, ok := nw.src.NgInterface(nw.srcNext)
		if !ok {
			return
		}
		k := ngKey{nw.srcNext, d.LinkType}
		if _, dup := nw.ifaces[k]; dup {
			return
		}
		nw.addInterface(k, d.Options, true, d.Snaplen)
	}
}

// grow appends n zero bytes to the buffer, flushing it first when they do
// not fit (or growing it for a block larger than the buffer), and returns
// them.
func (nw *NgWriter) grow(n int) []byte {
	if len(nw.buf)+n > cap(nw.buf) {
		if err := nw.Flush(); err != nil {
			// Keep buffering: the error is returned by this write's
			// caller through nw.err.
			nw.buf = nw.buf[:0]
		}
		if n > cap(nw.buf) {
			nw.buf = make([]byte, 0, n)
		}
	}
	l := len(nw.buf)
	nw.buf = nw.buf[:l+n]
	b := nw.buf[l : l+n]
	clear(b)
	nw.written += int64(n)
	return b
}

// addInterface appends the Interface Description Block of k and records
// its index.
func (nw *NgWriter) addInterface(k ngKey, opts []NgOption, described bool, snaplen uint32) uint32 {
	id := uint32(len(nw.ifaces))
	nw.ifaces[k] = id
	if !described {
		name := "if" + strconv.FormatUint(uint64(k.iface), 10)
		opts = []NgOption{{Code: ngOptIfName, Value: []byte(name)}}
	}
	// Type, length, link type, reserved, snaplen; the options, if_tsresol
	// (9: nanoseconds), end of options; length.
	n := uint32(16 + optionsLen(opts) + 8 + 4 + 4)
	b := nw.grow(int(n))
	le := binary.LittleEndian
	le.PutUint32(b[0:], ngBlockIDB)
	le.PutUint32(b[4:], n)
	le.PutUint16(b[8:], uint16(k.lt))
	le.PutUint32(b[12:], snaplen)
	o := 16
	putOptions(b[o:], opts)
	o += optionsLen(opts)
	le.PutUint16(b[o:], ngOptTSResol)
	le.PutUint16(b[o+2:], 1)
	b[o+4] = 9
	le.PutUint32(b[n-4:], n)
	return id
}

// WritePacket appends an Enhanced Packet Block, adding an Interface
// Description Block first for a new (interface, link type). A packet with
// more captured bytes than its wire length (damaged files hold them) is
// written with both lengths as they are, as the pcap writer and editcap
// write it, so that the rest of the capture is not lost.
func (nw *NgWriter) WritePacket(info *packet.Info, data []byte) error {
	if nw.err != nil {
		return nw.err
	}
	k := ngKey{info.Interface, info.LinkType}
	id, ok := nw.ifaces[k]
	if !ok && nw.src != nil && info.Interface >= nw.srcNext {
		nw.describe(info.Interface)
		id, ok = nw.ifaces[k]
	}
	if !ok {
		id = nw.addInterface(k, nil, false, nw.snaplen)
	}
	sec, frac := stampFor(info, 1_000_000_000)
	ts := uint64(sec*1_000_000_000 + int64(frac))
	// Type, length, interface, timestamp (high, low), captured and wire
	// lengths, the data padded to 4, length.
	n := uint32(28 + (len(data)+3)&^3 + 4)
	b := nw.grow(int(n))
	le := binary.LittleEndian
	le.PutUint32(b[0:], ngBlockEPB)
	le.PutUint32(b[4:], n)
	le.PutUint32(b[8:], id)
	le.PutUint32(b[12:], uint32(ts>>32))
	le.PutUint32(b[16:], uint32(ts))
	le.PutUint32(b[20:], uint32(len(data)))
	le.PutUint32(b[24:], info.WireLen)
	copy(b[28:], data)
	le.PutUint32(b[n-4:], n)
	return nw.err
}
