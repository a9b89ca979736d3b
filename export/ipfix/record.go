package ipfix

import "net/netip"

// EndReason is IANA's flowEndReason (information element 136).
type EndReason uint8

// Flow end reasons (IANA registry "flowEndReason Values").
const (
	EndIdle      EndReason = 1 // idle timeout
	EndActive    EndReason = 2 // active timeout
	EndOfFlow    EndReason = 3 // end of flow detected (TCP FIN or RST)
	EndForced    EndReason = 4 // forced end (the exporter shut down)
	EndResources EndReason = 5 // lack of resources (evicted from a full table)
)

// Record is one unidirectional flow: the packets and bytes Src sent to Dst
// between First and Last. Src and Dst must be both IPv4 or both IPv6 (an
// IPv4-mapped IPv6 address counts as IPv6).
type Record struct {
	Src, Dst         netip.Addr
	SrcPort, DstPort uint16
	Proto            uint8
	TCPFlags         uint8  // OR of the TCP flags seen (0 when unknown or not TCP)
	VLAN             uint16 // outer VLAN id (0: none)
	IfIndex          uint32 // ingress interface index (0: unknown)
	First, Last      int64  // capture time of the first and last packet, ns since the Unix epoch
	Packets, Bytes   uint64 // counts since the flow's previous report (its start: each flow is reported once)
	EndReason        EndReason

	// Analyzer results, empty when unknown: the HTTP Host header, the DNS
	// query name, the TLS server name indication.
	Host, QName, SNI string
}
