// Package ipfix exports flow records to an IPFIX collector (RFC 7011, with
// the information elements of RFC 7012 and IANA's registry).
//
// The encoder writes one message at a time into a buffer it owns: a
// message header, then template sets or data sets. Two templates describe
// every record: 256 for IPv4 flows and 257 for IPv6 flows, each with the
// 5-tuple, TCP flags, VLAN id, ingress interface, start and end in
// milliseconds, packet and octet delta counts, the end reason, and three
// enterprise-specific variable-length strings for wring's analyzer results
// (HTTP host, DNS query name, TLS server name). spec/IPFIX.md gives the
// layout byte by byte.
//
// An Exporter sends the messages to a collector over UDP (templates on
// start, on a timer and every N messages; each message kept under the path
// MTU) or over TCP (templates once per connection; reconnects with
// backoff). Every record it is given is either exported or counted as
// dropped with a reason: see Counters.
package ipfix
