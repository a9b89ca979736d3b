package pcapfile

import (
	"encoding/binary"
	"math/bits"

	"github.com/wringcap/wring/spec"
)

// Link types whose pseudo-headers hold fields in the byte order of the host
// that wrote the file (libpcap's swap_pseudo_headers).
const (
	linkUSBLinuxMmapped spec.LinkType = 220
	sllProtoCAN                       = 0x000c
	sllProtoCANFD                     = 0x000d
)

// swapPseudoHeader converts, in place, the host-order fields of a packet's
// pseudo-header from the byte order of the host that wrote a byte-swapped
// file to ours, as libpcap does before handing the packet on (and as
// tcpdump -w then writes it). caplen is len(data); wirelen the length on
// the wire.
func swapPseudoHeader(lt spec.LinkType, data []byte, wirelen uint32) {
	switch lt {
	case spec.LinkPFLog:
		swapPFLog(data, wirelen)
	case spec.LinkLinuxSLL:
		if len(data) >= 16 && wirelen >= 16 {
			swapCAN(binary.BigEndian.Uint16(data[14:]), data[16:], wirelen-16)
		}
	case spec.LinkLinuxSLL2:
		if len(data) >= 20 && wirelen >= 20 {
			swapCAN(binary.BigEndian.Uint16(data[0:]), data[20:], wirelen-20)
		}
	case spec.LinkUSBLinux:
		swapUSB(data, false)
	case linkUSBLinuxMmapped:
		swapUSB(data, true)
	case spec.LinkNFLog:
		swapNFLog(data, wirelen)
	}
}

func swap16at(b []byte, off int) {
	binary.LittleEndian.PutUint16(b[off:], bits.ReverseBytes16(binary.LittleEndian.Uint16(b[off:])))
}

func swap32at(b []byte, off int) {
	binary.LittleEndian.PutUint32(b[off:], bits.ReverseBytes32(binary.LittleEndian.Uint32(b[off:])))
}

func swap64at(b []byte, off int) {
	binary.LittleEndian.PutUint64(b[off:], bits.ReverseBytes64(binary.LittleEndian.Uint64(b[off:])))
}

// swapPFLog swaps uid, pid, rule_uid and rule_pid (offsets 44, 48, 52, 56
// of struct pfloghdr) while the capture and the header's own length field
// cover them.
func swapPFLog(b []byte, wirelen uint32) {
	if len(b) < 1 {
		return
	}
	hlen := int(b[0])
	for _, off := range []int{44, 48, 52, 56} {
		if len(b) < off+4 || int(wirelen) < off+4 || hlen < off+4 {
			return
		}
		swap32at(b, off)
	}
}

// swapCAN swaps the CAN ID of a SocketCAN header carried by Linux cooked
// capture.
func swapCAN(proto uint16, b []byte, wirelen uint32) {
	if proto != sllProtoCAN && proto != sllProtoCANFD {
		return
	}
	if len(b) >= 4 && wirelen >= 4 {
		swap32at(b, 0)
	}
}

// swapNFLog swaps the type and length of each TLV after the 4-byte NFLOG
// header.
func swapNFLog(b []byte, wirelen uint32) {
	if len(b) < 4 || wirelen < 4 || b[1] != 0 { // nflog_version
		return
	}
	caplen, length := len(b)-4, int(wirelen)-4
	p := 4
	for caplen >= 4 {
		swap16at(b, p)   // tlv_length
		swap16at(b, p+2) // tlv_type
		size := int(binary.LittleEndian.Uint16(b[p:]))
		if size%4 != 0 {
			size += 4 - size%4
		}
		if size < 4 || caplen < size || length < size {
			return
		}
		caplen -= size
		length -= size
		p += size
	}
}

// swapUSB swaps the host-order fields of a Linux USB pseudo-header (48
// bytes, or 64 for the memory-mapped variant) and its isochronous
// descriptors.
func swapUSB(b []byte, mmapped bool) {
	n := len(b)
	steps := []struct{ size, off int }{{8, 0}, {2, 12}, {8, 16}, {4, 24}, {4, 28}, {4, 32}, {4, 36}}
	for _, s := range steps {
		if n < s.off+s.size {
			return
		}
		switch s.size {
		case 2:
			swap16at(b, s.off)
		case 4:
			swap32at(b, s.off)
		case 8:
			swap64at(b, s.off)
		}
	}
	const urbIsochronous = 0
	iso := b[9] == urbIsochronous
	off := 40
	if iso {
		for _, o := range []int{40, 44} {
			if n < o+4 {
				return
			}
			swap32at(b, o)
		}
	}
	off = 48
	if !mmapped {
		return
	}
	for _, o := range []int{48, 52, 56, 60} {
		if n < o+4 {
			return
		}
		swap32at(b, o)
	}
	off = 64
	if !iso {
		return
	}
	ndesc := binary.LittleEndian.Uint32(b[60:])
	for i := uint32(0); i < ndesc; i++ {
		for _, o := range []int{off, off + 4, off + 8} {
			if n < o+4 {
				return
			}
			swap32at(b, o)
		}
		off += 16
	}
}

// swapPseudo applies swapPseudoHeader to a packet of a byte-swapped file,
// on a copy when the reader's bytes belong to the caller.
func (r *Reader) swapPseudo(data []byte, wirelen uint32) []byte {
	switch r.linkType {
	case spec.LinkPFLog, spec.LinkLinuxSLL, spec.LinkLinuxSLL2, spec.LinkUSBLinux, linkUSBLinuxMmapped, spec.LinkNFLog:
	default:
		return data
	}
	if r.src == nil {
		data = append([]byte(nil), data...)
	}
	swapPseudoHeader(r.linkType, data, wirelen)
	return data
}

// fixUSBMmappedLength is libpcap's fixup_pcap_pkthdr: older libpcap
// computed the on-the-wire length of memory-mapped Linux USB completion
// events for incoming isochronous transfers from the raw URB length; when
// a packet's length matches that computation, libpcap recomputes it from
// the isochronous descriptors. It applies to every file, byte-swapped or
// not, and returns the (maybe corrected) wire length.
func fixUSBMmappedLength(b []byte, wirelen uint32) uint32 {
	caplen := uint32(len(b))
	if caplen < 64 || b[15] != 0 { // the whole header; data_flag 0 means data present
		return wirelen
	}
	le := binary.LittleEndian
	ndesc, urbLen := le.Uint32(b[60:]), le.Uint32(b[32:])
	if wirelen != 64+ndesc*16+urbLen {
		return wirelen
	}
	const urbComplete, urbIsochronous, urbTransferIn = 'C', 0, 0x80
	if b[9] != urbIsochronous || b[8] != urbComplete || b[10]&urbTransferIn == 0 {
		return wirelen
	}
	var dataLen uint32
	left := caplen - 64
	for d, off := uint32(0), 64; d < ndesc && left >= 16; d, off, left = d+1, off+16, left-16 {
		if l := le.Uint32(b[off+8:]); l != 0 {
			if end := le.Uint32(b[off+4:]) + l; end > dataLen {
				dataLen = end
			}
		}
	}
	if n := 64 + ndesc*16 + dataLen; n >= caplen {
		wirelen = n
	}
	return max(wirelen, caplen)
}
