package passive

import (
	"encoding/binary"
	"errors"
)

// HeaderLen is the size of the header in front of every record's packet
// bytes.
const HeaderLen = 20

// Header layout, little-endian (the kernel writes it in host order; wring
// runs on little-endian hosts, and Parse refuses nothing it can read).
const (
	offTime    = 0  // u64: the kernel's receive stamp (FlagRealtime) or bpf_ktime_get_tai_ns()
	offWireLen = 8  // u32: skb->len, the packet's length
	offIfindex = 12 // u32: skb->ifindex
	offQueue   = 16 // u16: skb->queue_mapping as the kernel had it
	offDir     = 18 // u8: Direction
	offFlags   = 19 // u8: FlagRealtime, FlagCsumPartial, FlagDev*Csum
)

// TrailerLen is the size of the trailer behind the packet bytes of a
// record with FlagCsumPartial, little-endian: the checksum's start (from
// the first byte of the packet bytes) and its offset from there (u16
// each), the GSO segment size (u16, 0 for a packet that is not GSO), the
// device's segmentation features (u8, GSODev* bits) and a zero byte.
const TrailerLen = 8

// Segmentation features of the device, in a record's trailer
// (NETIF_F_TSO, NETIF_F_TSO6, NETIF_F_GSO_UDP_L4).
const (
	GSODevTSO  = 1
	GSODevTSO6 = 2
	GSODevUSO  = 4
)

// Record flags.
const (
	// FlagRealtime marks a record whose time is the kernel's receive
	// stamp on the realtime clock (skb->tstamp), not the TAI clock.
	FlagRealtime = 1
	// FlagCsumPartial marks a packet sent with a partial checksum
	// (CHECKSUM_PARTIAL); the record has a trailer.
	FlagCsumPartial = 2
	// FlagDevHWCsum, FlagDevIPCsum and FlagDevIPv6Csum are the device's
	// checksum features when the packet was copied (NETIF_F_HW_CSUM,
	// NETIF_F_IP_CSUM, NETIF_F_IPV6_CSUM), set with FlagCsumPartial.
	FlagDevHWCsum   = 4
	FlagDevIPCsum   = 8
	FlagDevIPv6Csum = 16
)

// Direction says which hook copied a packet.
type Direction uint8

// Directions.
const (
	In  Direction = 0 // received (tc ingress)
	Out Direction = 1 // sent (tc egress)
)

// String returns "in" or "out".
func (d Direction) String() string {
	if d == Out {
		return "out"
	}
	return "in"
}

// Header is the metadata of one copied packet.
type Header struct {
	Time     int64     // kernel time in nanoseconds: on the realtime clock if Realtime, else on the TAI clock (CLOCK_TAI)
	Realtime bool      // Time is the kernel's receive stamp, wall time already
	WireLen  uint32    // length of the packet
	Ifindex  uint32    // interface the packet was seen on
	Queue    uint16    // the skb's queue_mapping (see the package live for its meaning)
	Dir      Direction // ingress or egress
	// Csum is set for a packet the host sent with a partial checksum:
	// FlagCsumPartial and the device's FlagDev*Csum bits.
	Csum uint8
	// CsumStart and CsumOffset, for a partial checksum: the checksum
	// covers the packet bytes from CsumStart to the end and goes at
	// CsumStart+CsumOffset.
	CsumStart, CsumOffset uint16
	// GSOSize is the segment size of a GSO packet (one the device or
	// the kernel cuts into segments of GSOSize payload bytes), 0 for
	// others; GSODev holds the device's GSODev* features. Both are set
	// only with Csum (a GSO packet's checksum is always partial).
	GSOSize uint16
	GSODev  uint8
}

// ErrShortRecord is returned by Parse for a record shorter than HeaderLen,
// or than HeaderLen+TrailerLen when its flags announce a trailer.
var ErrShortRecord = errors.New("passive: record shorter than its header")

// Time returns a record's time and whether it is on the realtime clock,
// as Parse would, reading only those fields; ok is false for a record
// Parse refuses as short of its header.
func Time(rec []byte) (t int64, realtime, ok bool) {
	if len(rec) < HeaderLen {
		return 0, false, false
	}
	f := rec[offFlags]
	if f&FlagCsumPartial != 0 && len(rec) < HeaderLen+TrailerLen {
		return 0, false, false
	}
	return int64(binary.LittleEndian.Uint64(rec[offTime:])), f&FlagRealtime != 0, true
}

// Parse splits a record into its header and the captured bytes, which
// alias rec.
func Parse(rec []byte) (Header, []byte, error) {
	if len(rec) < HeaderLen {
		return Header{}, nil, ErrShortRecord
	}
	h := Header{
		Time:     int64(binary.LittleEndian.Uint64(rec[offTime:])),
		Realtime: rec[offFlags]&FlagRealtime != 0,
		WireLen:  binary.LittleEndian.Uint32(rec[offWireLen:]),
		Ifindex:  binary.LittleEndian.Uint32(rec[offIfindex:]),
		Queue:    binary.LittleEndian.Uint16(rec[offQueue:]),
		Dir:      Direction(rec[offDir]),
	}
	if f := rec[offFlags]; f&FlagCsumPartial != 0 {
		if len(rec) < HeaderLen+TrailerLen {
			return Header{}, nil, ErrShortRecord
		}
		t := rec[len(rec)-TrailerLen:]
		h.Csum = f & (FlagCsumPartial | FlagDevHWCsum | FlagDevIPCsum | FlagDevIPv6Csum)
		h.CsumStart = binary.LittleEndian.Uint16(t)
		h.CsumOffset = binary.LittleEndian.Uint16(t[2:])
		h.GSOSize = binary.LittleEndian.Uint16(t[4:])
		h.GSODev = t[6] & (GSODevTSO | GSODevTSO6 | GSODevUSO)
		return h, rec[HeaderLen : len(rec)-TrailerLen : len(rec)-TrailerLen], nil
	}
	return h, rec[HeaderLen:], nil
}
