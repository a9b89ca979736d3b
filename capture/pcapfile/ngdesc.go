package pcapfile

import (
	"encoding/binary"
	"sync"

	"github.com/wringcap/wring/spec"
)

// NgOption is one pcapng option: its code and its value, numbers in
// little-endian order (the order NgWriter writes).
type NgOption struct {
	Code  uint16
	Value []byte
}

// NgInterface describes one interface of a pcapng file as its Interface
// Description Block gave it: the link type, the snapshot length and the
// options that describe it (if_name, if_description, addresses, speeds,
// if_filter, if_os, if_fcslen, if_hardware, comments). if_tsresol and
// if_tsoffset are left out: a packet's timestamp already holds them, and a
// writer states its own resolution.
type NgInterface struct {
	LinkType spec.LinkType
	Snaplen  uint32
	Options  []NgOption
}

// NgSource describes a pcapng file's section and interfaces to a writer
// that copies them (NewNgWriterFrom); *Reader is one.
type NgSource interface {
	// NgSection returns the options of the first Section Header Block
	// (comments, shb_hardware, shb_os, shb_userappl); nil for a pcap file.
	NgSection() []NgOption
	// NgInterface returns the description of interface i of the first
	// section, and false when the file has none (yet) or is a pcap file.
	NgInterface(i uint32) (NgInterface, bool)
}

// Bounds on the descriptions a Reader keeps for NgSource: options of at
// most MaxKeptInterfaces interfaces and MaxKeptOptionBytes bytes in all.
// Past them an interface is kept without its options, and
// NgOptionsDropped counts the options left out.
const (
	MaxKeptInterfaces  = 1 << 16
	MaxKeptOptionBytes = 4 << 20
)

// ngDescs is what a Reader keeps for NgSource. The pipeline's sink may ask
// from another goroutine while the reader adds interfaces: a mutex guards
// it (taken once per Interface Description Block and per question, never
// per packet).
type ngDescs struct {
	mu       sync.Mutex
	section  []NgOption
	ifaces   []NgInterface
	bytes    int
	dropped  uint64
	sections int // Section Header Blocks seen
}

// keptOption reports whether an IDB option is one NgInterface keeps, and
// whether its value is a number to put in little-endian order.
func keptOption(code uint16) (keep, number bool) {
	switch code {
	case 1, 2, 3, 4, 5, 6, 7, 11, 12, 13, 15: // comment, name, description, addresses, filter, os, fcslen, hardware
		return true, false
	case 8, 16, 17: // if_speed, if_txspeed, if_rxspeed: u64
		return true, true
	}
	return false, false
}

// options copies the options of a block body (already checked by the
// caller's walk) that keep accepts, numbers put in little-endian order.
func (d *ngDescs) options(o binary.ByteOrder, opts []byte, keep func(uint16) (bool, bool)) []NgOption {
	var out []NgOption
	for len(opts) >= 4 {
		code, n := o.Uint16(opts), int(o.Uint16(opts[2:]))
		padded := (n + 3) &^ 3
		if len(opts)-4 < padded || code == 0 {
			break
		}
		v := opts[4 : 4+n]
		opts = opts[4+padded:]
		k, number := keep(code)
		if !k {
			continue
		}
		if d.bytes+n > MaxKeptOptionBytes {
			d.dropped++
			continue
		}
		c := append([]byte(nil), v...)
		if number && n == 8 && o != binary.LittleEndian {
			binary.LittleEndian.PutUint64(c, o.Uint64(v))
		}
		d.bytes += n
		out = append(out, NgOption{Code: code, Value: c})
	}
	return out
}

// addSection records a Section Header Block's options (the first one's).
func (d *ngDescs) addSection(o binary.ByteOrder, opts []byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.sections++
	if d.sections > 1 {
		return
	}
	d.section = d.options(o, opts, func(c uint16) (bool, bool) { return c >= 1 && c <= 4, false })
}

// addInterface records an Interface Description Block of the first section.
func (d *ngDescs) addInterface(o binary.ByteOrder, lt spec.LinkType, snaplen uint32, opts []byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.sections > 1 {
		return
	}
	if len(d.ifaces) >= MaxKeptInterfaces {
		d.dropped++
		return
	}
	d.ifaces = append(d.ifaces, NgInterface{LinkType: lt, Snaplen: snaplen, Options: d.options(o, opts, keptOption)})
}

// NgSection implements NgSource.
func (r *Reader) NgSection() []NgOption {
	r.desc.mu.Lock()
	defer r.desc.mu.Unlock()
	return r.desc.section
}

// NgInterface implements NgSource.
func (r *Reader) NgInterface(i uint32) (NgInterface, bool) {
	r.desc.mu.Lock()
	defer r.desc.mu.Unlock()
	if uint64(i) >= uint64(len(r.desc.ifaces)) {
		return NgInterface{}, false
	}
	return r.desc.ifaces[i], true
}

// NgOptionsDropped returns the options (and interfaces past
// MaxKeptInterfaces) left out of NgSource's descriptions by the bounds.
func (r *Reader) NgOptionsDropped() uint64 {
	r.desc.mu.Lock()
	defer r.desc.mu.Unlock()
	return r.desc.dropped
}
