// Package sample embeds the small capture `wring read` reads when it is
// given no file: 500 packets of deterministic mixed traffic (HTTP, TLS,
// DNS, SIP, RTP, ICMP, ARP; VLAN, QinQ and MPLS; IPv4 options and
// fragments; IPv6 extension headers; some packets cut short) made by
// internal/trafficgen with seed 1.
package sample

import _ "embed"

//go:generate go run ../../internal/trafficgen/cmd/trafficgen -n 500 -seed 1 -o sample.pcap

// Name is the name under which the sample is reported.
const Name = "sample.pcap (bundled)"

// Pcap is the sample capture, a nanosecond pcap file of Ethernet frames.
//
//go:embed sample.pcap
var Pcap []byte
