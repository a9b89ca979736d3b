//go:build linux

package live

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/wringcap/wring/capture"
	"github.com/wringcap/wring/internal/linux"
	"github.com/wringcap/wring/spec"
)

// Capture is an open live capture on one device.
type Capture struct {
	dev     Device
	ifc     iface
	ifindex int
	opts    Options
	path    string // the path chosen, for the summary
	xdp     *xdpPath
	pkt     *packetPath
	pas     *passivePath
	netdev  *os.File // /proc/thread-self/net/dev of the device's namespace
	rxStart uint64
	// dropStart is the device's receive-drop counter at open (the drop
	// column of /proc/net/dev: rx_dropped + rx_missed_errors).
	dropStart uint64

	// mu orders Stats, InterfaceDropped and Close: Close frees the maps,
	// sockets and files the other two read, and leaves in final and
	// finalDrop what they read last.
	mu        sync.Mutex
	closed    bool
	final     []QueueStats
	finalDrop *uint64
}

// worker is one queue's source of frames.
type worker interface {
	capture.Source
	capture.KernelDropper
	stats() QueueStats
	close()
}

// Open opens a live capture on dev with the first path that works (see the
// package doc). It must be called in the network namespace of the device;
// the workers it starts later may run on any thread. Without the
// capabilities a path needs, the error names the first one missing.
func Open(dev Device, opts Options) (*Capture, error) {
	opts = opts.withDefaults()
	ifc, err := lookup(dev)
	if err != nil {
		return nil, fmt.Errorf("capture %s: %w", dev, err)
	}
	c := &Capture{dev: dev, ifc: ifc, ifindex: ifc.index, opts: opts}
	if ifc.index != 0 {
		if f, err := os.Open("/proc/thread-self/net/dev"); err == nil {
			c.netdev = f
			c.rxStart, c.dropStart, _ = c.rxCounters()
		}
	}
	var errs []error
	if opts.Mode == ModeAuto || opts.Mode == ModePassive {
		err := passiveUsable(ifc)
		if err == nil {
			err = missing(ModePassive, 0)
		}
		if err == nil {
			var p *passivePath
			if p, err = openPassive(dev, ifc, opts); err == nil {
				c.pas = p
				c.path = p.describe()
				return c, nil
			}
		}
		if opts.Mode == ModePassive {
			c.Close()
			return nil, fmt.Errorf("capture %s: %w", dev, err)
		}
		opts.Log("capture %s: not passive: %v", dev, err)
		errs = append(errs, err)
	}
	// Auto mode never takes packets from the host: AF_XDP only when asked.
	if opts.Mode == ModeXDP {
		err := xdpUsable(ifc)
		if err == nil {
			queues := uint64(ifc.queues)
			if dev.Queue >= 0 {
				queues = 1
			}
			frames := uint64(opts.Frames)
			if frames == 0 {
				frames = 32768 // afxdp's default
			}
			err = missing(ModeXDP, queues*frames*2048)
		}
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("capture %s: %w", dev, err)
		}
		for _, generic := range []bool{false, true} {
			x, err := openXDP(dev, ifc.index, ifc.queues, opts, generic)
			if err == nil {
				c.xdp = x
				c.path = x.describe()
				return c, nil
			}
			opts.Log("capture %s: %s XDP: %v", dev, map[bool]string{false: "native", true: "generic"}[generic], err)
			errs = append(errs, err)
		}
	}
	if opts.Mode == ModeAuto || opts.Mode == ModePacket {
		if err := missing(ModePacket, 0); err != nil {
			c.Close()
			return nil, fmt.Errorf("capture %s: %w", dev, err)
		}
		p, err := openPacket(dev, ifc, opts)
		if err == nil {
			c.pkt = p
			c.path = p.describe()
			return c, nil
		}
		opts.Log("capture %s: AF_PACKET: %v", dev, err)
		errs = append(errs, err)
	}
	c.Close()
	return nil, fmt.Errorf("capture %s: %w: %w", dev, ErrNoPath, errors.Join(errs...))
}

// LinkType returns the link-layer type of the captured frames, as libpcap
// reports it for the device: Ethernet, RAW for a tun device, LINUX_SLL2 for
// any.
func (c *Capture) LinkType() spec.LinkType { return c.ifc.linkType }

// Path describes the capture path in use, e.g. "AF_XDP copy mode, native
// XDP, 4 queues, filter in the kernel".
func (c *Capture) Path() string { return c.path }

