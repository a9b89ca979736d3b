// Package stream reassembles TCP byte streams from captured segments, per
// flow and direction, with bounded memory, for analyzers that want the
// bytes a connection carried rather than its packets.
//
// A passive capturer cannot ask for a retransmission: a segment it missed
// is gone. So the reassembler never waits without bound. Bytes that arrive
// in order are handed over at once, straight from the packet (no copy).
// Bytes that arrive early are copied into a receive window of Config.Window
// bytes per direction, taken from a pool of Config.MaxBytes/Config.Window
// windows shared by all flows; when the hole before them closes, they are
// handed over in order. When it does not, a gap is declared and reported
// with its length, and the stream goes on after it: when a segment arrives
// past the window's end, when the direction's FIN or the flow's RST
// arrives, when the flow goes idle, when no window is free, and when the
// reassembler is flushed.
//
// Overlaps: the first copy of a byte wins. Bytes before the next expected
// offset (already handed over, or declared lost) are dropped; bytes already
// held in the window keep their first value. Either way they are counted,
// and so are overlapping bytes whose values differ (the evasion signature
// of overlapping segments).
//
// Flows: a flow is the unordered pair of endpoints (address, port) plus the
// VLAN id. Its direction 0 is the side that sent the first SYN seen (the
// receiver of a SYN-ACK seen first), or the sender of the first segment
// seen when the capture joined mid-connection. The table holds at most
// Config.MaxFlows flows; a segment of a new flow beyond that is refused and
// counted. A flow ends when both sides have sent a FIN (the bytes still
// missing before either FIN are then declared lost), on RST, on Expire
// after Config.Idle without segments, and on Flush. An ended flow keeps its
// slot until it has been quiet for Config.Idle, so its last ACKs and
// retransmissions are absorbed (counted, not handed over) instead of
// starting a one-packet flow of their own; a new SYN on the same endpoints
// starts a new flow at once.
package stream

import (
	"net/netip"
)

// Dir is a direction of a flow: 0 from the initiator, 1 towards it.
type Dir uint8

// EndReason says why a flow ended.
type EndReason uint8

const (
	EndFIN   EndReason = iota + 1 // both directions closed by FIN
	EndRST                        // reset
	EndIdle                       // no segment for Config.Idle
	EndFlush                      // the reassembler was flushed (end of capture)
)

func (r EndReason) String() string {
	switch r {
	case EndFIN:
		return "fin"
	case EndRST:
		return "rst"
	case EndIdle:
		return "idle"
	case EndFlush:
		return "flush"
	}
	return "unknown"
}

// TCP flag bits, as in the TCP header.
const (
	FlagFIN = 0x01
	FlagSYN = 0x02
	FlagRST = 0x04
	FlagACK = 0x10
)

// Handler receives the reassembled streams. The data slices are valid only
// during the call.
type Handler interface {
	// Data hands over the next bytes of a direction, starting at the
	// stream offset off (0 is the first byte after the SYN, or the first
	// byte seen when the capture joined mid-connection).
	Data(f *Flow, d Dir, off uint64, data []byte)
	// Gap reports n bytes at offset off that were lost.
	Gap(f *Flow, d Dir, off uint64, n uint64)
	// End reports the end of a flow; f is not used again after it.
	End(f *Flow, reason EndReason)
}

// Config bounds a Reassembler.
type Config struct {
	MaxFlows int    // flows held at once (default 65,536)
	Window   int    // bytes buffered ahead of a hole per direction (default 64 KiB)
	MaxBytes int    // bytes of all windows together (default 64 MiB)
	Idle     int64  // nanoseconds without a segment before Expire ends a flow (default 60 s)
	Ranges   int    // separate byte ranges held per window (default 32)
	_        [0]int // keyed literals only
}

