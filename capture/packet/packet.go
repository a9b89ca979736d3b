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
