// Package kernel is wring's one wrapper around Linux classic socket
// filters, used as an oracle in tests: Attach asks the kernel whether it
// accepts a program (SO_ATTACH_FILTER), and a Runner makes the kernel run a
// program on a packet and reports what it kept.
//
// The Runner sends each packet over an AF_UNIX datagram socket pair whose
// receiving end has the filter attached, then reads it back with
// MSG_DONTWAIT|MSG_TRUNC: no datagram means the filter returned 0, a
// datagram of n bytes means it returned a value v with min(v, len) = n
// (for an empty packet, any non-zero value). In that context the socket
// buffer is not a network packet, so ancillary loads see:
//
//   - protocol, pkttype, mark, queue, vlan_tci, vlan_avail, vlan_tpid: 0;
//   - ifindex, hatype: the buffer has no device, and Linux then ends the
//     filter at once, returning the current A;
//   - poff, rxhash: the flow dissector finds no protocol: 0 in practice, not
//     guaranteed;
//   - cpu, rand: the current CPU and a random number, not reproducible;
//   - nla, nlan: search the datagram as netlink attributes, as on netlink;
//   - len: the datagram's length (there is no separate wire length);
//   - SKF_LL_OFF loads fail (no link-layer header is set) and SKF_NET_OFF
//     loads read the buffer's headroom: not comparable with wring's VM.
//
// Everything here needs Linux; elsewhere the functions return
// ErrNotSupported.
package kernel
