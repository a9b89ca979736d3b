package pcapfile

import (
	"encoding/binary"
	"errors"
	"io"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/spec"
)

// pcapng block types and limits (libpcap's sf-pcapng.c).
const (
	blockSHB = 0x0a0d0d0a
	blockIDB = 0x00000001
	blockPB  = 0x00000002 // obsolete Packet Block
	blockSPB = 0x00000003
	blockEPB = 0x00000006

	byteOrderMagic  = 0x1a2b3c4d
	shbMaxLen       = 1 << 20
	initialMaxBlock = 16 << 20
)

// ngIface is what the reader keeps of one Interface Description Block.
type ngIface struct {
	linkType spec.LinkType
	snaplen  uint32
	tsresol  uint64
	bin      bool
	tsoffset int64
}

// MaxInterfaceKinds bounds the distinct interface descriptions (link
// type, snapshot length, timestamp resolution and offset) a pcapng file
// may have; a file with more is refused with ErrInterface at the block
// that adds one too many. Any number of interfaces may share them.
const MaxInterfaceKinds = 1 << 16

// ngState is the pcapng part of a Reader. Each interface of the current
// section costs 4 bytes, an index into its distinct descriptions: 10M
// Interface Description Blocks take 40 MB where a 40-byte description
// each took 400 MB, and more while the slice grew (libpcap keeps 32
// bytes per interface).
type ngState struct {
	ifaces   []uint32  // of the current section: an index into kinds
	kinds    []ngIface // distinct descriptions, at most MaxInterfaceKinds
	kindOf   map[ngIface]uint32
	maxBlock uint32
	mixed    bool // accept interfaces of several link types
}

// iface returns the description of interface i of the current section.
func (n *ngState) iface(i uint32) *ngIface { return &n.kinds[n.ifaces[i]] }

// AllowMixedLinkTypes makes a pcapng reader accept interfaces whose link
// type or snapshot length differs from the first interface's, reporting
// each packet's own link type in Info.LinkType. libpcap (and so tcpdump)
// stops at such an interface with an error, which is the default.
func (r *Reader) AllowMixedLinkTypes() { r.ng.mixed = true }

// ngHeader reads a pcapng Section Header Block and the blocks up to the
// first Interface Description Block.
func (r *Reader) ngHeader() (bool, error) {
	if binary.LittleEndian.Uint32(r.buf[0:4]) != blockSHB {
		return false, nil
	}
	if r.fill(12) < 12 {
		return false, nil // a short text file, not pcapng
	}
	var order binary.ByteOrder
	switch binary.LittleEndian.Uint32(r.buf[8:12]) {
	case byteOrderMagic:
		order = binary.LittleEndian
	case 0x4d3c2b1a:
		order = binary.BigEndian
		r.swapped = true
	default:
		return false, nil
	}
	r.format = FormatPcapNG
	r.order = order
	total := order.Uint32(r.buf[4:8])
	if total < 28 || total > shbMaxLen {
		return true, r.errf(0, ErrBlock, "section header block has invalid length %d (must be 28 to %d)", total, shbMaxLen)
	}
	blk := r.take(int(total))
	if uint32(len(blk)) < total {
		return true, r.readErr(0, "tried to read %d bytes, only got %d", total, len(blk))
	}
	if tr := order.Uint32(blk[total-4:]); tr != total {
		return true, r.errf(0, ErrBlock, "block total length in header %d and trailer %d don't match", total, tr)
	}
	major, minor := order.Uint16(blk[12:]), order.Uint16(blk[14:])
	if !(major == 1 && (minor == 0 || minor == 2)) {
		return true, r.errf(12, ErrVersion, "unsupported pcapng savefile version %d.%d", major, minor)
	}
	r.ng.maxBlock = initialMaxBlock
	r.desc.addSection(order, blk[24:total-4])
	for {
		typ, body, off, err := r.ngBlock()
		if errors.Is(err, io.EOF) {
			return true, r.errf(r.Offset(), ErrInterface, "the capture file has no Interface Description Blocks")
		}
		if err != nil {
			return true, err
		}
		switch typ {
		case blockIDB:
			if err := r.ngAddInterface(body, off); err != nil {
				return true, err
			}
			first := r.ng.iface(0)
			r.linkType = first.linkType
			r.rawLink = uint32(first.linkType)
			r.snaplen = AdjustSnaplen(first.linkType, first.snaplen)
			if m := uint32(8 + 20 + MaxSnaplen(r.linkType) + 131072 + 4); m > r.ng.maxBlock {
				r.ng.maxBlock = m
			}
			return true, nil
		case blockEPB, blockSPB, blockPB:
			return true, r.errf(off, ErrInterface, "the capture file has a packet block before any Interface Description Blocks")
		}
	}
}

