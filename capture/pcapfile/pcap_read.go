package pcapfile

import (
	"encoding/binary"
	"io"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/spec"
)

// pcap magic numbers, as read little-endian.
const (
	magicMicro     = 0xa1b2c3d4
	magicNano      = 0xa1b23c4d
	magicKuznetzov = 0xa1b2cd34 // modified pcap with 24-byte record headers
)

// lengthOrder says whether a pcap file's records have caplen and len
// interchanged (versions before 2.3, DG/UX's 543.0, maybe 2.3).
type lengthOrder uint8

const (
	lengthsNormal lengthOrder = iota
	lengthsSwapped
	lengthsMaybeSwapped
)

// pcapHeader reads a pcap file header if magic is a pcap magic number.
func (r *Reader) pcapHeader(magic []byte) (bool, error) {
	var order binary.ByteOrder
	m := binary.LittleEndian.Uint32(magic)
	switch m {
	case magicMicro, magicNano, magicKuznetzov:
		order = binary.LittleEndian
	default:
		m = binary.BigEndian.Uint32(magic)
		switch m {
		case magicMicro, magicNano, magicKuznetzov:
			order = binary.BigEndian
			r.swapped = true
		default:
			return false, nil
		}
	}
	h := r.take(24)
	if len(h) < 24 {
		return true, r.readErr(0, "tried to read 24 file header bytes, only got %d", len(h))
	}
	r.format = FormatPcap
	r.order = order
	major, minor := order.Uint16(h[4:]), order.Uint16(h[6:])
	if major < 2 {
		return true, r.errf(4, ErrVersion, "archaic pcap savefile format")
	}
	if !(major == 2 && minor <= 4) && !(major == 543 && minor == 0) {
		return true, r.errf(4, ErrVersion, "unsupported pcap savefile version %d.%d", major, minor)
	}
	lt := order.Uint32(h[20:])
	r.linkType = spec.LinkType(lt & 0x03ffffff)
	r.linkExt = lt & 0xfc000000
	r.snaplen = AdjustSnaplen(r.linkType, order.Uint32(h[16:]))
	r.nano = m == magicNano
	switch {
	case major == 2 && minor < 3, major == 543:
		r.lengths = lengthsSwapped
	case major == 2 && minor == 3:
		r.lengths = lengthsMaybeSwapped
	}
	r.hdrSize = 16
	if m == magicKuznetzov {
		r.hdrSize = 24
		if r.linkType == spec.LinkEthernet {
			// Maybe captured in cooked mode with a faked Ethernet header.
			if r.snaplen <= 0x7fffffff-14 {
				r.snaplen += 14
			} else {
				r.snaplen = 0x7fffffff
			}
		}
	}
	r.rawLink = lt & 0x03ffffff
	if r.rawLink > 0xffff {
		r.linkType = 0xffff // no such link type; LinkTypeValue has the value
	}
	return true, nil
}

// pcapNext reads one pcap record.
func (r *Reader) pcapNext(info *packet.Info) ([]byte, error) {
	off := r.Offset()
	h := r.take(r.hdrSize)
	if len(h) < r.hdrSize {
		if len(h) == 0 {
			if r.srcErr != nil {
				return nil, r.readErr(off, "")
			}
			return nil, io.EOF
		}
		return nil, r.readErr(off, "tried to read %d header bytes, only got %d", r.hdrSize, len(h))
	}
	o := r.order
	sec := o.Uint32(h[0:])
	frac := int32(o.Uint32(h[4:]))
	caplen := o.Uint32(h[8:])
	wirelen := o.Uint32(h[12:])
	switch r.lengths {
	case lengthsMaybeSwapped:
		if caplen <= wirelen {
			break
		}
		fallthrough
	case lengthsSwapped:
		caplen, wirelen = wirelen, caplen
	}
	if max := MaxSnaplen(r.linkType); caplen > max {
		if caplen > r.snaplen {
			return nil, r.errf(off, ErrCapLen, "%d, bigger than snaplen of %d", caplen, r.snaplen)
		}
		return nil, r.errf(off, ErrCapLen, "%d, bigger than maximum of %d", caplen, max)
	}
	var data []byte
	if caplen > r.snaplen {
		// libpcap keeps the first snaplen bytes and drops the rest.
		data = r.take(int(r.snaplen))
		if uint32(len(data)) < r.snaplen {
			return nil, r.readErr(off, "tried to read %d captured bytes, only got %d", r.snaplen, len(data))
		}
		// data stays valid: skip only moves past it, and take below
		// never runs. Copy it out of the way of the buffer compaction
		// that skip may do.
		data = append(r.scratch(len(data)), data...)
		rest := int64(caplen - r.snaplen)
		if got := r.skip(rest); got < rest {
			return nil, r.readErr(off, "tried to read %d captured bytes, only got %d", caplen, int64(r.snaplen)+got)
		}
		caplen = r.snaplen
	} else {
		data = r.take(int(caplen))
		if uint32(len(data)) < caplen {
			return nil, r.readErr(off, "tried to read %d captured bytes, only got %d", caplen, len(data))
		}
	}
	res := uint64(1_000_000)
	if r.nano {
		res = 1_000_000_000
	}
	*info = packet.Info{
		CapLen:   caplen,
		WireLen:  wirelen,
		LinkType: r.linkType,
		Stamp:    packet.Stamp{Sec: int64(sec), Frac: uint64(int64(frac)), Res: res},
	}
	info.Timestamp = info.Stamp.Nanos()
	return data, nil
}

// scratch returns an empty slice with capacity n that does not alias the
// read buffer.
func (r *Reader) scratch(n int) []byte {
	if cap(r.ng.scratch) < n {
		r.ng.scratch = make([]byte, 0, n)
	}
	return r.ng.scratch[:0]
}
