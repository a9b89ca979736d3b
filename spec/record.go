package spec

// The parse Record is a fixed, little-endian layout computed once per packet
// and read by filters (through RecordBase loads), by Wasm analyzers (in their
// linear memory) and by sinks. RECORD.md is the normative description; the
// constants below are the byte offsets of its fields.
const (
	RecordSize = 96 // bytes in one Record

	RecTimestamp  = 0  // u64 nanoseconds since the Unix epoch
	RecCapLen     = 8  // u32 captured length
	RecWireLen    = 12 // u32 length on the wire
	RecIfindex    = 16 // u32 interface index (0 when unknown)
	RecQueue      = 20 // u16 receive queue
	RecLinkType   = 22 // u16 link type (LINKTYPE_*)
	RecL3Off      = 24 // u16 offset of the network header, NoOffset if none
	RecL4Off      = 26 // u16 offset of the transport header, NoOffset if none
	RecPayloadOff = 28 // u16 offset of the transport payload, NoOffset if none
	RecEtherType  = 30 // u16 EtherType of the network layer, after VLAN tags and MPLS
	RecVLANOuter  = 32 // u16 TCI of the outer VLAN tag
	RecVLANInner  = 34 // u16 TCI of the inner VLAN tag
	RecVLANCount  = 36 // u8 number of VLAN tags (all of them, even past two)
	RecMPLSCount  = 37 // u8 number of MPLS labels
	RecIPVersion  = 38 // u8 4, 6 or 0
	RecIPProto    = 39 // u8 transport protocol (after IPv6 extension headers)
	RecTCPFlags   = 40 // u8 TCP flags (CWR..FIN)
	RecTTL        = 41 // u8 IPv4 TTL or IPv6 hop limit
	RecSrcPort    = 42 // u16 source port (TCP, UDP, SCTP), or ICMP type<<8|code
	RecDstPort    = 44 // u16 destination port (TCP, UDP, SCTP)
	RecMPLSLabel  = 46 // u16 reserved, zero (the top MPLS label is at RecMPLSTop)
	RecSrcAddr    = 48 // [16]byte source address; IPv4 in the first 4 bytes, network order
	RecDstAddr    = 64 // [16]byte destination address; IPv4 in the first 4 bytes
	RecFlowHash   = 80 // u32 symmetric flow hash (same value for both directions)
	RecFlags      = 84 // u32 RecFlag* bits
	RecPayloadLen = 88 // u32 transport payload bytes present in the capture
	RecMPLSTop    = 92 // u32 top MPLS label stack entry (label<<12|tc<<9|s<<8|ttl)
)

// NoOffset marks an absent layer in RecL3Off, RecL4Off and RecPayloadOff.
const NoOffset = 0xffff

// Record flag bits (RecFlags).
const (
	RecFlagFragment      = 1 << 0 // an IP fragment (more-fragments set or offset non-zero)
	RecFlagLaterFragment = 1 << 1 // a fragment with a non-zero offset: no transport header
	RecFlagTruncated     = 1 << 2 // the capture ends inside a header, or caplen < wirelen
	RecFlagMalformed     = 1 << 3 // a header length or field is inconsistent
	RecFlagIPOptions     = 1 << 4 // IPv4 options present
	RecFlagIPv6Ext       = 1 << 5 // IPv6 extension headers present
	RecFlagVLAN          = 1 << 6 // at least one VLAN tag
	RecFlagMPLS          = 1 << 7 // at least one MPLS label
)