// ngBlock reads one whole block and returns its type, its body (between
// the length fields) and its file offset. It returns io.EOF at a clean end.
func (r *Reader) ngBlock() (typ uint32, body []byte, off int64, err error) {
	off = r.Offset()
	h := r.take(8)
	if len(h) < 8 {
		if len(h) == 0 && r.srcErr == nil {
			return 0, nil, off, io.EOF
		}
		return 0, nil, off, r.readErr(off, "tried to read 8 bytes, only got %d", len(h))
	}
	typ, total := r.order.Uint32(h), r.order.Uint32(h[4:])
	if total < 12 {
		return 0, nil, off, r.errf(off, ErrBlock, "block has a length of %d < 12", total)
	}
	if total%4 != 0 {
		return 0, nil, off, r.errf(off, ErrBlock, "block has a length of %d that is not a multiple of 4", total)
	}
	if total > r.ng.maxBlock {
		return 0, nil, off, r.errf(off, ErrBlock, "block size %d > maximum %d", total, r.ng.maxBlock)
	}
	rest := r.take(int(total - 8))
	if uint32(len(rest)) < total-8 {
		return 0, nil, off, r.readErr(off, "tried to read %d bytes, only got %d", total-8, len(rest))
	}
	if tr := r.order.Uint32(rest[len(rest)-4:]); tr != total {
		return 0, nil, off, r.errf(off, ErrBlock, "block total length in header %d and trailer %d don't match", total, tr)
	}
	return typ, rest[:len(rest)-4], off, nil
}

// tooShort is libpcap's error for a block whose body lacks a field.
func (r *Reader) tooShort(off int64, typ uint32) error {
	return r.errf(off, ErrBlock, "block of type %d is too short", typ)
}

// ngAddInterface records an Interface Description Block.
func (r *Reader) ngAddInterface(body []byte, off int64) error {
	if len(body) < 8 {
		return r.tooShort(off, blockIDB)
	}
	o := r.order
	ifc := ngIface{linkType: spec.LinkType(o.Uint16(body)), snaplen: o.Uint32(body[4:]), tsresol: 1_000_000}
	opts := body[8:]
	sawRes, sawOff := false, false
options:
	for len(opts) != 0 {
		if len(opts) < 4 {
			return r.tooShort(off, blockIDB)
		}
		code, n := o.Uint16(opts), int(o.Uint16(opts[2:]))
		padded := (n + 3) &^ 3
		if len(opts)-4 < padded {
			return r.tooShort(off, blockIDB)
		}
		v := opts[4 : 4+n]
		opts = opts[4+padded:]
		switch code {
		case 0: // opt_endofopt
			if n != 0 {
				return r.errf(off, ErrBlock, "interface description block has opt_endofopt option with length %d != 0", n)
			}
			break options
		case 9: // if_tsresol
			if n != 1 {
				return r.errf(off, ErrBlock, "interface description block has if_tsresol option with length %d != 1", n)
			}
			if sawRes {
				return r.errf(off, ErrBlock, "interface description block has more than one if_tsresol option")
			}
			sawRes = true
			if v[0]&0x80 != 0 {
				shift := v[0] & 0x7f
				if shift > 63 {
					return r.errf(off, ErrBlock, "interface description block if_tsresol option resolution 2^-%d is too high", shift)
				}
				ifc.bin, ifc.tsresol = true, 1<<shift
			} else {
				if v[0] > 19 {
					return r.errf(off, ErrBlock, "interface description block if_tsresol option resolution 10^-%d is too high", v[0])
				}
				ifc.tsresol = 1
				for i := uint8(0); i < v[0]; i++ {
					ifc.tsresol *= 10
				}
			}
		case 14: // if_tsoffset
			if n != 8 {
				return r.errf(off, ErrBlock, "interface description block has if_tsoffset option with length %d != 8", n)
			}
			if sawOff {
				return r.errf(off, ErrBlock, "interface description block has more than one if_tsoffset option")
			}
			sawOff = true
			ifc.tsoffset = int64(o.Uint64(v))
		}
	}
	k, ok := r.ng.kindOf[ifc]
	if !ok {
		if len(r.ng.kinds) >= MaxInterfaceKinds {
			return r.errf(off, ErrInterface, "more than %d distinct interface descriptions", MaxInterfaceKinds)
		}
		if r.ng.kindOf == nil {
			r.ng.kindOf = map[ngIface]uint32{}
		}
		k = uint32(len(r.ng.kinds))
		r.ng.kinds = append(r.ng.kinds, ifc)
		r.ng.kindOf[ifc] = k
	}
	r.ng.ifaces = append(r.ng.ifaces, k)
	r.desc.addInterface(o, ifc.linkType, ifc.snaplen, body[8:])
	return nil
}

