//go:build linux

package live

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	unix "github.com/wringcap/wring/internal/linux" // the x/sys/unix names, through wring's one door

	"github.com/wringcap/wring/capture/afxdp"
)

// XDPTraceEnv names the environment variable that makes every AF_XDP queue
// worker record how it spends the time between its ReadBatch calls and log
// a summary when the capture closes (a diagnostic: off, it costs one nil
// check per batch).
const XDPTraceEnv = "WRING_XDP_TRACE"

// xdpTrace is one queue worker's record. A cycle runs from one ReadBatch
// call to the next: "outside" is the time spent in the pipeline (filter,
// handlers, sinks) after the previous call returned, "inside" the previous
// call itself (Release, then Receive and its poll).
type xdpTrace struct {
	queue int
	log   func(string, ...any)
	base  time.Time
	sched *os.File // /proc/thread-self/schedstat of the worker's thread
	buf   [96]byte

	started   bool
	calls     uint64
	enter     int64 // monotonic ns of the last entry
	exit      int64 // of the last return
	cpu       int64 // thread CPU time at the last entry
	runDelay  int64 // time runnable but not running, at the last entry
	dropsLast uint64
	frames    int  // returned by the last call
	polled    bool // the last call slept in poll
	pollNs    int64
	polls     uint64

	hist     [7]uint64 // cycle lengths, by traceBuckets
	minFill  uint32
	maxHeld  int
	maxLeft  int // held after Release: frames the fill ring had no room for
	top      []xdpCycle
	dropping []xdpCycle
	pending  xdpCycle
	has      bool

	// Totals over the run, from the first call.
	firstCPU, firstRD, firstAt   int64
	lastCPU, lastRD, lastAt      int64
	framesTotal                  uint64
	outsideNs, releaseNs, recvNs int64
	traceNs                      int64
	relStart                     int64
	napNs                        int64 // asleep in xdpSource.napBefore
	naps                         uint64
}

var traceBuckets = [...]time.Duration{100 * time.Microsecond, time.Millisecond, 5 * time.Millisecond,
	20 * time.Millisecond, 65 * time.Millisecond, 200 * time.Millisecond}

type xdpCycle struct {
	at, total, outside, inside time.Duration
	cpu, runDelay              time.Duration
	polled                     bool
	fill                       uint32 // fill ring level at entry, before Release
	held, left                 int    // held before and after Release
	frames                     int    // frames the previous call returned
	drops                      uint64 // kernel drops counted during the cycle
}

func (c xdpCycle) String() string {
	return fmt.Sprintf("at %v: cycle %v = pipeline %v + ReadBatch %v (polled %v); thread cpu %v, waiting for a cpu %v, off-cpu otherwise %v; "+
		"fill ring %d, held %d -> %d after Release, batch %d frames, kernel drops +%d",
		c.at.Round(time.Microsecond), c.total.Round(time.Microsecond), c.outside.Round(time.Microsecond), c.inside.Round(time.Microsecond), c.polled,
		c.cpu.Round(time.Microsecond), c.runDelay.Round(time.Microsecond), max(0, c.total-c.cpu-c.runDelay).Round(time.Microsecond),
		c.fill, c.held, c.left, c.frames, c.drops)
}

func newXDPTrace(queue int, log func(string, ...any)) *xdpTrace {
	if os.Getenv(XDPTraceEnv) == "" || log == nil {
		return nil
	}
	return &xdpTrace{queue: queue, log: log, base: time.Now(), minFill: ^uint32(0)}
}

func (t *xdpTrace) now() int64 { return int64(time.Since(t.base)) }

func threadCPU() int64 {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts) != nil {
		return 0
	}
	return ts.Nano()
}

// readRunDelay returns the thread's time spent runnable but waiting for a
// CPU (the second field of /proc/thread-self/schedstat).
func (t *xdpTrace) readRunDelay() int64 {
	if t.sched == nil {
		return 0
	}
	n, _ := t.sched.ReadAt(t.buf[:], 0)
	f := strings.Fields(string(t.buf[:n]))
	if len(f) < 2 {
		return 0
	}
	var v int64
	fmt.Sscan(f[1], &v)
	return v
}