func (c Config) withDefaults() Config {
	if c.MaxFlows <= 0 {
		c.MaxFlows = 1 << 16
	}
	if c.Window <= 0 {
		c.Window = 64 << 10
	}
	if c.MaxBytes <= 0 {
		c.MaxBytes = 64 << 20
	}
	c.MaxBytes = max(c.MaxBytes, c.Window)
	if c.Idle <= 0 {
		c.Idle = 60e9
	}
	if c.Ranges <= 0 {
		c.Ranges = 32
	}
	return c
}

// Stats counts what the reassembler did and gave up. Every byte of payload
// it was given is in exactly one of Delivered, Retransmitted,
// OverlapKept or Refused, or still held in a window.
type Stats struct {
	Flows          uint64 // flows started
	FlowsRefused   uint64 // segments of new flows refused: the table was full
	SegmentsRefuse uint64 // segments refused with them
	Refused        uint64 // payload bytes of refused segments
	Ended          [5]uint64
	Delivered      uint64 // bytes handed over
	Gaps           uint64 // gaps declared
	GapBytes       uint64 // bytes declared lost
	Retransmitted  uint64 // bytes before the next expected offset, dropped
	OverlapKept    uint64 // bytes already held in a window: the first copy kept
	OverlapDiffer  uint64 // of the overlapping bytes, those whose value differed
	WindowsOut     uint64 // times no window was free when one was needed
	PastWindow     uint64 // segments that arrived past the window's end
	RangesFull     uint64 // segments that found their window's range list full
}

// Key identifies a flow: its two endpoints in either order, and the VLAN.
type Key struct {
	A, B netip.AddrPort
	VLAN uint16
}

// tableKey is Key in a form that hashes without pointers.
type tableKey struct {
	a, b   [16]byte
	pa, pb uint16
	vlan   uint16
}

func (k Key) table() tableKey {
	return tableKey{a: k.A.Addr().As16(), b: k.B.Addr().As16(), pa: k.A.Port(), pb: k.B.Port(), vlan: k.VLAN}
}

// canonical orders the endpoints so both directions give the same key.
func canonical(a, b netip.AddrPort, vlan uint16) Key {
	if c := a.Addr().Compare(b.Addr()); c > 0 || c == 0 && a.Port() > b.Port() {
		return Key{A: b, B: a, VLAN: vlan}
	}
	return Key{A: a, B: b, VLAN: vlan}
}

// Flow is one reassembled connection.
type Flow struct {
	Key Key
	// Initiator is the endpoint of direction 0.
	Initiator netip.AddrPort
	// ID is unique among the flows of one Reassembler.
	ID uint64
	// First and Last are the times of the flow's first and last segments.
	First, Last int64
	// User is for the handler's own state.
	User any

	half  [2]half
	index int32 // in the reassembler's flow slots
}

// half is one direction.
type half struct {
	started bool   // a segment (or SYN) fixed the initial sequence number
	finSeen bool   // a FIN arrived; finSeq is where
	next    uint32 // sequence number of the next byte to hand over
	finSeq  uint32
	off     uint64  // stream offset of next
	win     *window // bytes ahead of next, or nil
}

// window holds the bytes of one direction ahead of a hole, in a ring of
// Config.Window bytes: the byte at relative position i (i bytes after the
// half's next) lives at buf[(head+i) % len(buf)]. ranges are the held
// byte ranges, relative positions, sorted, disjoint and not adjacent.
type window struct {
	buf    []byte
	head   int
	ranges []span
}

type span struct{ start, end int }

// Reassembler reassembles the TCP streams of one worker. It is not safe for
// concurrent use.
type Reassembler struct {
	cfg   Config
	h     Handler
	table map[tableKey]int32
	slots []Flow
	free  []int32 // free slot indices
	done  []bool  // per slot: ended, kept to absorb the flow's last segments
	wins  []*window
	nwin  int // windows made so far (at most cap(wins) + in use)
	maxW  int // windows allowed
	ids   uint64
	stats Stats
}

