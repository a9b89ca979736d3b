package spec

// The tunnel record describes the outer packet of a tunnelled one, beside a
// parse Record that describes the inner packet (capture/packet.ParseInner).
// It is an addition: the Record keeps its layout and its meaning (the
// outermost packet) wherever it was used before, for filters and for the
// analyzer ABI. TUNNEL.md is the normative description; the constants
// below are the byte offsets of its fields (little-endian, addresses in
// network order).
const (
	TunnelRecordSize = 56 // bytes in one tunnel record

	TunType      = 0  // u8 TunnelType; TunnelNone when the packet is not decapsulated
	TunIPVersion = 1  // u8 outer IP version, 4 or 6; 0 for a link-layer encapsulation (NSH, MACsec)
	TunIPProto   = 2  // u8 outer IP protocol (47 GRE, 4 IPv4, 41 IPv6, 17 UDP, 103 PIM)
	TunDepth     = 3  // u8 tunnel headers removed (1)
	TunID        = 4  // u32 GRE key, VXLAN, VXLAN-GPE or Geneve VNI, GTP-U TEID, ERSPAN session, NSH SPI<<8|SI; 0 when none
	TunOuterL3   = 8  // u16 offset of the outer IP header
	TunOuterL4   = 10 // u16 offset of the header after the outer IP header (GRE, UDP, or the inner IP)
	TunInner     = 12 // u16 offset of the inner packet (Ethernet header or IP header)
	TunInnerLink = 14 // u16 link type of the inner packet: LinkEthernet, or LinkRaw for IP
	TunSrcPort   = 16 // u16 outer UDP source port (VXLAN, Geneve, GTP-U), else 0
	TunDstPort   = 18 // u16 outer UDP destination port, else 0
	TunFlags     = 20 // u32 RecFlag* bits of the outer packet
	TunSrcAddr   = 24 // [16]byte outer source address; IPv4 in the first 4 bytes
	TunDstAddr   = 40 // [16]byte outer destination address
)

// TunnelType says which encapsulation a tunnel record describes.
type TunnelType uint8

// Tunnel types.
const (
	TunnelNone     TunnelType = iota
	TunnelGRE                 // GRE version 0 (RFC 2784, 2890): IPv4, IPv6 or Ethernet (0x6558) inside
	TunnelVXLAN               // VXLAN (RFC 7348), UDP port 4789: Ethernet inside
	TunnelGeneve              // Geneve (RFC 8926), UDP port 6081: Ethernet or IP inside
	TunnelIPIP                // IPv4 in IPv4 or IPv6 (protocol 4)
	TunnelIP6IP               // IPv6 in IPv4 (6in4) or IPv6 (protocol 41)
	TunnelGTPU                // GTP-U (3GPP TS 29.281), UDP port 2152, G-PDU: IP inside
	TunnelERSPAN              // ERSPAN type I, II (GRE 0x88be) and III (GRE 0x22eb): Ethernet inside
	TunnelVXLANGPE            // VXLAN-GPE, UDP port 4790: IP, Ethernet or NSH then what it carries
	TunnelNSH                 // NSH (RFC 8300) on Ethernet (0x894f): IP or Ethernet inside; no outer IP
	TunnelPIM                 // PIMv2 Register (IP protocol 103, type 1): the multicast IP packet inside
	TunnelMACsec              // MACsec (IEEE 802.1AE, 0x88e5) without encryption: the protected IP; no outer IP
)

var tunnelNames = [...]string{"none", "gre", "vxlan", "geneve", "ipip", "ip6ip", "gtpu", "erspan", "vxlan-gpe", "nsh", "pim", "macsec"}

// String names the tunnel type.
func (t TunnelType) String() string {
	if int(t) < len(tunnelNames) {
		return tunnelNames[t]
	}
	return "unknown"
}
