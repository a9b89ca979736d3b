//go:build linux

package live

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/cilium/ebpf"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/capture/passive"
	unix "github.com/wringcap/wring/internal/linux"
	jitebpf "github.com/wringcap/wring/jit/ebpf"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
)

// DefaultPassiveBuffer is the ring memory of a passive capture when
// Options.Buffer is zero: 64 MiB shared out among the CPUs' rings, about
// 760,000 60-byte frames (88 bytes of ring each).
const DefaultPassiveBuffer = 64 << 20

// ringPoll is the longest a passive worker waits before it looks at its
// ring again: the bound on how long a packet waits there when the ring is
// not filling up (the program then does not wake the reader).
const ringPoll = 5 * time.Millisecond

// passivePath is the passive kernel path: tc ingress and egress programs
// copying matching packets into one BPF ring buffer per CPU.
type passivePath struct {
	probe    *passive.Probe
	workers  []worker
	inKernel bool
	ringSize uint32
	stampFD  int           // a socket asking for receive timestamps, -1 if none
	linkType spec.LinkType // of the frames the programs copy
}

func (p *passivePath) describe() string {
	where := "every packet to userspace"
	if p.inKernel {
		where = "filter in the kernel"
	}
	return fmt.Sprintf("passive: tc ingress and egress (tcx) copying into %d BPF ring buffer(s) of %d KiB, %s; the host receives every packet as before",
		len(p.workers), p.ringSize>>10, where)
}

// ringBytes shares total bytes out among n rings: the largest power of two
// no larger than total/n, at least one page.
func ringBytes(total uint64, n int) uint32 {
	per := total / uint64(max(n, 1))
	r := uint64(os.Getpagesize())
	for r*2 <= per && r*2 <= 1<<30 {
		r *= 2
	}
	return uint32(r)
}

// passiveFilter returns the classic program the passive path runs: the
// kernel program (tc sees VLAN tags in metadata, as an AF_PACKET socket
// filter does), restricted to untagged packets when it reads no VLAN
// metadata and to one queue for IF@Q.
func passiveFilter(dev Device, opts Options) (*verifier.Program, error) {
	k := opts.Filters.Kernel
	if k == nil && dev.Queue < 0 {
		return nil, nil
	}
	var prog spec.Program
	if k != nil {
		prog = k.Instructions()
		vlan := verifier.Ancillary(spec.AncVLANTagPresent) | verifier.Ancillary(spec.AncVLANTag) | verifier.Ancillary(spec.AncVLANTPID)
		if k.Extensions()&vlan == 0 {
			prog = untaggedOnly(prog)
		}
	} else {
		prog = accept(opts.Snaplen)
	}
	if dev.Queue >= 0 {
		prog = queueFilter(prog, dev.Name, dev.Queue)
	}
	return verifier.Verify(prog, verifier.Options{})
}

// passiveUsable says whether the passive path can capture ifc: one
// interface (not any), whose frames at tc start with the header of the
// link type libpcap reports for it (Ethernet and loopback: the MAC header;
// tun and IP tunnels: the IP header).
func passiveUsable(ifc iface) error {
	switch {
	case ifc.index == 0:
		return errors.New("the passive path needs one interface, not any")
	case ifc.cooked:
		return fmt.Errorf("the passive path captures Ethernet, loopback and raw IP devices, %s is %s", ifc.name, hwName(ifc.hwType))
	}
	return nil
}

func openPassive(dev Device, ifc iface, opts Options) (*passivePath, error) {
	ifindex := ifc.index
	p := &passivePath{stampFD: stampReceives(), linkType: ifc.linkType}
	ps := passive.Spec{Snaplen: min(opts.Snaplen, passive.MaxSnaplen)}
	vp, err := passiveFilter(dev, opts)
	if err != nil {
		return nil, fmt.Errorf("passive: %w", err)
	}
	if vp != nil {
		regs := jitebpf.DefaultRegisters()
		insns, err := jitebpf.Translate(vp, jitebpf.Options{
			Target:       jitebpf.SocketFilter,
			MatchLabel:   passive.MatchLabel,
			NoMatchLabel: passive.NoMatchLabel,
			StackOffset:  passive.StackOffset,
		})
		switch {
		case err == nil:
			ps.Filter, ps.MatchLen = insns, regs.A
			p.inKernel = true
		case dev.Queue >= 0:
			return nil, fmt.Errorf("passive: the queue check cannot run in the kernel: %w", err)
		default:
			opts.Log("capture %s: the filter cannot run in the kernel, it runs in userspace: %v", dev, err)
		}
	} else {
		p.inKernel = opts.Filters.InBand == nil
	}
	total := opts.BufferSize
	if total == 0 {
		total = DefaultPassiveBuffer
	}
	probe, err := loadPassive(ps, total)
	if err != nil {
		return nil, err
	}
	p.probe = probe
	p.ringSize = ringBytes(total, probe.Rings())
	veth := unix.Driver(dev.Name) == "veth"
	off := taiOffset()
	for i := 0; i < probe.Rings(); i++ {
		rd, err := passive.NewReader(probe.Ring(i))
		if err != nil {
			p.close()
			return nil, fmt.Errorf("passive: reader of ring %d: %w", i, err)
		}
		cpu := -1
		if len(opts.CPUs) > 0 {
			cpu = opts.CPUs[i%len(opts.CPUs)]
		}
		p.workers = append(p.workers, &ringSource{rd: rd, probe: probe, ring: i, cpu: cpu, poll: opts.Poll,
			veth: veth, taiOffset: off, linkType: ifc.linkType})
	}
	// Attach last: every ring has its reader before the first packet. On a
	// loopback device every packet sent is also received: take it once,
	// on ingress, as libpcap does (it drops the outgoing copies there).
	in, out := opts.Direction != Out, opts.Direction != In
	if ifc.hwType == arphrdLoopback {
		out = false
	}
	if err := probe.Attach(ifindex, in, out); err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

// loadPassive loads the programs with rings sized from total bytes.
func loadPassive(ps passive.Spec, total uint64) (*passive.Probe, error) {
	n, err := ebpf.PossibleCPU()
	if err != nil {
		return nil, fmt.Errorf("passive: possible cpus: %w", err)
	}
	ps.RingBytes = ringBytes(total, n)
	return passive.Load(ps)
}

func (p *passivePath) close() {
	if p.probe != nil {
		_ = p.probe.Detach()
	}
	for _, w := range p.workers {
		w.close()
	}
	if p.probe != nil {
		_ = p.probe.Close()
	}
	if p.stampFD >= 0 {
		_ = unix.Close(p.stampFD)
		p.stampFD = -1
	}
}

// stampReceives makes the kernel stamp every packet it receives, as it
// does while tcpdump runs: it opens a socket with SO_TIMESTAMPNS, which
// turns the kernel's receive stamping on for as long as the socket is open.
// The ingress program then records the kernel's own receive time
// (skb->tstamp), the stamp tcpdump reports, rather than the later time the
// tc hook ran. It returns the socket, or -1 when it cannot (the program
// then reads the TAI clock).
func stampReceives() int {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1); err != nil {
		unix.Close(fd)
		return -1
	}
	return fd
}

