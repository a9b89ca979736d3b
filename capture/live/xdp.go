//go:build linux

package live

import (
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
	"time"

	unix "github.com/wringcap/wring/internal/linux" // the x/sys/unix names, through wring's one door

	"github.com/wringcap/wring/capture/afxdp"
	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/capture/rulemaps"
	jitebpf "github.com/wringcap/wring/jit/ebpf"
	"github.com/wringcap/wring/spec"
)

// xdpPath is an XDP program on the interface and one AF_XDP socket per
// captured queue.
type xdpPath struct {
	prog     *afxdp.Program
	workers  []worker
	inKernel bool // the filter runs in the XDP program
	rules    bool // Options.Rules run in the XDP program, before the filter
	queues   int
	mode     afxdp.Mode
}

func (x *xdpPath) describe() string {
	where := "every frame to userspace"
	if x.inKernel {
		where = "filter in the XDP program"
	}
	switch {
	case x.rules && x.inKernel:
		where = "rules and filter in the XDP program"
	case x.rules:
		where = "rules in the XDP program, every frame they capture to userspace"
	}
	attach := "native XDP"
	if x.prog.Generic {
		attach = "generic XDP"
	}
	return fmt.Sprintf("AF_XDP %s mode, %s, %d queue(s), %s", x.mode, attach, len(x.workers), where)
}

func openXDP(dev Device, ifindex, nq int, opts Options, generic bool) (*xdpPath, error) {
	x := &xdpPath{queues: nq}
	var spec afxdp.ProgramSpec
	if f := opts.Filters.InBand; f != nil {
		insns, err := jitebpf.Translate(f, jitebpf.Options{
			Target:       jitebpf.XDP,
			MatchLabel:   afxdp.MatchLabel,
			NoMatchLabel: afxdp.NoMatchLabel,
			StackOffset:  8,
		})
		if err == nil {
			spec.Filter = insns
			x.inKernel = true
		} else {
			// Every frame goes to userspace; the caller filters there.
			opts.Log("capture %s: the filter cannot run in XDP, it runs in userspace: %v", dev, err)
		}
	}
	spec.Rules, x.rules = xdpRules(dev, opts)
	prog, err := afxdp.LoadProgram(spec)
	if err != nil && x.rules {
		opts.Log("capture %s: the rules run in userspace: the kernel refused them with the filter: %v", dev, err)
		spec.Rules, x.rules = nil, false
		prog, err = afxdp.LoadProgram(spec)
	}
	if err != nil {
		return nil, err
	}
	x.prog = prog
	if err := prog.Attach(ifindex, generic); err != nil {
		prog.Close()
		return nil, err
	}
	queues := []int{dev.Queue}
	if dev.Queue < 0 {
		queues = queues[:0]
		for q := 0; q < nq; q++ {
			queues = append(queues, q)
		}
	}
	sockMode := afxdp.ModeAuto
	if generic {
		sockMode = afxdp.ModeCopy
	}
	frames := opts.Frames
	if opts.BufferSize > 0 {
		// -B is the memory of the whole capture: share it among the
		// queues' UMEMs, in 2 KiB frames.
		frames = uint32(max(opts.BufferSize/2048/uint64(len(queues)), 64))
	}
	niceRefused := new(atomic.Bool) // said once for all the queues
	for i, q := range queues {
		s, err := afxdp.NewSocket(ifindex, q, afxdp.Config{Frames: frames, Mode: sockMode})
		if err == nil {
			err = prog.Register(s)
		}
		if err != nil {
			if s != nil {
				s.Close()
			}
			for _, w := range x.workers {
				w.close()
			}
			prog.Close()
			return nil, err
		}
		x.mode = s.Mode()
		cpu := -1
		if len(opts.CPUs) > 0 {
			cpu = opts.CPUs[i%len(opts.CPUs)]
		}
		src := &xdpSource{
			sock: s, prog: prog, queue: q, cpu: cpu, poll: opts.Poll, ifindex: ifindex, taiOffset: taiOffset(),
			trace: newXDPTrace(q, opts.Log), log: opts.Log, niceRefused: niceRefused,
			napMax: xdpNapMax(s.Frames()),
		}
		src.gate.free = src.free
		if os.Getenv(XDPNapEnv) == "0" {
			src.napMax = 0
		}
		if x.rules {
			src.rules = opts.Rules
		}
		x.workers = append(x.workers, src)
	}
	return x, nil
}

// xdpSource reads one queue's socket.
type xdpSource struct {
	sock    *afxdp.Socket
	prog    *afxdp.Program
	queue   int
	cpu     int
	ifindex int
	poll    time.Duration
	rules   *rulemaps.Maps // the rules in the program, nil if none

	bufs      [][]byte
	stamps    []int64
	taiOffset int64 // CLOCK_TAI - CLOCK_REALTIME
	pinned    bool
	received  atomic.Uint64
	gate      readGate
	trace     *xdpTrace // nil unless XDPTraceEnv is set

	log         func(string, ...any)
	niceRefused *atomic.Bool // shared by the queues: the refusal is logged once

	// The nap (see napBefore): its longest and current length, and
	// whether the last batch held frames.
	napMax, nap time.Duration
	flowing     bool
}

