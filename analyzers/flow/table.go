package main

// This file holds the flow cache. It has no build constraint and does not
// import the guest SDK, so `go test` (and `go test -fuzz`) run it natively.

// Reason says why a flow was exported.
type Reason uint8

// Export reasons.
const (
	ReasonFIN     Reason = iota // TCP FIN seen from both ends
	ReasonRST                   // TCP RST seen
	ReasonIdle                  // no packet for the idle timeout
	ReasonActive                // open for longer than the active timeout
	ReasonEvicted               // the table was full and this flow was the least recently seen
	ReasonEnd                   // still open when the host closed
	numReasons
)

var reasonNames = [numReasons]string{"fin", "rst", "idle", "active", "evicted", "end"}

func (r Reason) String() string {
	if r < numReasons {
		return reasonNames[r]
	}
	return "unknown"
}

// Pkt is what the table needs of one packet, from its parse record.
type Pkt struct {
	Version, Proto uint8
	Src, Dst       [16]byte // IPv4 in the first 4 bytes
	SrcPort        uint16
	DstPort        uint16
	Hash           uint32 // the record's symmetric flow hash
	Time           int64  // capture time, ns
	WireLen        uint32
	TCPFlags       uint8
	Fragment       bool   // the record's fragment flag: ports do not count
	VLAN           uint16 // outer VLAN id (0: no tag)
	IfIndex        uint32 // interface index (0: unknown)
	TunType        uint8  // tunnel entered to reach the packet (guest.Tunnel*; 0: none)
	TunID          uint32 // its key, VNI or TEID
}

// Key identifies a flow: A is the end that sent its first packet.
type Key struct {
	Version, Proto uint8
	A, B           [16]byte
	PortA, PortB   uint16
}

// Flow is one flow's statistics. Direction 0 is A to B, 1 is B to A.
type Flow struct {
	Key         Key
	Hash        uint32
	Packets     [2]uint64
	Bytes       [2]uint64
	First, Last int64
	TCPFlags    [2]uint8 // OR of the TCP flags of each direction's packets
	VLAN        uint16   // outer VLAN id of the flow's first packet
	IfIndex     uint32   // interface index of the flow's first packet
	TunType     uint8    // tunnel of the flow's first packet (0: none)
	TunID       uint32   // its key, VNI or TEID

	fin        [2]bool
	closed     bool   // ended by FINs or a RST: lingering for its last packets
	closedBy   Reason // ReasonFIN or ReasonRST, when closed
	closedAt   int64  // capture time of the packet that ended it
	prev, next int32  // least recently seen order
	slot       int32  // index slot
}

// Export receives a flow leaving the table; it returns false when it could
// not write it (the flow is gone either way).
type Export func(f *Flow, r Reason) bool

// Stats count what the table did.
type Stats struct {
	Started, Exported, Lost, Evictions uint64
	ByReason                           [numReasons]uint64
}

// Table is a bounded flow cache. Flows are found through an open-addressing
// index on the flow hash (confirmed by the key in either direction) and
// kept in order of last packet, so the least recently seen is evicted when
// the table is full and idle flows are found from the front.
type Table struct {
	Idle, Active int64 // timeouts in ns of capture time (0: none)
	// Linger is how long (ns of capture time) a TCP flow ended by FINs
	// from both ends or by a RST stays in the table, so that the last ACK
	// and retransmissions that follow the end are counted in it rather
	// than starting a one-packet flow of their own; 0 exports it at the
	// packet that ends it. A SYN without ACK within Linger starts a new
	// connection: the old flow is exported first.
	Linger int64
	Stats  Stats

	flows      []Flow
	index      []int32 // flow number, or -1
	mask       uint32
	free       []int32
	head, tail int32 // least and most recently seen, -1 when empty
	n          int
	export     Export
}

// NewTable returns a table of at most max flows (at least 1).
func NewTable(max int, idle, active int64, export Export) *Table {
	if max < 1 {
		max = 1
	}
	size := 1
	for size < 2*max {
		size <<= 1
	}
	t := &Table{Idle: idle, Active: active, flows: make([]Flow, max), index: make([]int32, size),
		mask: uint32(size - 1), free: make([]int32, max), head: -1, tail: -1, export: export}
	for i := range t.index {
		t.index[i] = -1
	}
	for i := range t.free {
		t.free[i] = int32(max - 1 - i)
	}
	return t
}

// Len returns the number of flows in the table.
func (t *Table) Len() int { return t.n }

// Max returns the table's capacity.
func (t *Table) Max() int { return len(t.flows) }

// ports returns the ports that identify a flow: only TCP, UDP and SCTP
// datagrams that are not fragments have them, as in the flow hash.
func (p *Pkt) ports() (uint16, uint16) {
	if p.Fragment {
		return 0, 0
	}
	switch p.Proto {
	case 6, 17, 132:
		return p.SrcPort, p.DstPort
	}
	return 0, 0
}

// lookup finds the packet's flow: its number, the packet's direction, and
// the index slot where the search ended (an empty one when not found).
func (t *Table) lookup(p *Pkt, sp, dp uint16) (int32, int, uint32) {
	s := p.Hash & t.mask
	for {
		i := t.index[s]
		if i < 0 {
			return -1, 0, s
		}
		f := &t.flows[i]
		k := &f.Key
		if f.Hash == p.Hash && k.Version == p.Version && k.Proto == p.Proto {
			if k.A == p.Src && k.B == p.Dst && k.PortA == sp && k.PortB == dp {
				return i, 0, s
			}
			if k.A == p.Dst && k.B == p.Src && k.PortA == dp && k.PortB == sp {
				return i, 1, s
			}
		}
		s = (s + 1) & t.mask
	}
}

