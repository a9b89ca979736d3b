// Package live captures from network interfaces, as capture.Sources for the
// capture pipeline. It chooses a path by mode and reports the one it chose:
//
//   - ModeAuto, the default: the passive kernel path, else AF_PACKET. It
//     never takes a packet from the host.
//   - ModePassive: tc ingress and egress programs (tcx) run the filter,
//     copy the packets it matches into one BPF ring buffer per CPU with a
//     kernel timestamp, and let every packet continue (package passive).
//   - ModeXDP, for interfaces dedicated to capture: AF_XDP zero-copy, else
//     copy mode, behind a native XDP program, else a generic one. The
//     packets it captures are redirected to its sockets and are not
//     delivered to the host; the others pass untouched.
//   - ModePacket: AF_PACKET with a TPACKET_V3 ring and the classic filter
//     attached in the kernel.
//
// With AF_XDP there is one socket and one worker goroutine per receive
// queue; with the passive path one worker per CPU's ring; with AF_PACKET,
// one socket per worker shares the interface's flows by hash
// (PACKET_FANOUT). Frames the filter rejects in the kernel are never
// copied. The pipeline reads each source from its own worker, parses every
// packet once and runs the rest of the chain.
//
// On AF_PACKET every interface tcpdump handles can be captured, with the
// link type libpcap reports for it (from the ARPHRD type: Ethernet and lo
// as EN10MB, tun and IP tunnels as RAW, "any" and unknown types cooked, as
// LINUX_SLL2), in one or both directions (Options.Direction), VLAN tags
// put back into the frames, the device promiscuous unless
// Options.NoPromiscuous. Each path checks first that the process holds the
// capabilities it needs (Capabilities) and names the one missing.
//
// Live capture is Linux's: elsewhere Open, LinkTypeOf and Interfaces
// return an error wrapping ErrNotSupported that names the platform.
//
// Each worker is locked to its own thread and sleeps in poll. A program
// that captures several queues should run with GOMAXPROCS of at least the
// number of sources plus two, as wring capture sets it: a worker woken with
// frames waiting must otherwise wait for a P, and at a few Mpps that wait
// can empty an AF_XDP fill ring (RATIONALE.md).
package live

import (
	"errors"
	"fmt"
	"time"

	"github.com/wringcap/wring/capture/rulemaps"
	"github.com/wringcap/wring/internal/linux"
	"github.com/wringcap/wring/verifier"
)

// Mode selects the capture path.
type Mode int

// Capture paths.
const (
	ModeAuto    Mode = iota // passive, else AF_PACKET: never takes packets from the host
	ModeXDP                 // AF_XDP only (native, then generic XDP): takes the packets it captures
	ModePacket              // AF_PACKET only
	ModePassive             // the passive kernel path only (tc and BPF ring buffers)
)

// ParseMode parses "auto", "passive", "xdp" or "packet".
func ParseMode(s string) (Mode, error) {
	switch s {
	case "", "auto":
		return ModeAuto, nil
	case "xdp":
		return ModeXDP, nil
	case "packet":
		return ModePacket, nil
	case "passive":
		return ModePassive, nil
	}
	return 0, fmt.Errorf("capture mode %q: want auto, passive, xdp or packet", s)
}

func (m Mode) String() string {
	switch m {
	case ModeXDP:
		return "xdp"
	case ModePacket:
		return "packet"
	case ModePassive:
		return "passive"
	}
	return "auto"
}

// Filters are the verified programs of one expression, compiled for the
// two places a live filter can run. Either may be nil (capture everything).
type Filters struct {
	// InBand sees VLAN tags in the frame, as XDP programs and userspace
	// filters do (libpcap's offline semantics).
	InBand *verifier.Program
	// Kernel is for the AF_PACKET socket filter, where the kernel has
	// already moved VLAN tags into metadata and the program reads them with
	// Linux ancillary loads (libpcap's live-capture code for Linux). A
	// program that reads no VLAN metadata is given only untagged frames, so
	// that every path means the same as InBand (see RATIONALE.md).
	Kernel *verifier.Program
}

