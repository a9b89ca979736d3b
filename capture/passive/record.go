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
	offTime    = 0  // u64: bpf_ktime_get_tai_ns() when the program ran
	offWireLen = 8  // u32: skb->len, the packet's length
	offIfindex = 12 // u32: skb->ifindex
	offQueue   = 16 // u16: skb->queue_mapping as the kernel had it
	offDir     = 18 // u8: Direction
	offFlags   = 19 // u8: reserved, 0
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
	TAI     int64     // kernel time, nanoseconds on the TAI clock (CLOCK_TAI)
	WireLen uint32    // length of the packet
	Ifindex uint32    // interface the packet was seen on
	Queue   uint16    // the skb's queue_mapping (see the package live for its meaning)
	Dir     Direction // ingress or egress
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
		TAI:     int64(binary.LittleEndian.Uint64(rec[offTime:])),
		WireLen: binary.LittleEndian.Uint32(rec[offWireLen:]),
		Ifindex: binary.LittleEndian.Uint32(rec[offIfindex:]),
		Queue:   binary.LittleEndian.Uint16(rec[offQueue:]),
		Dir:     Direction(rec[offDir]),
	}
	return h, rec[HeaderLen:], nil
}