// Packet accounts one IP packet and exports the flows it ends or displaces.
func (t *Table) Packet(p *Pkt) {
	sp, dp := p.ports()
	i, dir, slot := t.lookup(p, sp, dp)
	if i >= 0 {
		f := &t.flows[i]
		switch {
		case f.closed && (p.Time-f.closedAt > t.Linger || p.Proto == 6 && p.TCPFlags&0x12 == 0x02):
			t.remove(i, f.closedBy)
			i = -1
		case t.Idle > 0 && p.Time-f.Last > t.Idle:
			t.remove(i, ReasonIdle)
			i = -1
		case t.Active > 0 && p.Time-f.First > t.Active:
			t.remove(i, ReasonActive)
			i = -1
		}
		if i < 0 {
			_, _, slot = t.lookup(p, sp, dp)
		}
	}
	if i < 0 {
		if t.n == len(t.flows) {
			t.Stats.Evictions++
			t.remove(t.head, ReasonEvicted)
			_, _, slot = t.lookup(p, sp, dp)
		}
		i = t.free[len(t.free)-1]
		t.free = t.free[:len(t.free)-1]
		t.flows[i] = Flow{Key: Key{Version: p.Version, Proto: p.Proto, A: p.Src, B: p.Dst, PortA: sp, PortB: dp},
			Hash: p.Hash, First: p.Time, Last: p.Time, VLAN: p.VLAN, IfIndex: p.IfIndex, TunType: p.TunType, TunID: p.TunID, prev: -1, next: -1, slot: int32(slot)}
		t.index[slot] = i
		t.n++
		t.Stats.Started++
		t.pushBack(i)
		dir = 0
	}
	f := &t.flows[i]
	f.Packets[dir]++
	f.Bytes[dir] += uint64(p.WireLen)
	if p.Proto == 6 && !p.Fragment {
		f.TCPFlags[dir] |= p.TCPFlags
	}
	if p.Time > f.Last {
		f.Last = p.Time
	}
	if p.Time < f.First {
		f.First = p.Time
	}
	if i != t.tail {
		t.unlink(i)
		t.pushBack(i)
	}
	if p.Proto == 6 && !p.Fragment && !f.closed {
		switch {
		case p.TCPFlags&0x04 != 0:
			t.close(i, ReasonRST, p.Time)
		case p.TCPFlags&0x01 != 0:
			f.fin[dir] = true
			if f.fin[0] && f.fin[1] {
				t.close(i, ReasonFIN, p.Time)
			}
		}
	}
}

// close ends flow i: at once without a linger, else once Linger has passed.
func (t *Table) close(i int32, r Reason, now int64) {
	if t.Linger <= 0 {
		t.remove(i, r)
		return
	}
	f := &t.flows[i]
	f.closed, f.closedBy, f.closedAt = true, r, now
}

// Expire exports the flows idle or active for too long at time now, or all
// of them when final. It stops, returning false, when an export could not
// be written; calling it again resumes.
func (t *Table) Expire(now int64, final bool) bool {
	for i := t.head; i >= 0; {
		f := &t.flows[i]
		next := f.next
		r := ReasonEnd
		switch {
		case f.closed && (final || now-f.closedAt > t.Linger):
			r = f.closedBy
		case final:
		case t.Idle > 0 && now-f.Last > t.Idle:
			r = ReasonIdle
		case t.Active > 0 && now-f.First > t.Active:
			r = ReasonActive
		default:
			i = next
			continue
		}
		if !t.export(f, r) {
			return false
		}
		t.drop(i, r)
		i = next
	}
	return true
}

// remove exports flow i and drops it; an export that cannot be written is
// counted as lost.
func (t *Table) remove(i int32, r Reason) {
	if !t.export(&t.flows[i], r) {
		t.Stats.Lost++
	}
	t.drop(i, r)
}

// drop takes flow i out of the index, the order and the count.
func (t *Table) drop(i int32, r Reason) {
	t.Stats.Exported++
	t.Stats.ByReason[r]++
	t.unlink(i)
	t.deleteSlot(uint32(t.flows[i].slot))
	t.free = append(t.free, i)
	t.n--
}

// deleteSlot empties an index slot and moves later entries of its probe run
// back (backward-shift deletion), so lookups need no tombstones.
func (t *Table) deleteSlot(s uint32) {
	t.index[s] = -1
	for j := (s + 1) & t.mask; ; j = (j + 1) & t.mask {
		i := t.index[j]
		if i < 0 {
			return
		}
		home := t.flows[i].Hash & t.mask
		// Move the entry to s when s lies on its probe path (home..j,
		// cyclically).
		if (j-home)&t.mask >= (j-s)&t.mask {
			t.index[s] = i
			t.flows[i].slot = int32(s)
			t.index[j] = -1
			s = j
		}
	}
}

func (t *Table) unlink(i int32) {
	f := &t.flows[i]
	if f.prev >= 0 {
		t.flows[f.prev].next = f.next
	} else {
		t.head = f.next
	}
	if f.next >= 0 {
		t.flows[f.next].prev = f.prev
	} else {
		t.tail = f.prev
	}
	f.prev, f.next = -1, -1
}

func (t *Table) pushBack(i int32) {
	f := &t.flows[i]
	f.prev, f.next = t.tail, -1
	if t.tail >= 0 {
		t.flows[t.tail].next = i
	} else {
		t.head = i
	}
	t.tail = i
}