// New returns a reassembler handing its streams to h.
func New(cfg Config, h Handler) *Reassembler {
	cfg = cfg.withDefaults()
	r := &Reassembler{
		cfg:   cfg,
		h:     h,
		table: make(map[tableKey]int32, cfg.MaxFlows),
		slots: make([]Flow, cfg.MaxFlows),
		free:  make([]int32, cfg.MaxFlows),
		done:  make([]bool, cfg.MaxFlows),
		maxW:  cfg.MaxBytes / cfg.Window,
	}
	r.wins = make([]*window, 0, r.maxW)
	for i := range r.free {
		r.free[i] = int32(cfg.MaxFlows - 1 - i)
	}
	return r
}

// Stats returns the counters so far.
func (r *Reassembler) Stats() Stats { return r.stats }

// Flows returns the number of flows held (ended ones kept to absorb their
// last segments included).
func (r *Reassembler) Flows() int { return len(r.table) }

// Add takes one TCP segment from src to dst: its sequence number, flags and
// payload (as captured: a segment cut by the snapshot length is passed with
// what was captured, and the bytes missing from it become a gap later).
func (r *Reassembler) Add(src, dst netip.AddrPort, vlan uint16, seq uint32, flags uint8, payload []byte, ts int64) {
	key := canonical(src, dst, vlan)
	f := r.lookup(key, src, flags, ts, len(payload))
	if f == nil {
		return
	}
	idx := f.index
	if r.done[idx] {
		// The flow ended (both FINs, or RST); what follows is its last
		// ACKs and retransmissions, unless a new connection reuses the
		// endpoints.
		if flags&(FlagSYN|FlagACK) != FlagSYN {
			r.stats.Retransmitted += uint64(len(payload))
			f.Last = ts
			return
		}
		r.release(f)
		if f = r.lookup(key, src, flags, ts, len(payload)); f == nil {
			return
		}
	}
	f.Last = ts
	d := Dir(0)
	if src != f.Initiator {
		d = 1
	}
	h := &f.half[d]
	if !h.started {
		h.started = true
		h.next = seq
		if flags&FlagSYN != 0 {
			h.next = seq + 1
		}
	}
	if flags&FlagSYN != 0 {
		seq++ // the SYN takes a sequence number before the data
	}
	if len(payload) > 0 {
		r.add(f, d, seq, payload)
	}
	if flags&FlagRST != 0 {
		r.end(f, EndRST)
		return
	}
	if flags&FlagFIN != 0 && !h.finSeen {
		h.finSeen = true
		h.finSeq = seq + uint32(len(payload))
	}
	o := &f.half[1-d]
	if h.finSeen && o.finSeen {
		r.end(f, EndFIN)
	}
}

// lookup finds or starts the flow of key.
func (r *Reassembler) lookup(key Key, src netip.AddrPort, flags uint8, ts int64, n int) *Flow {
	tk := key.table()
	if i, ok := r.table[tk]; ok {
		return &r.slots[i]
	}
	if len(r.free) == 0 {
		r.stats.FlowsRefused++
		r.stats.SegmentsRefuse++
		r.stats.Refused += uint64(n)
		return nil
	}
	i := r.free[len(r.free)-1]
	r.free = r.free[:len(r.free)-1]
	r.table[tk] = i
	r.done[i] = false
	r.ids++
	r.stats.Flows++
	f := &r.slots[i]
	*f = Flow{Key: key, Initiator: src, ID: r.ids, First: ts, Last: ts, index: i}
	if flags&(FlagSYN|FlagACK) == FlagSYN|FlagACK {
		// A SYN-ACK comes from the server: the initiator is the other end.
		f.Initiator = key.A
		if src == key.A {
			f.Initiator = key.B
		}
	}
	return f
}

