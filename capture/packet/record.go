package packet

import (
	"net/netip"

	"github.com/wringcap/wring/spec"
)

// Timestamp returns the capture time in nanoseconds since the Unix epoch.
func (r *Record) Timestamp() int64 { return int64(le.Uint64(r[spec.RecTimestamp:])) }

// CapLen returns the number of captured bytes.
func (r *Record) CapLen() uint32 { return le.Uint32(r[spec.RecCapLen:]) }

// WireLen returns the packet's length on the wire.
func (r *Record) WireLen() uint32 { return le.Uint32(r[spec.RecWireLen:]) }

// Ifindex returns the interface index, 0 when unknown.
func (r *Record) Ifindex() uint32 { return le.Uint32(r[spec.RecIfindex:]) }

// Queue returns the receive queue.
func (r *Record) Queue() uint16 { return le.Uint16(r[spec.RecQueue:]) }

// LinkType returns the link-layer header type of the packet.
func (r *Record) LinkType() spec.LinkType { return spec.LinkType(le.Uint16(r[spec.RecLinkType:])) }

// L3Off returns the offset of the network header, spec.NoOffset if none.
func (r *Record) L3Off() uint16 { return le.Uint16(r[spec.RecL3Off:]) }

// L4Off returns the offset of the transport header, spec.NoOffset if none.
func (r *Record) L4Off() uint16 { return le.Uint16(r[spec.RecL4Off:]) }

// PayloadOff returns the offset of the transport payload, spec.NoOffset if
// none.
func (r *Record) PayloadOff() uint16 { return le.Uint16(r[spec.RecPayloadOff:]) }

// EtherType returns the EtherType of the network layer.
func (r *Record) EtherType() uint16 { return le.Uint16(r[spec.RecEtherType:]) }

// VLANOuter returns the TCI of the outer VLAN tag.
func (r *Record) VLANOuter() uint16 { return le.Uint16(r[spec.RecVLANOuter:]) }

// VLANInner returns the TCI of the inner VLAN tag.
func (r *Record) VLANInner() uint16 { return le.Uint16(r[spec.RecVLANInner:]) }

// VLANCount returns the number of VLAN tags (saturating at 255).
func (r *Record) VLANCount() uint8 { return r[spec.RecVLANCount] }

// MPLSCount returns the number of MPLS labels (saturating at 255).
func (r *Record) MPLSCount() uint8 { return r[spec.RecMPLSCount] }

// MPLSTop returns the top MPLS label stack entry.
func (r *Record) MPLSTop() uint32 { return le.Uint32(r[spec.RecMPLSTop:]) }

// IPVersion returns 4, 6, or 0 when the packet has no parsed IP header.
func (r *Record) IPVersion() uint8 { return r[spec.RecIPVersion] }

// IPProto returns the transport protocol number.
func (r *Record) IPProto() uint8 { return r[spec.RecIPProto] }

// TCPFlags returns the TCP flags byte (CWR..FIN).
func (r *Record) TCPFlags() uint8 { return r[spec.RecTCPFlags] }

// TTL returns the IPv4 TTL or IPv6 hop limit.
func (r *Record) TTL() uint8 { return r[spec.RecTTL] }

// SrcPort returns the source port, or type<<8|code for ICMP.
func (r *Record) SrcPort() uint16 { return le.Uint16(r[spec.RecSrcPort:]) }

// DstPort returns the destination port.
func (r *Record) DstPort() uint16 { return le.Uint16(r[spec.RecDstPort:]) }

// SrcAddr returns the source IP address, invalid when IPVersion is 0.
func (r *Record) SrcAddr() netip.Addr { return r.addr(spec.RecSrcAddr) }

// DstAddr returns the destination IP address, invalid when IPVersion is 0.
func (r *Record) DstAddr() netip.Addr { return r.addr(spec.RecDstAddr) }

func (r *Record) addr(off int) netip.Addr {
	switch r[spec.RecIPVersion] {
	case 4:
		return netip.AddrFrom4([4]byte(r[off : off+4]))
	case 6:
		return netip.AddrFrom16([16]byte(r[off : off+16]))
	}
	return netip.Addr{}
}

// FlowHash returns the symmetric flow hash.
func (r *Record) FlowHash() uint32 { return le.Uint32(r[spec.RecFlowHash:]) }

// Flags returns the spec.RecFlag* bits.
func (r *Record) Flags() uint32 { return le.Uint32(r[spec.RecFlags:]) }

// PayloadLen returns the number of transport payload bytes captured.
func (r *Record) PayloadLen() uint32 { return le.Uint32(r[spec.RecPayloadLen:]) }