// ngNext reads blocks up to the next packet.
func (r *Reader) ngNext(info *packet.Info) ([]byte, error) {
	o := r.order
	for {
		typ, body, off, err := r.ngBlock()
		if err != nil {
			return nil, err
		}
		var ifid uint32
		var caplen, wirelen uint32
		var t uint64
		var data []byte
		switch typ {
		case blockEPB, blockPB:
			if len(body) < 20 {
				return nil, r.tooShort(off, typ)
			}
			if typ == blockEPB {
				ifid = o.Uint32(body)
			} else {
				ifid = uint32(o.Uint16(body))
			}
			t = uint64(o.Uint32(body[4:]))<<32 | uint64(o.Uint32(body[8:]))
			caplen, wirelen = o.Uint32(body[12:]), o.Uint32(body[16:])
			data = body[20:]
		case blockSPB:
			if len(body) < 4 {
				return nil, r.tooShort(off, typ)
			}
			wirelen = o.Uint32(body)
			caplen = min(wirelen, r.snaplen)
			data = body[4:]
		case blockIDB:
			if len(body) < 8 {
				return nil, r.tooShort(off, typ)
			}
			lt, snap := spec.LinkType(o.Uint16(body)), o.Uint32(body[4:])
			if !r.ng.mixed {
				if lt != r.linkType {
					return nil, r.errf(off, ErrInterface, "an interface has a type %d different from the type of the first interface", lt)
				}
				if AdjustSnaplen(r.linkType, snap) != r.snaplen {
					return nil, r.errf(off, ErrInterface, "an interface has a snapshot length %d different from the snapshot length of the first interface", snap)
				}
			}
			if err := r.ngAddInterface(body, off); err != nil {
				return nil, err
			}
			continue
		case blockSHB:
			if len(body) < 16 {
				return nil, r.tooShort(off, typ)
			}
			switch o.Uint32(body) {
			case byteOrderMagic:
			case 0x4d3c2b1a:
				return nil, r.errf(off, ErrBlock, "the file has sections with different byte orders")
			default:
				return nil, r.errf(off, ErrBlock, "the file has a section with a bad byte order magic field")
			}
			if major := o.Uint16(body[4:]); major != 1 {
				return nil, r.errf(off, ErrVersion, "unknown pcapng savefile major version number %d", major)
			}
			r.ng.ifaces = r.ng.ifaces[:0]
			r.desc.addSection(o, body[16:])
			continue
		default:
			continue
		}
		if ifid >= uint32(len(r.ng.ifaces)) {
			return nil, r.errf(off, ErrInterface, "a packet arrived on interface %d, but there's no Interface Description Block for that interface", ifid)
		}
		ifc := r.ng.iface(ifid)
		snap := r.snaplen
		if r.ng.mixed {
			snap = AdjustSnaplen(ifc.linkType, ifc.snaplen)
		}
		if caplen > snap {
			return nil, r.errf(off, ErrCapLen, "%d, bigger than snaplen of %d", caplen, snap)
		}
		if uint32(len(data)) < caplen {
			return nil, r.tooShort(off, typ)
		}
		// A Simple Packet Block has no timestamp: t is 0, as in libpcap.
		stamp := packet.Stamp{Res: ifc.tsresol, Bin: ifc.bin}
		stamp.Sec = int64(t/ifc.tsresol + uint64(ifc.tsoffset))
		stamp.Frac = t % ifc.tsresol
		*info = packet.Info{
			CapLen:    caplen,
			WireLen:   wirelen,
			LinkType:  ifc.linkType,
			Interface: ifid,
			Stamp:     stamp,
		}
		info.Timestamp = stamp.Nanos()
		data = data[:caplen]
		if r.swapped {
			data = r.swapPseudo(data, wirelen)
		}
		if info.LinkType == linkUSBLinuxMmapped {
			info.WireLen = fixUSBMmappedLength(data, wirelen)
		}
		return data, nil
	}
}