// ringSource reads one CPU's ring.
type ringSource struct {
	rd        *passive.Reader
	probe     *passive.Probe
	ring      int
	cpu       int
	poll      time.Duration
	veth      bool
	taiOffset int64
	linkType  spec.LinkType

	recs     [][]byte // the records of the batch, in the ring
	pinned   bool
	received atomic.Uint64
	closed   atomic.Bool
}

// ReadBatch hands the previous batch's records back to the kernel, waits
// up to ringPoll for records if there are none, and takes up to limit of
// them. The packets' data points into the ring, without a copy, and is
// valid until the next ReadBatch.
func (s *ringSource) ReadBatch(b *packet.Batch, limit int) (int, error) {
	if !s.pinned {
		s.pinned = true
		if err := pin(s.cpu); err != nil {
			return 0, err
		}
	}
	if len(s.recs) < limit {
		s.recs = make([][]byte, limit)
	}
	// The program wakes the reader only when the ring fills up (see
	// passive.WakeFraction): look at it every ringPoll otherwise.
	k, err := s.rd.Read(s.recs[:limit], min(s.poll, ringPoll))
	if err != nil {
		return 0, fmt.Errorf("ring %d: %w", s.ring, err)
	}
	for n, rec := range s.recs[:k] {
		h, data, err := passive.Parse(rec)
		if err != nil {
			return 0, fmt.Errorf("ring %d: %w", s.ring, err)
		}
		q := h.Queue
		if h.Dir == passive.In && !s.veth && q > 0 {
			q-- // drivers record receive queue q as q+1
		}
		ts := h.Time
		if !h.Realtime {
			ts -= s.taiOffset
		}
		b.Packets[n].Info = packet.Info{Timestamp: ts, CapLen: uint32(len(data)), WireLen: h.WireLen,
			LinkType: s.linkType, Ifindex: h.Ifindex, Queue: q}
		b.Packets[n].Data = data
	}
	s.received.Add(uint64(k))
	return k, nil
}

// LinkType returns the interface's link type.
func (s *ringSource) LinkType() spec.LinkType { return s.linkType }

// Queue returns the ring's number (its CPU).
func (s *ringSource) Queue() int { return s.ring }

// Close closes the reader.
func (s *ringSource) Close() error { s.close(); return nil }

// KernelDropped returns the packets the filter matched that found the ring
// full.
func (s *ringSource) KernelDropped() uint64 {
	c, err := s.probe.Counters(s.ring)
	if err != nil {
		return 0
	}
	return c.Dropped
}

// stats reports the ring's books. Records still in the ring when the
// capture stopped were copied but never read: they are counted as dropped,
// with their number in the detail.
func (s *ringSource) stats() QueueStats {
	st := QueueStats{Queue: s.ring, Received: s.received.Load()}
	c, err := s.probe.Counters(s.ring)
	if err != nil {
		st.DropDetail = err.Error()
		return st
	}
	st.Seen = c.Seen
	st.FilteredOut = c.Seen - c.Matched
	st.Dropped = c.Dropped
	var unread uint64
	if c.Matched > c.Dropped+st.Received {
		unread = c.Matched - c.Dropped - st.Received
	}
	st.Dropped += unread
	st.DropDetail = fmt.Sprintf("ring full %d, unread at stop %d", c.Dropped, unread)
	return st
}

func (s *ringSource) close() {
	if !s.closed.Swap(true) {
		_ = s.rd.Close()
	}
}

// TakesPackets reports whether the capture takes the packets it captures
// away from the host (AF_XDP): the host's stack never receives them.
func (c *Capture) TakesPackets() bool { return c.xdp != nil }
