package pcapfile

import (
	"encoding/binary"
	"io"
	"math/bits"

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
	r.res = 1_000_000
	if r.nano {
		r.res = 1_000_000_000
	}
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
	defer func() {
		r.fast = !r.swapped && r.lengths == lengthsNormal && r.hdrSize == 16 && r.linkType != linkUSBLinuxMmapped
		r.fastMax = min(r.snaplen, MaxSnaplen(r.linkType))
	}()
	r.rawLink = lt & 0x03ffffff
	if r.rawLink > 0xffff {
		r.linkType = 0xffff // no such link type; LinkTypeValue has the value
	}
	return true, nil
}

// pcapNext reads one pcap record.
func (r *Reader) pcapNext(info *packet.Info) ([]byte, error) {
	if r.fast && r.end-r.pos >= 16 {
		// The common record: host byte order, 16-byte header, within
		// the snapshot length, already buffered.
		h := r.buf[r.pos : r.pos+16]
		caplen := binary.LittleEndian.Uint32(h[8:])
		if caplen <= r.fastMax && r.end-r.pos-16 >= int(caplen) {
			sec := binary.LittleEndian.Uint32(h[0:])
			frac := int64(int32(binary.LittleEndian.Uint32(h[4:])))
			wirelen := binary.LittleEndian.Uint32(h[12:])
			start := r.pos + 16
			r.pos = start + int(caplen)
			// Field by field: a composite literal would be built on
			// the stack and copied.
			if r.nano {
				info.Timestamp = int64(sec)*1_000_000_000 + frac
			} else {
				info.Timestamp = int64(sec)*1_000_000_000 + frac*1000
			}
			info.CapLen, info.WireLen, info.LinkType = caplen, wirelen, r.linkType
			info.Ifindex, info.Queue, info.Interface = 0, 0, 0
			info.Stamp.Sec, info.Stamp.Frac, info.Stamp.Res, info.Stamp.Bin = int64(sec), uint64(frac), r.res, false
			return r.buf[start:r.pos:r.pos], nil
		}
	}
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
	h = h[:16]
	sec := binary.LittleEndian.Uint32(h[0:])
	fracU := binary.LittleEndian.Uint32(h[4:])
	caplen := binary.LittleEndian.Uint32(h[8:])
	wirelen := binary.LittleEndian.Uint32(h[12:])
	if r.swapped {
		sec, fracU = bits.ReverseBytes32(sec), bits.ReverseBytes32(fracU)
		caplen, wirelen = bits.ReverseBytes32(caplen), bits.ReverseBytes32(wirelen)
	}
	// libpcap sign-extends the fraction of a file in host byte order and
	// zero-extends that of a byte-swapped one (its SWAPLONG is unsigned);
	// the difference shows when a nanosecond fraction is scaled down.
	frac := uint64(int64(int32(fracU)))
	if r.swapped {
		frac = uint64(fracU)
	}
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
		if r.src != nil {
			// Skipping the rest may move the buffers: keep a copy (a
			// damaged file's rare case).
			data = append([]byte(nil), data...)
		}
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
	if r.swapped {
		data = r.swapPseudo(data, wirelen)
	}
	if r.linkType == linkUSBLinuxMmapped {
		wirelen = fixUSBMmappedLength(data, wirelen)
	}
	res := uint64(1_000_000)
	if r.nano {
		res = 1_000_000_000
	}
	*info = packet.Info{
		CapLen:   caplen,
		WireLen:  wirelen,
		LinkType: r.linkType,
		Stamp:    packet.Stamp{Sec: int64(sec), Frac: frac, Res: res},
	}
	info.Timestamp = info.Stamp.Nanos()
	return data, nil
}