// add places a segment's payload in its direction.
func (r *Reassembler) add(f *Flow, d Dir, seq uint32, p []byte) {
	h := &f.half[d]
	W := r.cfg.Window
	rel := int64(int32(seq - h.next))
	if rel < 0 {
		// Already handed over or declared lost.
		drop := min(-rel, int64(len(p)))
		r.stats.Retransmitted += uint64(drop)
		p = p[drop:]
		rel = 0
		if len(p) == 0 {
			return
		}
	}
	for len(p) > 0 {
		if rel >= int64(W) {
			// Past the window: what it holds and the hole before the
			// segment are given up on.
			r.stats.PastWindow++
			at := h.next + uint32(rel) // p[0]'s sequence number
			r.flushWindow(f, d)
			if rel = int64(int32(at - h.next)); rel > 0 {
				r.gap(f, d, uint64(rel))
			}
			rel = 0
		}
		if h.win == nil {
			if rel == 0 {
				r.deliver(f, d, p)
				return
			}
			if h.win = r.takeWindow(); h.win == nil {
				r.stats.WindowsOut++
				r.gap(f, d, uint64(rel))
				rel = 0
				continue
			}
		}
		n := min(int64(len(p)), int64(W)-rel)
		if !r.write(h.win, int(rel), p[:n]) {
			r.stats.RangesFull++
			r.stats.Refused += uint64(len(p))
			return
		}
		p = p[n:]
		rel += n
		rel -= int64(r.drain(f, d))
	}
}

// deliver hands over in-order bytes straight from the packet.
func (r *Reassembler) deliver(f *Flow, d Dir, p []byte) {
	h := &f.half[d]
	r.h.Data(f, d, h.off, p)
	r.stats.Delivered += uint64(len(p))
	h.next += uint32(len(p))
	h.off += uint64(len(p))
}

// gap declares n bytes lost and moves past them.
func (r *Reassembler) gap(f *Flow, d Dir, n uint64) {
	h := &f.half[d]
	r.h.Gap(f, d, h.off, n)
	r.stats.Gaps++
	r.stats.GapBytes += n
	h.next += uint32(n)
	h.off += n
}

func (r *Reassembler) takeWindow() *window {
	if n := len(r.wins); n > 0 {
		w := r.wins[n-1]
		r.wins = r.wins[:n-1]
		return w
	}
	if r.nwin >= r.maxW {
		return nil
	}
	r.nwin++
	return &window{buf: make([]byte, r.cfg.Window), ranges: make([]span, 0, r.cfg.Ranges)}
}

func (r *Reassembler) putWindow(w *window) {
	w.head, w.ranges = 0, w.ranges[:0]
	r.wins = append(r.wins, w)
}

// write copies p into the window at relative position rel, keeping the
// bytes it already holds (first copy wins). It reports false, writing
// nothing, when the segment would need a range more than the window keeps.
func (r *Reassembler) write(w *window, rel int, p []byte) bool {
	end := rel + len(p)
	// The ranges the new one touches (overlapping or adjacent): [i, j).
	i := 0
	for i < len(w.ranges) && w.ranges[i].end < rel {
		i++
	}
	j := i
	for j < len(w.ranges) && w.ranges[j].start <= end {
		j++
	}
	if i == j && len(w.ranges) == cap(w.ranges) {
		return false
	}
	// Copy the bytes no range holds; compare the ones one does.
	pos := rel
	for k := i; k < j; k++ {
		s := w.ranges[k]
		if s.start > pos {
			r.copyIn(w, pos, p[pos-rel:min(s.start, end)-rel])
		}
		lo, hi := max(s.start, rel), min(s.end, end)
		if hi > lo {
			r.stats.OverlapKept += uint64(hi - lo)
			r.stats.OverlapDiffer += uint64(r.differ(w, lo, p[lo-rel:hi-rel]))
		}
		pos = max(pos, s.end)
	}
	if pos < end {
		r.copyIn(w, pos, p[pos-rel:])
	}
	merged := span{start: rel, end: end}
	if i < j {
		merged.start = min(merged.start, w.ranges[i].start)
		merged.end = max(merged.end, w.ranges[j-1].end)
	}
	// Replace ranges [i, j) with merged.
	switch {
	case i == j:
		w.ranges = append(w.ranges, span{})
		copy(w.ranges[i+1:], w.ranges[i:])
	case j > i+1:
		w.ranges = append(w.ranges[:i+1], w.ranges[j:]...)
	}
	w.ranges[i] = merged
	return true
}

