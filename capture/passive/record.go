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
	offFlags   = 19 // u8: FlagRealtime or 0
)

// FlagRealtime marks a record whose time is the kernel's receive stamp on
// the realtime clock (skb->tstamp), not the TAI clock.
const FlagRealtime = 1

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
}

// ErrShortRecord is returned by Parse for a record shorter than HeaderLen.
var ErrShortRecord = errors.New("passive: record shorter than its header")

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
	return h, rec[HeaderLen:], nil
}
