// Package packet holds the leaf types of the capture pipeline: a captured
// packet, its metadata, the parse Record computed once per packet, and the
// verdicts handlers return. It depends on spec only, so that the Wasm host
// and the sinks can share these types without importing capture.
package packet

import "github.com/wringcap/wring/spec"

// Info is the metadata of one captured packet.
type Info struct {
	Timestamp int64         // nanoseconds since the Unix epoch
	CapLen    uint32        // bytes captured (len of Data)
	WireLen   uint32        // bytes on the wire
	LinkType  spec.LinkType // link-layer header type of Data
	Ifindex   uint32        // interface index, 0 when unknown
	Queue     uint16        // receive queue
	Interface uint32        // interface number within a capture file (pcapng IDB index), 0 otherwise
	Stamp     Stamp         // the timestamp as a capture file stored it; zero for live packets
}

// Stamp is a timestamp exactly as a capture file stored it: seconds and a
// fraction in the file's unit, before any normalisation. Fuzzed and damaged
// files hold fractions of a second or more, or negative ones; keeping the raw
// values lets a file rewritten in the same format reproduce them bit for bit,
// as libpcap does. Info.Timestamp is derived from it.
type Stamp struct {
	Sec  int64  // seconds since the epoch as stored (a pcap field is unsigned 32-bit)
	Frac uint64 // fraction in units of 1/Res; a pcap field is sign-extended from 32 bits
	Res  uint64 // ticks per second of Frac; 0 when there is no stored stamp
	Bin  bool   // Res is a power of two (pcapng if_tsresol with the top bit set)
}

// Scaled returns the stamp with its fraction converted to res ticks per
// second the way libpcap converts a file's timestamps to the precision the
// reader asked for (truncating division, wrapping multiplication).
func (s Stamp) Scaled(res uint64) (sec int64, frac uint64) {
	switch {
	case s.Res == 0 || s.Res == res:
		return s.Sec, s.Frac
	case s.Res == 1_000_000_000 && res == 1_000_000:
		// The common conversions, with constant divisors.
		return s.Sec, uint64(int64(s.Frac) / 1000)
	case s.Res == 1_000_000 && res == 1_000_000_000:
		return s.Sec, s.Frac * 1000
	case s.Bin:
		return s.Sec, s.Frac * res / s.Res
	case s.Res > res:
		if s.Res <= 1_000_000_000 {
			// A pcap field is signed: C divides toward zero.
			return s.Sec, uint64(int64(s.Frac) / int64(s.Res/res))
		}
		return s.Sec, s.Frac / (s.Res / res)
	default:
		return s.Sec, s.Frac * (res / s.Res)
	}
}

// Nanos returns the stamp as nanoseconds since the Unix epoch.
func (s Stamp) Nanos() int64 {
	sec, frac := s.Scaled(1_000_000_000)
	return sec*1_000_000_000 + int64(frac)
}

// Record is the parse record of spec/RECORD.md: a fixed little-endian
// layout filled once per packet.
type Record [spec.RecordSize]byte

// Packet is one captured packet with its parse record. Data may point into a
// ring or a reader's buffer: it is valid only until the handler returns.
type Packet struct {
	Info   Info
	Data   []byte
	Record Record
}

// Action is what a handler decided for one packet.
type Action uint8

// Actions, in increasing order of precedence when several handlers speak.
const (
	ActionNone    Action = iota // no opinion
	ActionMatch                 // the packet matches; Tag says which rule
	ActionForward               // send the packet to the sink named by Sink
	ActionDrop                  // drop the packet: no later stage sees it
)

// Verdict is a handler's decision for one packet.
type Verdict struct {
	Action Action
	Sink   uint16 // sink index for ActionForward
	Tag    uint32 // rule or match tag for ActionMatch
}

// Batch is a group of packets handed to a handler in one call, with one
// verdict slot per packet.
type Batch struct {
	Packets  []Packet
	Verdicts []Verdict
}
