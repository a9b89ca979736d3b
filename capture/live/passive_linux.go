//go:build linux

package live

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cilium/ebpf"

	"github.com/wringcap/wring/capture"
	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/capture/passive"
	"github.com/wringcap/wring/capture/rulemaps"
	unix "github.com/wringcap/wring/internal/linux"
	jitebpf "github.com/wringcap/wring/jit/ebpf"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
)

// DefaultPassiveBuffer is the ring memory of a passive capture when
// Options.Buffer is zero: 64 MiB shared out among the CPUs' rings, about
// 760,000 60-byte frames (88 bytes of ring each).
const DefaultPassiveBuffer = 64 << 20

// ringPoll and ringPollMax bound how long a passive worker waits before
// it looks at its rings again when they hold nothing: the program wakes a
// reader only when its ring fills up, so this wait is how long a packet
// can sit in a ring that is not filling up. The wait adapts, as interrupt
// moderation does: it starts at ringPoll, doubles (up to ringPollMax)
// after each wait that found fewer than a quarter of a batch, and halves
// after one that found a whole batch. An idle or lightly loaded capture
// then wakes 20 times a second instead of 200 (each wakeup costs the Go
// scheduler several thread handoffs), and a packet on an idle interface
// still reaches the pipeline within ringPollMax.
const (
	ringPoll    = 5 * time.Millisecond
	ringPollMax = 50 * time.Millisecond
	// ringHoldBack is how long before the last read of the rings a
	// record's stamp must lie before it is handed out when there are
	// several rings (mergedSource): longer than a packet takes from its
	// stamp to its ring, so that a packet another CPU stamped earlier is
	// in its ring by the read and merged in order.
	ringHoldBack = 5 * time.Millisecond
)

// passivePath is the passive kernel path: tc ingress and egress programs
// copying matching packets into one BPF ring buffer per CPU.
type passivePath struct {
	probe    *passive.Probe
	workers  []worker
	inKernel bool
	rules    bool // the rules run in the kernel, before the filter
	ringSize uint32
	stampFD  int           // a socket asking for receive timestamps, -1 if none
	linkType spec.LinkType // of the frames the programs copy
}

