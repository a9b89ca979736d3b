package guest

// Packet is one packet of a batch: its parse Record (spec/RECORD.md) and the
// bytes the analyzer asked for, starting at the packet's first byte. It is
// valid only during the Packet call.
type Packet struct {
	rec   []byte
	data  []byte
	tun   []byte // the tunnel record, with Options.Tunnels
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

// Tunnel types, as TunnelType returns them (spec/tunnel.go).
const (
	TunnelNone     = 0
	TunnelGRE      = 1
	TunnelVXLAN    = 2
	TunnelGeneve   = 3
	TunnelIPIP     = 4
	TunnelIP6IP    = 5
	TunnelGTPU     = 6
	TunnelERSPAN   = 7
	TunnelVXLANGPE = 8
	TunnelNSH      = 9
	TunnelPIM      = 10
	TunnelMACsec   = 11
)

var tunnelNames = [...]string{"none", "gre", "vxlan", "geneve", "ipip", "ip6ip", "gtpu", "erspan", "vxlan-gpe", "nsh", "pim", "macsec"}

// TunnelName names a tunnel type ("gre", "vxlan", ...).
func TunnelName(t uint8) string {
	if int(t) < len(tunnelNames) {
		return tunnelNames[t]
	}
	return "unknown"
}

// TunnelType returns the tunnel the host entered to reach the packet the
// Record describes, TunnelNone when it entered none or the analyzer did
// not ask for tunnels (Options.Tunnels).
func (p *Packet) TunnelType() uint8 {
	if p.tun == nil {
		return TunnelNone
	}
	return p.tun[tunType]
}

// TunnelID returns the tunnel's GRE key, VXLAN or Geneve VNI or GTP-U
// TEID (0 when its header has none).
func (p *Packet) TunnelID() uint32 {
	if p.tun == nil {
		return 0
	}
	return le32(p.tun[tunID:])
}

// TunnelRecord returns p's 56-byte tunnel record (spec/TUNNEL.md), nil
// when the analyzer did not ask for tunnels (Options.Tunnels). (A function
// rather than a method: an exported method of Packet would be kept in
// every analyzer's binary.)
func TunnelRecord(p *Packet) []byte { return p.tun }

// OuterSrcAddr returns the outer packet's source address (4 or 16 bytes),
// nil without a tunnel.
func (p *Packet) OuterSrcAddr() []byte { return p.outer(tunSrcAddr) }

// OuterDstAddr returns the outer packet's destination address like
// OuterSrcAddr.
func (p *Packet) OuterDstAddr() []byte { return p.outer(tunDstAddr) }

func (p *Packet) outer(off int) []byte {
	if p.tun == nil || p.tun[tunType] == TunnelNone {
		return nil
	}
	if p.tun[tunIPVersion] == 4 {
		return p.tun[off : off+4]
	}
	return p.tun[off : off+16]
}