func (c *Capture) workers() []worker {
	if c.xdp != nil {
		return c.xdp.workers
	}
	if c.pkt != nil {
		return c.pkt.workers
	}
	if c.pas != nil {
		return c.pas.workers
	}
	return nil
}

// Sources returns the capture's sources for the pipeline: one per queue
// (AF_XDP) or per fanout socket (AF_PACKET).
func (c *Capture) Sources() []capture.Source {
	var out []capture.Source
	for _, w := range c.workers() {
		out = append(out, w)
	}
	return out
}

// FilterInKernel reports whether the kernel runs the filter; when it does
// not, the caller runs it in the pipeline.
func (c *Capture) FilterInKernel() bool {
	if c.xdp != nil {
		return c.xdp.inKernel
	}
	if c.pas != nil {
		return c.pas.inKernel
	}
	return c.pkt != nil && c.pkt.inKernel
}

// Stats returns the per-queue counters. Call it after Run returns for
// figures that reconcile exactly. It may run beside Close, on any
// goroutine; after Close it returns the counters as they were then.
func (c *Capture) Stats() []QueueStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return slices.Clone(c.final)
	}
	return c.stats()
}

func (c *Capture) stats() []QueueStats {
	var out []QueueStats
	for _, w := range c.workers() {
		out = append(out, w.stats())
	}
	if c.pkt != nil && c.netdev != nil && len(out) > 0 {
		// AF_PACKET's kernel counters start after the filter; the
		// interface's own receive counter says how many frames there were.
		if rx, _, err := c.rxCounters(); err == nil {
			var passed uint64
			for _, s := range out {
				passed += s.Seen
			}
			seen := rx - c.rxStart
			if seen >= passed {
				out[0].FilteredOut += seen - passed
				out[0].Seen += seen - passed
			}
		}
	}
	return out
}

// rxCounters reads the device's received and receive-dropped counters
// from the namespace it was opened in (/proc/net/dev's receive packets and
// drop columns).
func (c *Capture) rxCounters() (rx, drop uint64, err error) {
	if _, err := c.netdev.Seek(0, 0); err != nil {
		return 0, 0, err
	}
	buf := make([]byte, 64<<10)
	n, _ := c.netdev.Read(buf)
	for _, l := range strings.Split(string(buf[:n]), "\n") {
		name, rest, ok := strings.Cut(strings.TrimSpace(l), ":")
		if ok && name == c.dev.Name {
			f := strings.Fields(rest)
			if len(f) > 3 {
				rx, err = strconv.ParseUint(f[1], 10, 64)
				if err == nil {
					drop, err = strconv.ParseUint(f[3], 10, 64)
				}
				return rx, drop, err
			}
		}
	}
	return 0, 0, fmt.Errorf("capture %s: no receive counter", c.dev)
}

// InterfaceDropped returns the frames the device dropped on receive since
// the capture opened (its rx_dropped + rx_missed_errors, libpcap's
// ps_ifdrop, which tcpdump prints as "dropped by interface"), and whether
// the device has the counter. The count holds frames lost before any
// capture hook (a full NIC or veth ring) and frames the host stack dropped
// later (no handler for their protocol): with a packet socket on the
// device (ModePacket, or tcpdump) the stack delivers those to the socket
// instead of dropping them, which is why only PacketSocket captures read
// it as tcpdump does.
func (c *Capture) InterfaceDropped() (uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		if c.finalDrop == nil {
			return 0, false
		}
		return *c.finalDrop, true
	}
	return c.interfaceDropped()
}

func (c *Capture) interfaceDropped() (uint64, bool) {
	if c.netdev == nil {
		return 0, false
	}
	_, drop, err := c.rxCounters()
	if err != nil || drop < c.dropStart {
		return 0, false
	}
	return drop - c.dropStart, true
}

// PacketSocket says whether the capture reads through AF_PACKET sockets.
func (c *Capture) PacketSocket() bool { return c.pkt != nil }

