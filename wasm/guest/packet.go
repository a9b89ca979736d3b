package guest

// Packet is one packet of a batch: its parse Record (spec/RECORD.md) and the
// bytes the analyzer asked for, starting at the packet's first byte. It is
// valid only during the Packet call.
type Packet struct {
	rec   []byte
	data  []byte
	index uint32
}

// Record returns the 96-byte parse record.
func (p *Packet) Record() []byte { return p.rec }

// Data returns the copied packet bytes.
func (p *Packet) Data() []byte { return p.data }

// Timestamp returns the capture time in ns since the Unix epoch.
func (p *Packet) Timestamp() int64 { return int64(le64(p.rec[recTimestamp:])) }

// WireLen returns the packet's length on the wire.
func (p *Packet) WireLen() uint32 { return le32(p.rec[recWireLen:]) }

// CapLen returns the captured length (Data may be shorter).
func (p *Packet) CapLen() uint32 { return le32(p.rec[recCapLen:]) }

// IPVersion returns 4, 6 or 0.
func (p *Packet) IPVersion() uint8 { return p.rec[recIPVersion] }

// IPProto returns the transport protocol number.
func (p *Packet) IPProto() uint8 { return p.rec[recIPProto] }

// TCPFlags returns the TCP flags byte.
func (p *Packet) TCPFlags() uint8 { return p.rec[recTCPFlags] }

// SrcPort returns the source port.
func (p *Packet) SrcPort() uint16 { return le16(p.rec[recSrcPort:]) }

// DstPort returns the destination port.
func (p *Packet) DstPort() uint16 { return le16(p.rec[recDstPort:]) }

// SrcAddr returns the source address: 4 bytes for IPv4, 16 for IPv6, nil
// without IP.
func (p *Packet) SrcAddr() []byte { return p.addr(recSrcAddr) }

// DstAddr returns the destination address like SrcAddr.
func (p *Packet) DstAddr() []byte { return p.addr(recDstAddr) }

func (p *Packet) addr(off int) []byte {
	switch p.rec[recIPVersion] {
	case 4:
		return p.rec[off : off+4]
	case 6:
		return p.rec[off : off+16]
	}
	return nil
}

// FlowHash returns the symmetric flow hash.
func (p *Packet) FlowHash() uint32 { return le32(p.rec[recFlowHash:]) }

// Flags returns the Record's flag bits.
func (p *Packet) Flags() uint32 { return le32(p.rec[recFlags:]) }

// PayloadLen returns the transport payload bytes present in the capture.
func (p *Packet) PayloadLen() uint32 { return le32(p.rec[recPayloadLen:]) }

// Payload returns the copied transport payload (possibly shorter than
// PayloadLen), or nil when the packet has none.
func (p *Packet) Payload() []byte {
	off := int(le16(p.rec[recPayloadOff:]))
	if off == noOffset || off > len(p.data) {
		return nil
	}
	return p.data[off:]
}

// Event starts an event about this packet; add fields and call Done.
func (p *Packet) Event(kind string) *Event { return startEvent(p.index, kind) }

// TickEvent starts an event that is about no packet (from Tick).
func TickEvent(kind string) *Event { return startEvent(eventNoPacket, kind) }

// Record flag bits (Packet.Flags), as in spec/RECORD.md.
const (
	FlagFragment      = 1 << 0 // an IP fragment
	FlagLaterFragment = 1 << 1 // a fragment with a non-zero offset: no transport header
	FlagTruncated     = 1 << 2 // the capture ends inside a header, or caplen < wirelen
	FlagMalformed     = 1 << 3 // a header length or field is inconsistent
)

// Truncated reports whether the capture is shorter than the packet on the
// wire, or the analyzer got fewer payload bytes than were captured.
func (p *Packet) Truncated() bool {
	return p.Flags()&FlagTruncated != 0 || uint32(len(p.Payload())) < p.PayloadLen()
}

// L4Off returns the offset of the transport header in Data, or -1.
func (p *Packet) L4Off() int {
	off := int(le16(p.rec[recL4Off:]))
	if off == noOffset {
		return -1
	}
	return off
}
