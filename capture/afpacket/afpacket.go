// Package afpacket captures packets through AF_PACKET sockets with a
// TPACKET_V3 block ring: the kernel fills whole blocks of frames, the reader
// walks a block without a system call per packet and hands the block back.
// Several sockets can share the load by flow hash (PACKET_FANOUT), the
// verified classic BPF filter runs in the kernel before the copy
// (SO_ATTACH_FILTER), and the kernel's counters (PACKET_STATISTICS) say how
// many packets it dropped.
//
// The kernel strips VLAN tags into packet metadata before AF_PACKET sees the
// frame; like libpcap, the reader puts the tag back into the frame, so
// frames look as they did on the wire and filters see the tag in-band.
//
// A socket bound to every interface (ifindex 0, tcpdump's "any") is cooked:
// the kernel removes each device's link-layer header and the reader puts a
// LINUX_SLL2 header in its place, built from the frame's metadata, as
// libpcap does.
//
// AF_PACKET exists only on Linux; elsewhere Open returns an error wrapping
// ErrNotSupported.
package afpacket

import (
	"errors"
	"time"

	"github.com/wringcap/wring/internal/linux"
)

// ErrNotSupported is returned by Open off Linux (errors.Is matches it
// with capture.ErrNotSupported: they are the same value).
var ErrNotSupported = linux.ErrNotSupported

// Config sizes the ring. The zero value picks the defaults.
type Config struct {
	BlockSize   uint32        // bytes per block, a multiple of the page size (default 1 MiB, less for a smaller ring)
	Blocks      uint32        // number of blocks (default 64: a 64 MiB ring)
	Timeout     time.Duration // how long the kernel holds a partly filled block (default 10 ms; 100 ms for rings of fewer than 8 blocks)
	Snaplen     uint32        // bytes kept per frame by the kernel (default 262144)
	Fanout      bool          // join fanout group FanoutID: sockets in one group share the flows by hash
	FanoutID    uint16        // the fanout group
	Promiscuous bool          // put the interface in promiscuous mode while open
	// IgnoreOutgoing asks the kernel not to deliver frames the host sends
	// (PACKET_IGNORE_OUTGOING, tcpdump -Q in).
	IgnoreOutgoing bool
}

// SetBufferSize sizes the ring to hold about bytes: 1 MiB blocks, or one
// block of bytes rounded up to a page when that is less.
func (c *Config) SetBufferSize(bytes uint64, pageSize int) {
	const block = 1 << 20
	ps := uint64(pageSize)
	if bytes < block {
		c.BlockSize = uint32(max((bytes+ps-1)/ps*ps, ps))
		c.Blocks = 1
		if c.BlockSize >= 4*uint32(ps) {
			// Two blocks at least, so the kernel can fill one while the
			// reader walks the other.
			c.BlockSize = uint32((bytes/2 + ps - 1) / ps * ps)
			c.Blocks = 2
		}
		return
	}
	c.BlockSize = block
	c.Blocks = uint32((bytes + block - 1) / block)
}

func (c Config) withDefaults() Config {
	if c.BlockSize == 0 {
		c.BlockSize = 1 << 20
	}
	if c.Blocks == 0 {
		c.Blocks = 64
	}
	if c.Timeout == 0 {
		c.Timeout = 10 * time.Millisecond
		if c.Blocks < 8 {
			// A ring of a few blocks (a small -B split over the fanout
			// sockets) cannot retire a block every 10 ms while a loaded
			// reader still holds the others: the kernel then drops. A
			// block kept open longer fills instead (tcpdump's is 1 s).
			c.Timeout = 100 * time.Millisecond
		}
	}
	if c.Snaplen == 0 {
		c.Snaplen = 262144
	}
	return c
}

// Packet types (sll_pkttype): who the frame was for.
const (
	PacketHost      = 0 // to this host
	PacketBroadcast = 1 // to all
	PacketMulticast = 2 // to a group
	PacketOtherHost = 3 // to another host, seen in promiscuous mode
	PacketOutgoing  = 4 // sent by this host
)

// Frame is one received frame. Data points into the ring and is valid until
// the block is released.
type Frame struct {
	Data    []byte
	WireLen uint32 // length on the wire (with a restored VLAN tag or the cooked header)
	Sec     uint32
	Nsec    uint32
	RxHash  uint32
	Ifindex int32 // the interface the frame was seen on
	PktType uint8 // PacketHost, ..., PacketOutgoing
}

// Outgoing reports whether the host sent the frame.
func (f *Frame) Outgoing() bool { return f.PktType == PacketOutgoing }

// Stats are the kernel's counters since the socket was opened.
type Stats struct {
	Packets uint64 // packets that passed the filter, including the dropped ones
	Drops   uint64 // packets that passed the filter but found the ring full
	Freezes uint64 // times the queue was frozen
}

// ErrClosed is returned by Receive on a closed socket.
var ErrClosed = errors.New("afpacket: socket closed")

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// SLL2HeaderLen is the length of the LINUX_SLL2 header of cooked frames.
const SLL2HeaderLen = 20
