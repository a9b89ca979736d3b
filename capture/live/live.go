// Package live captures from network interfaces. It chooses the fastest path
// the interface and the kernel allow, in this order, and reports the one it
// chose:
//
//  1. AF_XDP zero-copy, the filter in a native XDP program;
//  2. AF_XDP copy mode, the filter in a native XDP program;
//  3. AF_XDP copy mode behind a generic (skb) XDP program;
//  4. AF_PACKET with a TPACKET_V3 ring and the classic filter attached in
//     the kernel.
//
// With AF_XDP there is one socket and one worker goroutine per receive
// queue, and frames the filter rejects stay in the kernel (XDP_PASS): they
// are never copied, and the host's own traffic is unaffected. With
// AF_PACKET, one socket per worker shares the interface's flows by hash
// (PACKET_FANOUT). Each worker parses every packet once into its record and
// hands batches to the caller's handler.
package live

import (
	"errors"
	"fmt"
	"time"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
)

// Mode selects the capture path.
type Mode int

// Capture paths.
const (
	ModeAuto   Mode = iota // the fastest that works
	ModeXDP                // AF_XDP only (native, then generic XDP)
	ModePacket             // AF_PACKET only
)

// ParseMode parses "auto", "xdp" or "packet".
func ParseMode(s string) (Mode, error) {
	switch s {
	case "", "auto":
		return ModeAuto, nil
	case "xdp":
		return ModeXDP, nil
	case "packet":
		return ModePacket, nil
	}
	return 0, fmt.Errorf("capture mode %q: want auto, xdp or packet", s)
}

// Filters are the verified programs of one expression, compiled for the
// two places a live filter can run. Either may be nil (capture everything).
type Filters struct {
	// InBand sees VLAN tags in the frame, as XDP programs and userspace
	// filters do (libpcap's offline semantics).
	InBand *verifier.Program
	// Kernel is for the AF_PACKET socket filter, where the kernel has
	// already moved VLAN tags into metadata and the program reads them with
	// Linux ancillary loads (libpcap's live-capture semantics on Linux).
	Kernel *verifier.Program
}

// UserFilter is a filter that runs in userspace on frames the kernel could
// not filter; the JIT's *jit.Filter satisfies it.
type UserFilter interface {
	Run(pkt []byte, wirelen uint32) uint32
}

// Options configure a capture. The zero value captures everything with the
// defaults.
type Options struct {
	Mode    Mode
	Filters Filters
	// UserFilter, when the in-band program cannot run in the kernel (a
	// translation error), filters in the workers instead. Build it from
	// Filters.InBand (jit.Compile).
	UserFilter func(*verifier.Program) (UserFilter, error)
	// Snaplen truncates captured frames (default 262144).
	Snaplen uint32
	// Batch is the most packets handed to the handler at once (default 256).
	Batch int
	// CPUs pins worker i to CPUs[i % len(CPUs)]; empty leaves scheduling to Go.
	CPUs []int
	// Workers is the number of AF_PACKET sockets in the fanout group
	// (default: the number of RX queues).
	Workers int
	// Frames is the UMEM size in frames per AF_XDP socket (default 32768).
	Frames uint32
	// Poll is how long a worker waits for frames before checking for stop
	// (default 100 ms).
	Poll time.Duration
	// Log receives one line per fallback decision; nil discards them.
	Log func(format string, args ...any)
}

func (o Options) withDefaults() Options {
	if o.Snaplen == 0 {
		o.Snaplen = 262144
	}
	if o.Batch <= 0 {
		o.Batch = 256
	}
	if o.Poll <= 0 {
		o.Poll = 100 * time.Millisecond
	}
	if o.Log == nil {
		o.Log = func(string, ...any) {}
	}
	return o
}

// Handler receives each batch of captured packets, from the worker
// goroutine of queue q. Several workers call it at once. The packets' data
// is valid only until it returns.
type Handler func(q int, b *packet.Batch) error

// QueueStats are one queue's (or one fanout worker's) counters. They
// reconcile: every frame the kernel saw on the queue is Captured,
// FilteredOut or Dropped.
type QueueStats struct {
	Queue       int
	Seen        uint64 // frames the capture path saw (XDP: the program ran on them)
	FilteredOut uint64 // rejected by the filter (in the kernel or in userspace)
	Dropped     uint64 // matched but lost: ring full, fill ring empty, kernel drops
	Captured    uint64 // delivered to the handler
	DropDetail  string // the kernel's drop counters, by cause
}

// ErrNoPath is returned when no capture path could be opened.
var ErrNoPath = errors.New("no capture path available")

// ethernetOnly is the link type every live path delivers.
const ethernetOnly = spec.LinkEthernet