// Options configure a capture. The zero value captures everything with the
// defaults.
type Options struct {
	Mode    Mode
	Filters Filters
	// Snaplen is the most bytes the kernel keeps of a frame on the AF_PACKET
	// path (default 262144); the pipeline truncates further.
	Snaplen uint32
	// CPUs pins the worker reading source i to CPUs[i % len(CPUs)]; empty
	// leaves scheduling to Go.
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

	// Direction keeps frames received, sent, or both (the default).
	Direction Direction
	// NoPromiscuous leaves the interface out of promiscuous mode (tcpdump
	// -p); by default a capture turns it on while it runs.
	NoPromiscuous bool
	// BufferSize is the kernel memory for frames waiting to be read, in
	// bytes, for the whole capture (tcpdump -B, which counts KiB): the
	// passive path's rings, shared out among the CPUs (0:
	// DefaultPassiveBuffer); the AF_PACKET sockets' rings (0: 64 MiB per
	// socket); the AF_XDP sockets' UMEMs, in 2 KiB frames shared out among
	// the queues (0: Frames per queue).
	BufferSize uint64
	// Rules, when set, are classified in the kernel before the filter on
	// the passive and AF_XDP paths (capture/rulemaps): packets the rules
	// drop, pass, sample out or bypass are never copied, and the rules
	// count them in their maps. On AF_XDP a dropped frame ends in
	// XDP_DROP and the others the rules keep from userspace in XDP_PASS
	// (the host receives them). Where the rules cannot run in the kernel
	// (AF_PACKET, a queue of an interface, not Ethernet, a rule set the
	// kernel refuses) Log says so and Capture.RulesInKernel reports
	// false: the caller then applies them in userspace.
	Rules *rulemaps.Maps
}

func (o Options) withDefaults() Options {
	if o.Snaplen == 0 {
		o.Snaplen = 262144
	}
	if o.Poll <= 0 {
		o.Poll = 100 * time.Millisecond
	}
	if o.Log == nil {
		o.Log = func(string, ...any) {}
	}
	return o
}

// QueueStats are the kernel side of one queue's (or one fanout socket's)
// counters. They reconcile: every frame the kernel saw there was filtered
// out in the kernel, dropped by the kernel, or received by the source (and
// from there the pipeline's own counters take over).
type QueueStats struct {
	Queue       int
	Seen        uint64          // frames the kernel saw (XDP: the program ran on them)
	FilteredOut uint64          // rejected by the filter in the kernel, or kept from userspace by the kernel's rules
	Dropped     uint64          // matched but lost in the kernel: ring full, no free frame
	Received    uint64          // handed to userspace by the source
	DropDetail  string          // the kernel's drop counters, by cause
	Causes      []KernelCounter // the same counters as numbers, for metrics
	// Rules are the kernel rules' outcome counts where the rules run in
	// the kernel (nil elsewhere): this queue's on AF_XDP, every ring's
	// on the passive path. The frames the rules did not capture
	// (dropped, passed, sampled out, bypassed) are part of FilteredOut;
	// those they captured went on to the filter.
	Rules *rulemaps.Stats
}

// KernelCounter is one of the kernel's counters behind a queue's drops,
// named as the kernel names it (XDP_STATISTICS: rx_dropped, rx_ring_full,
// rx_fill_ring_empty_descs, rx_invalid_descs; PACKET_STATISTICS: drops,
// freezes; the passive rings: ring_full, unread_at_stop).
type KernelCounter struct {
	Name  string
	Value uint64
}

// Reconciles reports whether Seen = FilteredOut + Dropped + Received.
func (s QueueStats) Reconciles() bool { return s.Seen == s.FilteredOut+s.Dropped+s.Received }

// ErrNoPath is returned when no capture path could be opened.
var ErrNoPath = errors.New("no capture path available")

// ErrNotSupported is returned by Open off Linux, and wrapped when the
// kernel or a driver cannot do what a mode needs. It is the same value as
// capture.ErrNotSupported.
var ErrNotSupported = linux.ErrNotSupported

// platformError is the one-line error of every live entry point off
// Linux, naming the platform.
func platformError(what, goos, goarch string) error {
	return fmt.Errorf("%s: live capture needs linux (AF_PACKET, AF_XDP, eBPF), this is %s/%s: %w", what, goos, goarch, ErrNotSupported)
}

// Direction says which frames to capture by who sent them (tcpdump -Q).
type Direction int

// Directions. The zero value captures both.
const (
	InOut Direction = iota // frames received and sent by the host
	In                     // frames received
	Out                    // frames the host sent
)

// ParseDirection parses tcpdump's -Q argument: "in", "out" or "inout".
func ParseDirection(s string) (Direction, error) {
	switch s {
	case "", "inout":
		return InOut, nil
	case "in":
		return In, nil
	case "out":
		return Out, nil
	}
	return 0, fmt.Errorf("direction %q: want in, out or inout", s)
}

func (d Direction) String() string {
	switch d {
	case In:
		return "in"
	case Out:
		return "out"
	}
	return "inout"
}