func (r *Reassembler) copyIn(w *window, rel int, p []byte) {
	at := (w.head + rel) % len(w.buf)
	n := copy(w.buf[at:], p)
	copy(w.buf, p[n:])
}

func (r *Reassembler) differ(w *window, rel int, p []byte) int {
	n := 0
	at := (w.head + rel) % len(w.buf)
	for _, b := range p {
		if w.buf[at] != b {
			n++
		}
		if at++; at == len(w.buf) {
			at = 0
		}
	}
	return n
}

// drain hands over the window's bytes from its start while they are
// contiguous, and returns how many it handed over.
func (r *Reassembler) drain(f *Flow, d Dir) int {
	h := &f.half[d]
	w := h.win
	if w == nil || len(w.ranges) == 0 || w.ranges[0].start != 0 {
		return 0
	}
	n := w.ranges[0].end
	r.emit(f, d, w, n)
	w.ranges = append(w.ranges[:0], w.ranges[1:]...)
	r.shift(w, n)
	if len(w.ranges) == 0 {
		r.putWindow(w)
		h.win = nil
	}
	return n
}

// emit hands over the first n bytes of the window (in one or two pieces).
func (r *Reassembler) emit(f *Flow, d Dir, w *window, n int) {
	h := &f.half[d]
	first := min(n, len(w.buf)-w.head)
	r.h.Data(f, d, h.off, w.buf[w.head:w.head+first])
	if n > first {
		r.h.Data(f, d, h.off+uint64(first), w.buf[:n-first])
	}
	r.stats.Delivered += uint64(n)
	h.next += uint32(n)
	h.off += uint64(n)
}

// shift moves the window's start n bytes on (next has moved with it).
func (r *Reassembler) shift(w *window, n int) {
	w.head = (w.head + n) % len(w.buf)
	for k := range w.ranges {
		w.ranges[k].start -= n
		w.ranges[k].end -= n
	}
}

// flushWindow gives up on the holes of a direction's window: each one is
// declared a gap and the bytes after it are handed over.
func (r *Reassembler) flushWindow(f *Flow, d Dir) {
	h := &f.half[d]
	w := h.win
	if w == nil {
		return
	}
	for len(w.ranges) > 0 {
		s := w.ranges[0]
		if s.start > 0 {
			r.gap(f, d, uint64(s.start))
			r.shift(w, s.start)
		}
		r.drain(f, d)
		if h.win == nil {
			return
		}
	}
	r.putWindow(w)
	h.win = nil
}

// end flushes both directions (up to a FIN's sequence number, when one was
// seen, declaring the bytes missing before it lost) and reports the end.
func (r *Reassembler) end(f *Flow, why EndReason) {
	for d := Dir(0); d < 2; d++ {
		r.flushWindow(f, d)
		h := &f.half[d]
		if why == EndFIN && h.finSeen {
			if n := int32(h.finSeq - h.next); n > 0 {
				r.gap(f, d, uint64(n))
			}
		}
	}
	r.stats.Ended[why]++
	r.h.End(f, why)
	r.done[f.index] = true
}

// release frees a flow's slot.
func (r *Reassembler) release(f *Flow) {
	for d := range f.half {
		if w := f.half[d].win; w != nil {
			r.putWindow(w)
		}
	}
	delete(r.table, f.Key.table())
	r.free = append(r.free, f.index)
	r.done[f.index] = false
	*f = Flow{index: f.index}
}

// Expire ends the flows without a segment since now - Config.Idle, and
// frees ended flows that have been quiet as long.
func (r *Reassembler) Expire(now int64) {
	for _, i := range r.table {
		f := &r.slots[i]
		if now-f.Last < r.cfg.Idle {
			continue
		}
		if !r.done[i] {
			r.end(f, EndIdle)
		}
		r.release(f)
	}
}

// Flush ends every flow (the capture is over).
func (r *Reassembler) Flush() {
	for _, i := range r.table {
		f := &r.slots[i]
		if !r.done[i] {
			r.end(f, EndFlush)
		}
		r.release(f)
	}
}
