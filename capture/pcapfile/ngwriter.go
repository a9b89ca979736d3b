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
type NgWriter struct {
	out
	snaplen uint32
	ifaces  map[ngKey]uint32
}

type ngKey struct {
	iface uint32
	lt    spec.LinkType
}

// NewNgWriter starts a pcapng file whose first interface has link type lt.
// Close closes w when it is an io.Closer.
func NewNgWriter(w io.Writer, lt spec.LinkType, snaplen uint32) (*NgWriter, error) {
	nw := &NgWriter{out: newOut(w), snaplen: snaplen, ifaces: map[ngKey]uint32{}}
	// Section Header Block: type, length, byte-order magic, version 1.0,
	// section length unknown (-1), shb_userappl, end of options, length.
	const app = "wring"
	optLen := 4 + (len(app)+3)&^3 + 4
	n := uint32(24 + optLen + 4)
	b := nw.grow(int(n))
	le := binary.LittleEndian
	le.PutUint32(b[0:], ngBlockSHB)
	le.PutUint32(b[4:], n)
	le.PutUint32(b[8:], ngMagic)
	le.PutUint16(b[12:], 1)
	le.PutUint16(b[14:], 0)
	le.PutUint64(b[16:], ^uint64(0))
	putNgString(b[24:], ngOptUserAppl, app)
	le.PutUint32(b[n-8:], ngOptEnd)
	le.PutUint32(b[n-4:], n)
	nw.addInterface(ngKey{0, lt})
	if err := nw.Flush(); err != nil {
		return nil, fmt.Errorf("write pcapng header: %w", err)
	}
	return nw, nil
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

// putNgString writes an option holding s, padded to 4 bytes.
func putNgString(b []byte, code uint16, s string) {
	binary.LittleEndian.PutUint16(b[0:], code)
	binary.LittleEndian.PutUint16(b[2:], uint16(len(s)))
	copy(b[4:], s)
}

// addInterface appends the Interface Description Block of k and records
// its index.
func (nw *NgWriter) addInterface(k ngKey) uint32 {
	id := uint32(len(nw.ifaces))
	nw.ifaces[k] = id
	name := "if" + strconv.FormatUint(uint64(k.iface), 10)
	// Type, length, link type, reserved, snaplen; if_name, if_tsresol
	// (9: nanoseconds), end of options; length.
	n := uint32(16 + 4 + (len(name)+3)&^3 + 8 + 4 + 4)
	b := nw.grow(int(n))
	le := binary.LittleEndian
	le.PutUint32(b[0:], ngBlockIDB)
	le.PutUint32(b[4:], n)
	le.PutUint16(b[8:], uint16(k.lt))
	le.PutUint32(b[12:], nw.snaplen)
	o := 16
	putNgString(b[o:], ngOptIfName, name)
	o += 4 + (len(name)+3)&^3
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
	if !ok {
		id = nw.addInterface(k)
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