// XDPNapEnv names the environment variable that, set to 0, turns the
// queue workers' nap off (napBefore), for measuring what it saves
// (internal/bench/xdpwake).
const XDPNapEnv = "WRING_XDP_NAP"

// xdpNapLine is the rate the longest nap is sized for: 10 Gb/s of
// minimum-size Ethernet frames, 14.88 Mpps on one queue.
const xdpNapLine = 14_880_000

// xdpNapMax sizes the nap for a UMEM of the given frames: the longest nap
// lets at most a quarter of them arrive at xdpNapLine, capped at 1 ms.
func xdpNapMax(frames uint32) time.Duration {
	d := time.Duration(uint64(frames) / 4 * uint64(time.Second) / xdpNapLine)
	return min(d, time.Millisecond)
}

// napBefore sleeps before a read when frames are flowing but none wait,
// and says whether it slept.
// In copy mode the kernel flushes to the RX ring at most 64 frames at a
// time (a NAPI poll), and a worker that polls wakes for every flush: a
// context switch every few dozen frames, which on a busy CPU costs more
// than the frames (BENCHMARKS.md, "AF_XDP loses frames from 0.5 Mpps").
// While traffic flows the worker instead sleeps a short, adaptive time so
// that a batch gathers; an idle queue still waits in poll, so a lone
// packet is not delayed. Measured with trafgen on a 2-queue veth, 2M
// frames, 5 series each (BENCHMARKS.md, "AF_XDP workers nap while frames
// flow"): 2.14 s of CPU per million frames without the nap, 0.29 s with
// it; at 0.31 Mpps paced, 2.03 and 0.31 s.
func (s *xdpSource) napBefore() bool {
	if !s.flowing || s.nap <= 0 || s.sock.Pending() > 0 {
		return false
	}
	ts := unix.NsecToTimespec(int64(s.nap))
	_ = unix.Nanosleep(&ts, nil)
	return true
}

// napAfter adapts the nap to the batch read: a full batch halves it (the
// ring is filling faster than the worker reads), a short one lengthens it
// by a quarter, up to napMax; an empty read means the traffic paused.
func (s *xdpSource) napAfter(k, limit int) {
	s.flowing = k > 0
	switch {
	case k >= limit:
		s.nap /= 2
	case k > 0 && k < limit/2:
		s.nap = min(s.nap+s.nap/4+time.Microsecond, s.napMax)
	}
}

// XDPWorkerNice is the nice value an AF_XDP queue worker's thread takes
// when it starts (it needs CAP_SYS_NICE; without it the worker keeps the
// default and a line says so).
//
// Only the worker hands UMEM frames back to the kernel: a queue loses
// frames as soon as its worker has waited for a CPU longer than the fill
// ring lasts (RingSize frames: 65 ms for 16,384 frames at 0.25 Mpps). The
// other capture paths buffer in the kernel, in softirq context, with small
// frames packed in their rings (tcpdump's 64 MiB ring holds 20 times as
// many 60-byte frames as 64 MiB of 2 KiB UMEM frames), so a busy CPU
// delays their readers without losing frames. Traced on a loaded 2-CPU
// machine, AF_XDP workers waited for a CPU twice as long as they ran, and
// every loss came after such waits (BENCHMARKS.md, "AF_XDP loses frames
// from 0.5 Mpps"). At nice -10 a worker's share of a contended CPU is
// about nine times a default thread's; it uses it only while frames wait
// (it sleeps in poll otherwise). It also runs the handlers and sinks of
// its batches at that priority: a trade made for interfaces dedicated to
// capture, which is what this mode is for (RATIONALE.md).
const XDPWorkerNice = -10

// raisePriority gives the calling (locked) thread XDPWorkerNice.
func (s *xdpSource) raisePriority() {
	err := unix.Setpriority(unix.PRIO_PROCESS, unix.Gettid(), XDPWorkerNice)
	if err != nil && s.niceRefused.CompareAndSwap(false, true) {
		s.log("capture: AF_XDP workers run at the default priority: nice %d needs CAP_SYS_NICE (%v); "+
			"a worker that waits for a CPU longer than its fill ring lasts loses frames", XDPWorkerNice, err)
	}
}

// pin locks the calling goroutine to its thread and, when cpu >= 0, the
// thread to the CPU.
func pin(cpu int) error {
	runtime.LockOSThread()
	if cpu < 0 {
		return nil
	}
	var set unix.CPUSet
	set.Set(cpu)
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		return fmt.Errorf("pin worker to cpu %d: %w", cpu, err)
	}
	return nil
}

// ReadBatch returns the frames of the previous batch to the kernel and
// waits up to the poll interval for new ones. The frames stay in the UMEM:
// their Data is valid until the next ReadBatch. After Close it returns
// io.EOF.
func (s *xdpSource) ReadBatch(b *packet.Batch, limit int) (int, error) {
	return s.gate.read(b, limit, s.readBatch)
}