// Close stops using the device: detaches the programs, closes the sockets
// and unmaps their rings. The packets of a batch point into those rings,
// so a source whose reader holds a batch keeps them until the reader is
// done with it: Close under a running pipeline ends the pipeline's reads
// (each source's next ReadBatch returns io.EOF) and the rings go as each
// worker finishes (capture.Finisher). TestCloseUnderRunningPipeline.
func (c *Capture) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.final = c.stats()
	if n, ok := c.interfaceDropped(); ok {
		c.finalDrop = &n
	}
	c.closed = true
	if c.pas != nil {
		c.pas.close()
	}
	for _, w := range c.workers() {
		w.close()
	}
	if c.xdp != nil && c.xdp.prog != nil {
		c.xdp.prog.Close()
	}
	if c.netdev != nil {
		c.netdev.Close()
	}
	return nil
}

// guard prepends `ld [anc]; jeq #k, go on, reject` to an AF_PACKET kernel
// filter. The original program's jumps are relative, so they still land.
func guard(p spec.Program, anc, k uint32) spec.Program {
	out := spec.Program{
		spec.Stmt(spec.ClassLD|spec.SizeW|spec.ModeABS, spec.AncillaryBase+anc),
		spec.Jump(spec.ClassJMP|spec.JumpJEQ|spec.SrcK, k, 1, 0),
		spec.Stmt(spec.ClassRET|spec.RetK, 0),
	}
	return append(out, p...)
}

// queueFilter keeps only frames of receive queue q. Drivers record the
// receive queue in skb->queue_mapping as q+1 (skb_record_rx_queue); veth
// records none, and its queue_mapping is the peer's transmit queue, which
// is the receive queue veth's XDP path reports, so there it is q itself.
func queueFilter(p spec.Program, ifname string, q int) spec.Program {
	v := uint32(q + 1)
	if linux.Driver(ifname) == "veth" {
		v = uint32(q)
	}
	return guard(p, spec.AncQueue, v)
}

// untaggedOnly keeps only frames the kernel found no VLAN tag on. The
// kernel moves a tag into metadata before a socket filter runs, so a
// program that does not ask for VLAN tags would match tagged frames by
// their inner headers; wring's live filters mean what they mean in-band
// (in XDP, in userspace, and on the frame written to a file, where the tag
// is restored), so such a program sees only untagged frames.
func untaggedOnly(p spec.Program) spec.Program {
	return guard(p, spec.AncVLANTagPresent, 0)
}

// ethernetOnly is the link type the AF_XDP path delivers.
const ethernetOnly = spec.LinkEthernet

// pktOutgoing is PACKET_OUTGOING, the packet type of frames the host sent.
const pktOutgoing = 4

// directionFilter prepends the checks of tcpdump -Q to an AF_PACKET kernel
// filter, as libpcap makes them in pcap-linux.c: frames the host sent are
// dropped for -Q in, received ones for -Q out, and when loop is lo's
// ifindex, frames sent on lo, which the host also receives there (each
// would otherwise be captured twice).
func directionFilter(p spec.Program, dir Direction, loop int) spec.Program {
	ld := func(anc uint32) spec.Instruction {
		return spec.Stmt(spec.ClassLD|spec.SizeW|spec.ModeABS, spec.AncillaryBase+anc)
	}
	jeq := func(k uint32, jt, jf int) spec.Instruction {
		return spec.Jump(spec.ClassJMP|spec.JumpJEQ|spec.SrcK, k, uint8(jt), uint8(jf))
	}
	// Layout: 0 ld type; 1 jeq outgoing; [2 ld ifidx; 3 jeq lo]; sent: ja;
	// received: ja; drop: ret #0; then p. Jumps count from the next
	// instruction.
	sent := 2
	if loop != 0 {
		sent = 4
	}
	received, drop, start := sent+1, sent+2, sent+3
	to := func(from, target int) int { return target - from - 1 }
	ja := func(from int, toDrop bool) spec.Instruction {
		t := start
		if toDrop {
			t = drop
		}
		return spec.Stmt(spec.ClassJMP|spec.JumpJA, uint32(to(from, t)))
	}
	out := make(spec.Program, 0, start+len(p))
	out = append(out, ld(spec.AncPktType), jeq(pktOutgoing, 0, to(1, received)))
	if loop != 0 {
		out = append(out, ld(spec.AncIfindex), jeq(uint32(loop), to(3, drop), 0))
	}
	out = append(out, ja(sent, dir == In), ja(received, dir == Out), spec.Stmt(spec.ClassRET|spec.RetK, 0))
	return append(out, p...)
}

func accept(snaplen uint32) spec.Program {
	return spec.Program{spec.Stmt(spec.ClassRET|spec.RetK, snaplen)}
}