// begin is called at ReadBatch's entry, on the worker's (locked) thread,
// before Release.
func (t *xdpTrace) begin(s *afxdp.Socket) {
	if t.sched == nil && !t.started {
		t.sched, _ = os.Open("/proc/thread-self/schedstat")
	}
	now, cpu, rd := t.now(), threadCPU(), t.readRunDelay()
	fill, held := s.Level()
	st, _ := s.Stats()
	drops := st.Lost()
	if t.started {
		c := xdpCycle{at: time.Duration(now), total: time.Duration(now - t.enter), outside: time.Duration(now - t.exit),
			inside: time.Duration(t.exit - t.enter), cpu: time.Duration(cpu - t.cpu), runDelay: time.Duration(rd - t.runDelay),
			polled: t.polled, fill: fill, held: held, frames: t.frames, drops: drops - t.dropsLast}
		t.pending, t.has = c, true
	}
	if !t.started {
		t.firstCPU, t.firstRD, t.firstAt = cpu, rd, now
	} else {
		t.outsideNs += now - t.exit
	}
	t.lastCPU, t.lastRD, t.lastAt = cpu, rd, now
	t.started = true
	t.enter, t.cpu, t.runDelay, t.dropsLast = now, cpu, rd, drops
	t.minFill = min(t.minFill, fill)
	t.maxHeld = max(t.maxHeld, held)
	t.relStart = t.now()
	t.traceNs += t.relStart - now
}

// afterRelease records what Release could not hand back.
func (t *xdpTrace) afterRelease(s *afxdp.Socket) {
	t.releaseNs += t.now() - t.relStart
	_, left := s.Level()
	t.maxLeft = max(t.maxLeft, left)
	if t.has {
		t.pending.left = left
		t.record(t.pending)
		t.has = false
	}
}

// napped records a nap of ns before a read (xdpSource.napBefore).
func (t *xdpTrace) napped(ns int64) {
	t.naps++
	t.napNs += ns
}

// end is called as ReadBatch returns k frames.
func (t *xdpTrace) end(k int, polled bool, pollNs int64) {
	t.calls++
	t.exit, t.frames, t.polled = t.now(), k, polled
	t.framesTotal += uint64(k)
	if polled {
		t.polls++
		t.pollNs += pollNs
	} else {
		t.recvNs += pollNs
	}
}

func (t *xdpTrace) record(c xdpCycle) {
	i := 0
	for i < len(traceBuckets) && c.total >= traceBuckets[i] {
		i++
	}
	t.hist[i]++
	if c.drops > 0 && len(t.dropping) < 20 {
		t.dropping = append(t.dropping, c)
	}
	if c.polled && c.frames == 0 {
		return // an idle wait: the longest cycles are those with frames
	}
	// Keep the 10 longest cycles that carried frames.
	if len(t.top) < 10 {
		t.top = append(t.top, c)
		return
	}
	minI := 0
	for j := range t.top {
		if t.top[j].total < t.top[minI].total {
			minI = j
		}
	}
	if c.total > t.top[minI].total {
		t.top = append(append(t.top[:minI], t.top[minI+1:]...), c)
	}
}

// report logs the summary.
func (t *xdpTrace) report(s *afxdp.Socket) {
	if t == nil {
		return
	}
	if t.sched != nil {
		t.sched.Close()
	}
	st, _ := s.Stats()
	var h []string
	prev := "0"
	for i, n := range t.hist {
		hi := "inf"
		if i < len(traceBuckets) {
			hi = traceBuckets[i].String()
		}
		h = append(h, fmt.Sprintf("[%s,%s) %d", prev, hi, n))
		prev = hi
	}
	t.log("xdp trace queue %d: %d ReadBatch calls, %d slept in poll (%v in all); cycles %s; fill ring at least %d; held at most %d, at most %d left after Release; kernel %+v",
		t.queue, t.calls, t.polls, time.Duration(t.pollNs).Round(time.Microsecond), strings.Join(h, ", "), t.minFill, t.maxHeld, t.maxLeft, st)
	ms := func(ns int64) time.Duration { return time.Duration(ns).Round(10 * time.Microsecond) }
	t.log("xdp trace queue %d: %d frames over %v: thread cpu %v, waiting for a cpu %v; pipeline %v, Release %v, napping %v (%d naps), Receive without poll %v, in poll %v, tracing %v",
		t.queue, t.framesTotal, ms(t.lastAt-t.firstAt), ms(t.lastCPU-t.firstCPU), ms(t.lastRD-t.firstRD), ms(t.outsideNs), ms(t.releaseNs), ms(t.napNs), t.naps, ms(t.recvNs), ms(t.pollNs), ms(t.traceNs))
	sort.Slice(t.top, func(i, j int) bool { return t.top[i].total > t.top[j].total })
	for _, c := range t.top {
		t.log("xdp trace queue %d: longest: %v", t.queue, c)
	}
	for _, c := range t.dropping {
		t.log("xdp trace queue %d: drops: %v", t.queue, c)
	}
}