func (p *passivePath) describe() string {
	where := "every packet to userspace"
	if p.inKernel {
		where = "filter in the kernel"
	}
	if p.rules {
		where = "rules and " + where
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
			ps.MinLen = absoluteEnd(vp.Instructions())
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
	ps.Rules, p.rules = passiveRules(dev, ifc, opts)
	probe, err := loadPassive(ps, total)
	if err != nil && p.rules {
		opts.Log("capture %s: the rules run in userspace: the kernel refused them with the filter: %v", dev, err)
		ps.Rules, p.rules = nil, false
		probe, err = loadPassive(ps, total)
	}
	if err != nil {
		return nil, err
	}
	p.probe = probe
	p.ringSize = ringBytes(total, probe.Rings())
	if err := probe.ChecksumErr(); err != nil && capturesOutgoing(opts, ifc) {
		opts.Log("capture %s: packets sent with a partial checksum are copied with it, where the device may complete it before tcpdump's copy: %v", dev, err)
	}
	veth := unix.Driver(dev.Name) == "veth"
	off := taiOffset()
	var rings []*ringSource
	closeRings := func() {
		for _, r := range rings {
			r.close()
		}
	}
	for i := 0; i < probe.Rings(); i++ {
		rd, err := passive.NewReader(probe.Ring(i))
		if err != nil {
			closeRings()
			p.close()
			return nil, fmt.Errorf("passive: reader of ring %d: %w", i, err)
		}
		cpu := -1
		if len(opts.CPUs) > 0 {
			cpu = opts.CPUs[i%len(opts.CPUs)]
		}
		rings = append(rings, &ringSource{rd: rd, probe: probe, ring: i, cpu: cpu, poll: opts.Poll,
			veth: veth, taiOffset: off, linkType: ifc.linkType, ethernet: ifc.linkType == spec.LinkEthernet})
	}
	cpu := -1
	if len(opts.CPUs) > 0 {
		cpu = opts.CPUs[0]
	}
	ms := &mergedSource{rings: rings, cpu: cpu, poll: opts.Poll, linkType: ifc.linkType}
	ms.gate.free = func() {
		for _, r := range ms.rings {
			r.close()
		}
	}
	if p.rules {
		ms.rules = opts.Rules
	}
	p.workers = []worker{ms}
	// Attach last: every ring has its reader before the first packet. On a
	// loopback device every packet sent is also received: take it once,
	// on ingress, as libpcap does (it drops the outgoing copies there).
	if err := probe.Attach(ifindex, opts.Direction != Out, capturesOutgoing(opts, ifc)); err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

// capturesOutgoing says whether the passive path takes the packets ifc sends. On a
// loopback device every packet sent is also received: it is taken once,
// on ingress, as libpcap does (it drops the outgoing copies there).
func capturesOutgoing(opts Options, ifc iface) bool {
	return opts.Direction != In && ifc.hwType != arphrdLoopback
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

// ringSource is one CPU's ring: its reader, the records read from it and
// not yet handed out, and its books.
type ringSource struct {
	rd        *passive.Reader
	probe     *passive.Probe
	ring      int
	cpu       int
	poll      time.Duration
	veth      bool
	taiOffset int64
	linkType  spec.LinkType
	ethernet  bool // the frames start with an Ethernet header

	recs     [][]byte // the records read since the last refill, in the ring
	nrec     int      // how many of recs
	pend     [][]byte // of recs, those not handed out yet
	received atomic.Uint64
	taken    uint64 // records taken since the last publish, not yet in received
	closed   atomic.Bool
	// Packets sent with a partial checksum that the kernel completes
	// before the taps: completed in a copy, or left as copied (the copy
	// cut short, SCTP).
	csumDone, csumLeft atomic.Uint64
	// GSO packets the kernel cuts into segments before the taps: cut
	// here (segmented, into segments), or left whole (gsoLeft).
	segmented, segments, gsoLeft atomic.Uint64

	segs    [][]byte    // segments of pend[0] not handed out yet
	segInfo packet.Info // pend[0]'s metadata
	lens    []int       // scratch for AppendSegments
}

// refill gives the records handed out before back to the kernel and reads
// the ring's records, waiting up to timeout for some when there are none.
// It must be called only once every record read before has been handed
// out and the batch holding them is done.
func (s *ringSource) refill(timeout time.Duration) error {
	if s.recs == nil {
		s.recs = make([][]byte, capture.MaxBatch)
	}
	k, err := s.rd.Read(s.recs, timeout)
	if err != nil {
		return fmt.Errorf("ring %d: %w", s.ring, err)
	}
	s.pend, s.nrec = s.recs[:k], k
	return nil
}

// more appends the records committed since the last read to pend, keeping
// the space of those read before (unlike refill).
func (s *ringSource) more() {
	k := s.rd.More(s.recs[s.nrec:])
	s.pend = s.recs[s.nrec-len(s.pend) : s.nrec+k]
	s.nrec += k
}

// read reads the ring: refill when every record read before was handed
// out, else more.
func (s *ringSource) read() error {
	if len(s.pend) == 0 {
		return s.refill(0)
	}
	s.more()
	return nil
}

// full reports whether recs holds as many records as it can, so that the
// ring may hold more that were not read.
func (s *ringSource) full() bool { return s.nrec == len(s.recs) }

// headTime returns the wall time of the next pending record.
func (s *ringSource) headTime() int64 {
	t, realtime, ok := passive.Time(s.pend[0])
	if !ok {
		return 0
	}
	if realtime {
		return t
	}
	return t - s.taiOffset
}

// take fills p with the next pending packet. A packet whose partial
// checksum the kernel completes before the taps is completed in a copy
// appended to *fix, and a GSO packet the kernel cuts into segments before
// the taps is handed out as those segments, one per take, cut into *fix;
// *fix must stay untouched until the batch is done and no segments are
// pending (segmenting).
func (s *ringSource) take(p *packet.Packet, fix *[]byte) error {
	if len(s.segs) > 0 {
		seg := s.segs[0]
		s.segs = s.segs[1:]
		p.Info = s.segInfo
		p.Info.CapLen, p.Info.WireLen = uint32(len(seg)), uint32(len(seg))
		p.Data = seg
		if len(s.segs) == 0 {
			s.pend = s.pend[1:]
		}
		return nil
	}
	h, data, err := passive.Parse(s.pend[0])
	if err != nil {
		return fmt.Errorf("ring %d: %w", s.ring, err)
	}
	q := h.Queue
	if h.Dir == passive.In && !s.veth && q > 0 {
		q-- // drivers record receive queue q as q+1
	}
	ts := h.Time
	if !h.Realtime {
		ts -= s.taiOffset
	}
	p.Info = packet.Info{Timestamp: ts, CapLen: uint32(len(data)), WireLen: h.WireLen,
		LinkType: s.linkType, Ifindex: h.Ifindex, Queue: q}
	s.taken++
	if h.Csum != 0 && h.SoftwareSegments(data, s.ethernet) {
		n := len(*fix)
		grown, lens, err := h.AppendSegments(*fix, s.lens[:0], data, s.ethernet)
		if err == nil {
			*fix, s.lens = grown, lens
			s.segs = s.segs[:0]
			for _, l := range lens {
				s.segs = append(s.segs, grown[n:n+l:n+l])
				n += l
			}
			s.segmented.Add(1)
			s.segments.Add(uint64(len(lens)))
			s.segInfo = p.Info
			return s.take(p, fix)
		}
		s.gsoLeft.Add(1)
	} else if h.Csum != 0 {
		n := len(*fix)
		grown, err := h.AppendCompleted(*fix, data, s.ethernet)
		switch {
		case err != nil:
			s.csumLeft.Add(1)
		case len(grown) > n:
			*fix, data = grown, grown[n:len(grown):len(grown)]
			p.Info.CapLen = uint32(len(data))
			s.csumDone.Add(1)
		}
	}
	p.Data = data
	s.pend = s.pend[1:]
	return nil
}

// stats reports the ring's books. Records still in the ring when the
// capture stopped were copied but never read: they are counted as dropped,
// with their number in the detail.
func (s *ringSource) stats() (QueueStats, uint64, uint64) {
	st := QueueStats{Queue: s.ring, Received: s.received.Load()}
	c, err := s.probe.Counters(s.ring)
	if err != nil {
		st.DropDetail = err.Error()
		return st, 0, 0
	}
	st.Seen = c.Seen
	st.FilteredOut = c.Seen - min(c.Matched, c.Seen) // read while frames arrive, Matched may be ahead
	st.Dropped = c.Dropped
	var unread uint64
	if c.Matched > c.Dropped+st.Received {
		unread = c.Matched - c.Dropped - st.Received
	}
	st.Dropped += unread
	return st, c.Dropped, unread
}

func (s *ringSource) close() {
	if !s.closed.Swap(true) {
		_ = s.rd.Close()
	}
}

// mergedSource is the passive path's one source: it reads every CPU's ring
// and hands out their records in timestamp order, so that a flow whose
// packets are processed on different CPUs (a request received on one, its
// reply sent from another) comes out in order, as from tcpdump's single
// socket. With several rings a record is handed out only once its stamp
// lies ringHoldBack before the last read of every ring, so that a packet
// stamped earlier on another CPU is in its ring by then and merged in
// order; only a packet whose stamp and commit lie further apart than that
// (its CPU taken away between the two) can still come out of order.
type mergedSource struct {
	rings    []*ringSource
	cpu      int
	poll     time.Duration
	linkType spec.LinkType
	pinned   bool
	fix      []byte         // packets completed or cut into segments, for this batch (and pending segments)
	rules    *rulemaps.Maps // the rules in the programs, nil if none
	wait     time.Duration  // the current wait for records (ringPoll to ringPollMax)
	gate     readGate       // frees the rings when no reader uses them
}

// nextWait returns the wait that follows one of length wait that found
// found records, for batches of limit.
func nextWait(wait time.Duration, found, limit int) time.Duration {
	switch {
	case found < limit/4:
		return min(2*wait, ringPollMax)
	case found >= limit:
		return max(wait/2, ringPoll)
	}
	return wait
}

// ReadBatch reads every ring whose records have all been handed out
// (giving their space back to the kernel), waits up to ringPoll when no
// ring has any, and hands out up to limit records, oldest first. The
// packets' data points into the rings, without a copy, and is valid until
// the next ReadBatch. After Close it returns io.EOF.
func (m *mergedSource) ReadBatch(b *packet.Batch, limit int) (int, error) {
	return m.gate.read(b, limit, m.readCounted)
}

// readCounted reads a batch and counts what it took from each ring.
func (m *mergedSource) readCounted(b *packet.Batch, limit int) (int, error) {
	n, err := m.readBatch(b, limit)
	// The records taken are counted once per batch, not with an atomic
	// add per packet, before the batch goes on: a Stats call never
	// counts a packet delivered that it did not count received.
	for _, r := range m.rings {
		if r.taken != 0 {
			r.received.Add(r.taken)
			r.taken = 0
		}
	}
	return n, err
}

func (m *mergedSource) readBatch(b *packet.Batch, limit int) (int, error) {
	if !m.pinned {
		m.pinned = true
		if err := pin(m.cpu); err != nil {
			return 0, err
		}
	}
	segmenting := false
	for _, r := range m.rings {
		segmenting = segmenting || len(r.segs) > 0
	}
	if !segmenting {
		m.fix = m.fix[:0] // the last batch is done, and no segment waits in fix
	}
	any := false
	for _, r := range m.rings {
		if err := r.read(); err != nil {
			return 0, err
		}
		any = any || len(r.pend) > 0
	}
	if !any {
		// The program wakes a reader only when its ring fills up (see
		// passive.WakeFraction): wait on the first ring for at most the
		// current wait, then look at them all.
		if m.wait == 0 {
			m.wait = ringPoll
		}
		if err := m.rings[0].refill(min(m.poll, m.wait)); err != nil {
			return 0, err
		}
		found := len(m.rings[0].pend)
		for _, r := range m.rings[1:] {
			if err := r.refill(0); err != nil {
				return 0, err
			}
			found += len(r.pend)
		}
		m.wait = nextWait(m.wait, found, limit)
	}
	// The rings were read one after the other: a ring read early may since
	// have received a record stamped before one a later ring returned (a
	// request sent on one CPU, its reply received on another). Every ring
	// is read once more after readAt, and the merge hands out only records
	// stamped ringHoldBack before readAt: any record stamped that early was
	// in its ring by readAt, so it is read and merged in order. Later ones
	// wait for the next call (a stamp after now is a clock step, not a
	// record to wait for).
	hold, readAt, now := int64(0), int64(0), int64(0)
	if len(m.rings) > 1 {
		hold, readAt = int64(ringHoldBack), time.Now().UnixNano()
		for _, r := range m.rings {
			if err := r.read(); err != nil {
				return 0, err
			}
		}
		now = time.Now().UnixNano()
	}
	n := 0
	for n < limit {
		var best *ringSource
		var bestTime int64
		for _, r := range m.rings {
			if len(r.pend) == 0 {
				continue
			}
			if t := r.headTime(); best == nil || t < bestTime {
				best, bestTime = r, t
			}
		}
		if best == nil {
			break
		}
		if hold != 0 {
			if bestTime > readAt-hold && bestTime <= now {
				if n == 0 {
					// Every record read is recent: wait until the oldest
					// may go rather than be called again at once.
					time.Sleep(time.Duration(min(bestTime+hold-readAt, hold)))
				}
				break
			}
		}
		if err := best.take(&b.Packets[n], &m.fix); err != nil {
			return n, err
		}
		n++
		if hold != 0 && len(best.pend) == 0 && best.full() {
			// Its ring may hold older records than the other rings'
			// next ones: read it again (refill) before merging on.
			break
		}
	}
	return n, nil
}

// LinkType returns the interface's link type.
func (m *mergedSource) LinkType() spec.LinkType { return m.linkType }

// Queue returns 0: the source reads every ring.
func (m *mergedSource) Queue() int { return 0 }

// Close closes the rings' readers.
func (m *mergedSource) Close() error { m.close(); return nil }

// KernelDropped returns the packets the filter matched that found their
// ring full, over all rings.
func (m *mergedSource) KernelDropped() uint64 {
	var d uint64
	for _, r := range m.rings {
		if c, err := r.probe.Counters(r.ring); err == nil {
			d += c.Dropped
		}
	}
	return d
}

// stats adds up the rings' books; the detail gives each ring's.
func (m *mergedSource) stats() QueueStats {
	t := QueueStats{Queue: 0}
	var full, unread, csumDone, csumLeft, segmented, segments, gsoLeft uint64
	var detail []string
	for _, r := range m.rings {
		st, f, u := r.stats()
		t.Seen += st.Seen
		t.FilteredOut += st.FilteredOut
		t.Dropped += st.Dropped
		t.Received += st.Received
		full += f
		unread += u
		csumDone += r.csumDone.Load()
		csumLeft += r.csumLeft.Load()
		segmented += r.segmented.Load()
		segments += r.segments.Load()
		gsoLeft += r.gsoLeft.Load()
		detail = append(detail, fmt.Sprintf("ring %d: seen %d, received %d", r.ring, st.Seen, st.Received))
	}
	t.DropDetail = fmt.Sprintf("ring full %d, unread at stop %d; %s", full, unread, strings.Join(detail, "; "))
	if csumDone+csumLeft > 0 {
		// Not drops: partial checksums of sent packets the device's
		// kernel completes before tcpdump's copy.
		t.DropDetail += fmt.Sprintf("; partial checksums completed %d, left as copied %d", csumDone, csumLeft)
	}
	if segmented+gsoLeft > 0 {
		// Not drops either: GSO packets the kernel segments before
		// tcpdump's copy; the kernel's books count them as one.
		t.DropDetail += fmt.Sprintf("; GSO packets cut into segments %d (%d segments), left whole %d", segmented, segments, gsoLeft)
	}
	t.Causes = []KernelCounter{{"ring_full", full}, {"unread_at_stop", unread}}
	if m.rules != nil {
		if r, err := m.rules.Stats(); err == nil {
			t.Rules = &r
		}
	}
	return t
}

// close frees the rings now, or once the reader is done with them.
func (m *mergedSource) close() { m.gate.close() }

// Finish says the pipeline worker is done with the source.
func (m *mergedSource) Finish() { m.gate.finish() }

// absoluteEnd returns the end of the furthest absolute packet load of a
// classic program (ld [k], ldx 4*([k]&0xf)): a packet shorter than that
// could make the kernel end the translated filter early (see
// passive.Spec.MinLen).
func absoluteEnd(p spec.Program) uint32 {
	var end uint32
	for _, ins := range p {
		var e uint32
		switch {
		case ins.Class() == spec.ClassLD && ins.Mode() == spec.ModeABS && !spec.IsAncillary(ins.K):
			e = ins.K + map[uint16]uint32{spec.SizeW: 4, spec.SizeH: 2, spec.SizeB: 1}[ins.Size()]
		case ins.Class() == spec.ClassLDX && ins.Mode() == spec.ModeMSH && !spec.IsAncillary(ins.K):
			e = ins.K + 1
		}
		if e > end && e < spec.AncillaryBase {
			end = e
		}
	}
	return end
}

// TakesPackets reports whether the capture takes the packets it captures
// away from the host (AF_XDP): the host's stack never receives them.
func (c *Capture) TakesPackets() bool { return c.xdp != nil }
