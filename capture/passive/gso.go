package passive

import (
	"encoding/binary"
	"errors"
)

// ErrGSOUnsupported is returned by AppendSegments for a GSO packet the
// kernel segments in software but the reader does not: UDP segmentation,
// IPv6 extension headers, tunnels.
var ErrGSOUnsupported = errors.New("passive: a GSO packet of a kind not segmented here")

// TCP flags the kernel clears when it cuts a segment (tcp_gso_segment).
const (
	tcpFIN = 0x01
	tcpPSH = 0x08
	tcpCWR = 0x80
)

// SoftwareSegments reports whether the kernel cuts the GSO packet with
// header h into segments in software on its way from tc egress to the
// device (validate_xmit_skb, when the device lacks the segmentation
// offload for it), so that the taps, and tcpdump, see the segments where
// the egress program copied one packet. data is the copy; ethernet says
// whether it starts with an Ethernet header, else with the IP header. A
// GSO packet of a kind it cannot tell (neither TCP nor UDP) counts as
// segmented in software.
func (h Header) SoftwareSegments(data []byte, ethernet bool) bool {
	if h.Csum&FlagCsumPartial == 0 || h.GSOSize == 0 {
		return false
	}
	typ, l3 := networkType(data, ethernet)
	switch proto, _ := transport(data, typ, l3); {
	case proto == 6 && typ == 0x0800:
		return h.GSODev&GSODevTSO == 0
	case proto == 6 && typ == 0x86dd:
		return h.GSODev&GSODevTSO6 == 0
	case proto == 17:
		return h.GSODev&GSODevUSO == 0
	}
	return true
}

// transport returns the transport protocol of an IPv4 or IPv6 packet at
// l3 and the offset of its header, or 0 when there is none it can name
// (an IPv6 packet with extension headers has none here).
func transport(data []byte, typ uint16, l3 int) (uint8, int) {
	switch typ {
	case 0x0800:
		if len(data) < l3+20 || data[l3]>>4 != 4 || data[l3]&15 < 5 {
			return 0, 0
		}
		return data[l3+9], l3 + int(data[l3]&15)*4
	case 0x86dd:
		if len(data) < l3+40 || data[l3]>>4 != 6 {
			return 0, 0
		}
		return data[l3+6], l3 + 40
	}
	return 0, 0
}

// AppendSegments cuts a TCP GSO packet that the kernel segments in
// software (SoftwareSegments) into the segments the taps see, as
// tcp_gso_segment and inet_gso_segment do: the headers repeated, GSOSize
// payload bytes each (the last one the rest), the IPv4 total length, ID
// (one more per segment) and header checksum or the IPv6 payload length
// rewritten, the sequence number advanced, FIN and PSH only on the last
// segment and CWR only on the first, and each TCP checksum partial or
// completed as the device's checksum features say (SoftwareChecksum). It
// appends the segments to dst back to back and their lengths to lens.
// It returns dst and lens unchanged with an error when it cannot: the
// copy cut short (ErrChecksumCut), or a kind it does not segment
// (ErrGSOUnsupported).
func (h Header) AppendSegments(dst []byte, lens []int, data []byte, ethernet bool) ([]byte, []int, error) {
	typ, l3 := networkType(data, ethernet)
	proto, l4 := transport(data, typ, l3)
	if proto != 6 || len(data) < l4+20 {
		return dst, lens, ErrGSOUnsupported
	}
	if uint64(len(data)) < uint64(h.WireLen) {
		return dst, lens, ErrChecksumCut
	}
	hdr := l4 + int(data[l4+12]>>4)*4
	if hdr < l4+20 || hdr > len(data) {
		return dst, lens, ErrGSOUnsupported
	}
	mss := int(h.GSOSize)
	payload := len(data) - hdr
	seq := binary.BigEndian.Uint32(data[l4+4:])
	var id uint16
	if typ == 0x0800 {
		id = binary.BigEndian.Uint16(data[l3+4:])
	}
	seg := Header{Csum: h.Csum, CsumStart: uint16(l4), CsumOffset: tcpCheck}
	n0, k0 := len(dst), len(lens)
	for i, off := 0, 0; off < payload || i == 0; i, off = i+1, off+mss {
		end := min(off+mss, payload)
		start := len(dst)
		dst = append(dst, data[:hdr]...)
		dst = append(dst, data[hdr+off:hdr+end]...)
		s := dst[start:]
		if typ == 0x0800 {
			ip := s[l3:]
			binary.BigEndian.PutUint16(ip[2:], uint16(len(s)-l3))
			binary.BigEndian.PutUint16(ip[4:], id+uint16(i))
			ip[10], ip[11] = 0, 0
			binary.BigEndian.PutUint16(ip[10:], ^uint16(onesSum(ip[:l4-l3])))
		} else {
			binary.BigEndian.PutUint16(s[l3+4:], uint16(len(s)-l3-40))
		}
		tcp := s[l4:]
		binary.BigEndian.PutUint32(tcp[4:], seq+uint32(off))
		if end < payload {
			tcp[13] &^= tcpFIN | tcpPSH
		}
		if i > 0 {
			tcp[13] &^= tcpCWR
		}
		// The pseudo-header sum, as the kernel leaves a partial
		// checksum, then completed where the device would not. Unlike
		// skb_checksum_help, tcp_gso_segment writes a sum that folds to
		// zero as zero (gso_make_checksum; no CSUM_MANGLED_0).
		binary.BigEndian.PutUint16(tcp[tcpCheck:], uint16(pseudoSum(s, typ, l3, len(tcp))))
		seg.WireLen = uint32(len(s))
		if seg.SoftwareChecksum(s, ethernet) {
			binary.BigEndian.PutUint16(tcp[tcpCheck:], ^uint16(onesSum(tcp)))
		}
		lens = append(lens, len(s))
		if len(lens)-k0 > 1<<16 {
			return dst[:n0], lens[:k0], ErrGSOUnsupported // more segments than a GSO packet can have
		}
	}
	return dst, lens, nil
}

// pseudoSum returns the folded ones' complement sum of the TCP/IP
// pseudo-header of the packet at l3 with an l4len-byte TCP segment.
func pseudoSum(s []byte, typ uint16, l3, l4len int) uint32 {
	var sum uint32
	if typ == 0x0800 {
		sum = onesSum(s[l3+12:l3+20]) + 6 + uint32(l4len)
	} else {
		sum = onesSum(s[l3+8:l3+40]) + 6 + uint32(l4len>>16) + uint32(l4len&0xffff)
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return sum
}
