package passive

import (
	"encoding/binary"
	"errors"
)

// Errors of AppendCompleted: the kernel completes the packet's checksum
// before the taps, but the copy does not allow it.
var (
	ErrChecksumCut   = errors.New("passive: the copy ends before the packet: its partial checksum cannot be completed")
	ErrChecksumRange = errors.New("passive: the partial checksum's position lies outside the copy")
	ErrChecksumSCTP  = errors.New("passive: an SCTP packet's partial CRC32c is not completed")
)

// Byte offsets of the checksum field from the start of a TCP and a UDP
// header (offsetof(struct tcphdr, check), offsetof(struct udphdr, check)).
const (
	tcpCheck = 16
	udpCheck = 6
)

// SoftwareChecksum reports whether the kernel completes the partial
// checksum of a packet with header h in software on its way from tc egress
// to the device, so that the taps (tcpdump) see it completed: it applies
// the kernel's rule (netif_skb_features' can_checksum_protocol and
// skb_csum_hwoffload_help) to the device's features recorded with the
// packet. data is the copy; ethernet says whether it starts with an
// Ethernet header, else with the IP header.
func (h Header) SoftwareChecksum(data []byte, ethernet bool) bool {
	if h.Csum&FlagCsumPartial == 0 {
		return false
	}
	typ, l3 := networkType(data, ethernet)
	v4, v6 := typ == 0x0800, typ == 0x86dd
	hw, ip, ip6 := h.Csum&FlagDevHWCsum != 0, h.Csum&FlagDevIPCsum != 0, h.Csum&FlagDevIPv6Csum != 0
	if !hw && !(ip && v4) && !(ip6 && v6) {
		return true // the device cannot checksum this protocol: no checksum feature is left
	}
	if ip || ip6 {
		if v6 && int(h.CsumStart)-l3 != 40 {
			return true // IPv6 with extension headers
		}
		if h.CsumOffset == tcpCheck || h.CsumOffset == udpCheck {
			return false
		}
	}
	return !hw
}

// networkType returns the network protocol (an EtherType) of a frame and
// the offset of its network header: behind the Ethernet header and any
// VLAN tags, or from the IP version of a raw packet. It returns 0 when it
// cannot tell.
func networkType(data []byte, ethernet bool) (uint16, int) {
	if !ethernet {
		if len(data) == 0 {
			return 0, 0
		}
		switch data[0] >> 4 {
		case 4:
			return 0x0800, 0
		case 6:
			return 0x86dd, 0
		}
		return 0, 0
	}
	if len(data) < 14 {
		return 0, 0
	}
	typ, l3 := binary.BigEndian.Uint16(data[12:]), 14
	for (typ == 0x8100 || typ == 0x88a8) && len(data) >= l3+4 {
		typ, l3 = binary.BigEndian.Uint16(data[l3+2:]), l3+4
	}
	return typ, l3
}

// AppendCompleted completes the partial checksum of data, a packet with
// header h, when the kernel does so before the taps (SoftwareChecksum): it
// appends the packet to dst with the checksum written, as
// skb_checksum_help does, and returns the extended slice. It returns dst
// as it was when the packet needs nothing, and with an error, leaving the
// copy as it is, when the copy is cut short, the position lies outside
// it, or the packet is SCTP (whose CRC32c is not a ones' complement sum).
func (h Header) AppendCompleted(dst, data []byte, ethernet bool) ([]byte, error) {
	if !h.SoftwareChecksum(data, ethernet) {
		return dst, nil
	}
	start, at := int(h.CsumStart), int(h.CsumStart)+int(h.CsumOffset)
	if start > len(data) || at+2 > len(data) {
		return dst, ErrChecksumRange
	}
	if uint64(len(data)) < uint64(h.WireLen) {
		return dst, ErrChecksumCut
	}
	typ, l3 := networkType(data, ethernet)
	switch {
	case typ == 0x0800 && len(data) > l3+9 && data[l3+9] == 132,
		typ == 0x86dd && len(data) > l3+6 && data[l3+6] == 132:
		return dst, ErrChecksumSCTP
	}
	n := len(dst)
	dst = append(dst, data...)
	out := dst[n:]
	// The field holds the pseudo-header sum: the sum over the field and
	// everything after it is the whole checksum, before the complement.
	c := ^uint16(onesSum(out[start:]))
	if c == 0 {
		c = 0xffff // CSUM_MANGLED_0
	}
	binary.BigEndian.PutUint16(out[at:], c)
	return dst, nil
}

// onesSum returns the folded ones' complement sum of b as 16-bit
// big-endian words, an odd last byte padded with zero.
func onesSum(b []byte) uint32 {
	var s uint64
	for len(b) >= 8 {
		s += uint64(binary.BigEndian.Uint32(b)) + uint64(binary.BigEndian.Uint32(b[4:]))
		b = b[8:]
	}
	for len(b) >= 2 {
		s += uint64(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint64(b[0]) << 8
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return uint32(s)
}