// Finish says the pipeline worker is done with the source.
func (s *xdpSource) Finish() { s.gate.finish() }

func (s *xdpSource) readBatch(b *packet.Batch, limit int) (int, error) {
	if !s.pinned {
		s.pinned = true
		if err := pin(s.cpu); err != nil {
			return 0, err
		}
		s.raisePriority()
		if s.napMax > 0 {
			// The thread's timer slack (50 µs by default) would
			// lengthen every nap by up to that much.
			_ = unix.Prctl(unix.PR_SET_TIMERSLACK, 1000, 0, 0, 0)
		}
	}
	if s.trace != nil {
		s.trace.begin(s.sock)
	}
	s.sock.Release()
	if cap(s.bufs) < limit {
		s.bufs = make([][]byte, limit)
		s.stamps = make([]int64, limit)
	}
	if s.trace != nil {
		s.trace.afterRelease(s.sock)
	}
	if s.napMax > 0 {
		if s.trace == nil {
			s.napBefore()
		} else if n0 := s.trace.now(); s.napBefore() {
			s.trace.napped(s.trace.now() - n0)
		}
	}
	var waits uint64
	var t0 time.Time
	if s.trace != nil {
		waits, t0 = s.sock.ReadWaits(), time.Now()
	}
	k, err := s.sock.ReceiveStamped(s.bufs[:limit], s.stamps[:limit], s.poll)
	if s.trace != nil {
		s.trace.end(k, s.sock.ReadWaits() != waits, int64(time.Since(t0)))
	}
	if err != nil {
		return 0, fmt.Errorf("queue %d: %w", s.queue, err)
	}
	if s.napMax > 0 {
		s.napAfter(k, limit)
	}
	if k == 0 {
		return 0, nil
	}
	// Each frame carries the kernel time the XDP program matched it;
	// userspace time is the fallback for a driver without metadata.
	now := int64(0)
	for i, data := range s.bufs[:k] {
		ts := s.stamps[i] - s.taiOffset
		if s.stamps[i] == 0 {
			if now == 0 {
				now = time.Now().UnixNano()
			}
			ts = now
		}
		b.Packets[i].Info = packet.Info{Timestamp: ts, CapLen: uint32(len(data)), WireLen: uint32(len(data)),
			LinkType: ethernetOnly, Ifindex: uint32(s.ifindex), Queue: uint16(s.queue)}
		b.Packets[i].Data = data
	}
	s.received.Add(uint64(k))
	return k, nil
}

// LinkType returns Ethernet.
func (s *xdpSource) LinkType() spec.LinkType { return ethernetOnly }

// Queue returns the receive queue.
func (s *xdpSource) Queue() int { return s.queue }

// Close closes the socket.
func (s *xdpSource) Close() error { s.close(); return nil }

// KernelDropped returns the frames the kernel matched but could not deliver.
func (s *xdpSource) KernelDropped() uint64 {
	k, err := s.sock.Stats()
	if err != nil {
		return 0
	}
	lost := k.Lost()
	if c, err := s.prog.Counters(s.queue); err == nil && s.prog.StampInFrame {
		lost += c.Unstamped
	}
	return lost
}

func (s *xdpSource) stats() QueueStats {
	st := QueueStats{Queue: s.queue, Received: s.received.Load()}
	if c, err := s.prog.Counters(s.queue); err == nil {
		st.Seen = c.Seen
		st.FilteredOut = c.Seen - min(c.Matched, c.Seen) // read while frames arrive, Matched may be ahead
	}
	if s.rules != nil {
		if r, err := s.rules.QueueStats(s.queue); err == nil {
			st.Rules = &r
		}
	}
	if k, err := s.sock.Stats(); err == nil {
		st.Dropped = k.Lost()
		st.DropDetail = fmt.Sprintf("rx_dropped %d (fill ring empty %d), rx_ring_full %d", k.RxDropped, k.RxFillRingEmpty, k.RxRingFull)
		st.Causes = []KernelCounter{{"rx_dropped", k.RxDropped}, {"rx_ring_full", k.RxRingFull},
			{"rx_fill_ring_empty_descs", k.RxFillRingEmpty}, {"rx_invalid_descs", k.RxInvalidDescs}}
	}
	if c, err := s.prog.Counters(s.queue); err == nil && s.prog.StampInFrame {
		// Matched but passed to the host uncaptured: no headroom for the
		// stamp in front of the frame.
		st.Dropped += c.Unstamped
		st.Causes = append(st.Causes, KernelCounter{"xdp_no_headroom_for_stamp", c.Unstamped})
		if c.Unstamped > 0 {
			st.DropDetail += fmt.Sprintf(", no headroom for the stamp %d", c.Unstamped)
		}
	}
	return st
}

// close frees the socket now, or once the reader is done with it.
func (s *xdpSource) close() { s.gate.close() }

func (s *xdpSource) free() {
	s.trace.report(s.sock)
	s.sock.Close()
}
