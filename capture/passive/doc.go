// Package passive captures packets without taking them from the host: a
// program attached to an interface's tc ingress and egress hooks (tcx) runs
// the translated filter on every packet, copies the packets it matches,
// with a kernel timestamp and their metadata, into a BPF ring buffer, and
// lets every packet continue unchanged. Packets the filter rejects are
// never copied.
//
// There is one ring per CPU: a packet is written to the ring of the CPU the
// kernel processes it on, so producers never contend for a ring. A Reader
// reads one ring in place; capture/live reads all of a capture's rings
// from one source, merging their records in time order. Each ring's counters (packets seen, matched, and
// matched but dropped because the ring was full) are kept in the kernel
// beside it.
//
// A record in a ring is a fixed Header followed by the captured bytes; see
// Header for the layout. A packet the host sent with a partial checksum
// (CHECKSUM_PARTIAL) also carries an 8-byte trailer saying where the
// checksum goes, read from the kernel's sk_buff through BTF; when the
// kernel completes that checksum in software before the taps (a device
// without checksum offload, such as tun), Header.AppendCompleted completes
// it in a copy, so the bytes equal tcpdump's. The trailer also carries a
// GSO packet's segment size: where the kernel cuts the packet into
// segments before the taps (a device without TSO), Header.AppendSegments
// cuts the copy the same way. The ring stores records back to back, 8-byte
// aligned, behind the kernel's own 8-byte record header, so a 60-byte frame
// costs 88 bytes of ring.
package passive
