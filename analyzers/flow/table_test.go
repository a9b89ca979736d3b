package main

import (
	"fmt"
	"testing"
)

// exported collects the table's exports.
type exported struct {
	flows []Flow
	why   []Reason
	room  int // exports accepted before refusing; -1 unlimited
}

func (e *exported) export(f *Flow, r Reason) bool {
	if e.room == 0 {
		return false
	}
	if e.room > 0 {
		e.room--
	}
	e.flows = append(e.flows, *f)
	e.why = append(e.why, r)
	return true
}

func newTest(max int, idle, active int64) (*Table, *exported) {
	e := &exported{room: -1}
	return NewTable(max, idle, active, e.export), e
}

func pkt(src, dst byte, sp, dp uint16, proto uint8, t int64, flags uint8) *Pkt {
	p := &Pkt{Version: 4, Proto: proto, SrcPort: sp, DstPort: dp, Time: t, WireLen: 100 + uint32(src), TCPFlags: flags}
	p.Src[0], p.Dst[0] = src, dst
	// A symmetric stand-in for the record's hash, with few values so that
	// different flows collide.
	p.Hash = uint32(src^dst) ^ uint32(sp^dp)&3
	return p
}

const (
	fin = 0x01
	rst = 0x04
	ack = 0x10
)

func TestFINFromBothEnds(t *testing.T) {
	tb, e := newTest(16, 0, 0)
	tb.Packet(pkt(1, 2, 1000, 80, 6, 1, ack))
	tb.Packet(pkt(2, 1, 80, 1000, 6, 2, ack))
	tb.Packet(pkt(1, 2, 1000, 80, 6, 3, fin|ack))
	tb.Packet(pkt(1, 2, 1000, 80, 6, 4, fin|ack)) // a retransmitted FIN from the same end
	if len(e.flows) != 0 {
		t.Fatalf("exported after FINs from one end: %v", e.why)
	}
	tb.Packet(pkt(2, 1, 80, 1000, 6, 5, fin|ack))
	if len(e.flows) != 1 || e.why[0] != ReasonFIN || tb.Len() != 0 {
		t.Fatalf("%v, %d left", e.why, tb.Len())
	}
	f := e.flows[0]
	if f.Packets != [2]uint64{3, 2} || f.Bytes != [2]uint64{303, 204} || f.First != 1 || f.Last != 5 || f.Key.A[0] != 1 || f.Key.PortA != 1000 {
		t.Fatalf("%+v", f)
	}
	tb.Packet(pkt(1, 2, 1000, 80, 6, 6, ack)) // the last ACK starts a new flow
	if tb.Len() != 1 || tb.Stats.Started != 2 {
		t.Fatalf("len %d stats %+v", tb.Len(), tb.Stats)
	}
}

// TestFINTail is issue 15's reproducer: with a linger, the last ACK after
// FINs from both ends (and a retransmitted FIN) belongs to the connection,
// as in tshark's conversations, so one connection is one record; a SYN
// reusing the ports, or a packet after the linger, starts a new flow.
func TestFINTail(t *testing.T) {
	tb, e := newTest(16, 0, 0)
	tb.Linger = 10
	tb.Packet(pkt(1, 2, 1000, 80, 6, 1, 0x02))
	tb.Packet(pkt(2, 1, 80, 1000, 6, 2, 0x12))
	tb.Packet(pkt(1, 2, 1000, 80, 6, 3, fin|ack))
	tb.Packet(pkt(2, 1, 80, 1000, 6, 4, fin|ack))
	tb.Packet(pkt(1, 2, 1000, 80, 6, 5, ack))     // the last ACK
	tb.Packet(pkt(2, 1, 80, 1000, 6, 9, fin|ack)) // a retransmitted FIN
	tb.Packet(pkt(1, 2, 1000, 80, 6, 10, ack))    // and its ACK
	if len(e.flows) != 0 || tb.Len() != 1 || tb.Stats.Started != 1 {
		t.Fatalf("exports %v, %d flows, stats %+v", e.why, tb.Len(), tb.Stats)
	}
	tb.Packet(pkt(1, 2, 1000, 80, 6, 11, 0x02)) // a new connection on the same ports
	if len(e.flows) != 1 || e.why[0] != ReasonFIN || e.flows[0].Packets != [2]uint64{4, 3} || e.flows[0].Last != 10 {
		t.Fatalf("%v %+v", e.why, e.flows)
	}
	tb.Packet(pkt(2, 1, 80, 1000, 6, 12, rst|ack))
	tb.Packet(pkt(2, 1, 80, 1000, 6, 13, rst)) // a second RST joins the first
	if !tb.Expire(22, false) || len(e.flows) != 1 {
		t.Fatalf("exported within the linger: %v", e.why)
	}
	if !tb.Expire(23, false) || len(e.flows) != 2 || e.why[1] != ReasonRST || e.flows[1].Packets != [2]uint64{1, 2} || tb.Len() != 0 {
		t.Fatalf("%v %+v, %d left", e.why, e.flows, tb.Len())
	}
	// A packet after the linger starts a new flow; the old one goes as fin.
	tb.Packet(pkt(1, 2, 7, 8, 6, 30, fin))
	tb.Packet(pkt(2, 1, 8, 7, 6, 31, fin))
	tb.Packet(pkt(1, 2, 7, 8, 6, 42, ack))
	if len(e.flows) != 3 || e.why[2] != ReasonFIN || e.flows[2].Packets != [2]uint64{1, 1} || tb.Len() != 1 {
		t.Fatalf("%v %+v, %d left", e.why, e.flows, tb.Len())
	}
	// The host's close exports a lingering flow with its own reason.
	tb.Packet(pkt(2, 1, 8, 7, 6, 43, rst))
	if !tb.Expire(44, true) || len(e.flows) != 4 || e.why[3] != ReasonRST || tb.Len() != 0 {
		t.Fatalf("%v, %d left", e.why, tb.Len())
	}
}

func TestRST(t *testing.T) {
	tb, e := newTest(16, 0, 0)
	tb.Packet(pkt(1, 2, 1000, 80, 6, 1, 0x02))
	tb.Packet(pkt(2, 1, 80, 1000, 6, 2, rst|ack))
	if len(e.flows) != 1 || e.why[0] != ReasonRST || e.flows[0].Packets != [2]uint64{1, 1} {
		t.Fatalf("%v %+v", e.why, e.flows)
	}
	// UDP and fragments never end by flags.
	tb.Packet(pkt(1, 2, 53, 53, 17, 3, rst))
	p := pkt(1, 2, 0, 0, 6, 4, rst)
	p.Fragment = true
	tb.Packet(p)
	if len(e.flows) != 1 || tb.Len() != 2 {
		t.Fatalf("%v, %d left", e.why, tb.Len())
	}
}

func TestTimeouts(t *testing.T) {
	tb, e := newTest(16, 10, 100)
	tb.Packet(pkt(1, 2, 1, 2, 17, 0, 0))
	tb.Packet(pkt(1, 2, 1, 2, 17, 10, 0)) // exactly the idle timeout: same flow
	tb.Packet(pkt(1, 2, 1, 2, 17, 21, 0)) // 11 after: a new flow
	if len(e.flows) != 1 || e.why[0] != ReasonIdle || e.flows[0].Packets[0] != 2 {
		t.Fatalf("%v %+v", e.why, e.flows)
	}
	for ts := int64(30); ts <= 130; ts += 10 {
		tb.Packet(pkt(1, 2, 1, 2, 17, ts, 0))
	}
	// The flow started at 21; at 130 it has been open 109 > 100.
	if len(e.flows) != 2 || e.why[1] != ReasonActive || e.flows[1].First != 21 || e.flows[1].Last != 120 {
		t.Fatalf("%v %+v", e.why, e.flows)
	}
	tb.Packet(pkt(3, 4, 1, 2, 17, 135, 0))
	if !tb.Expire(141, false) || len(e.flows) != 3 || e.why[2] != ReasonIdle || e.flows[2].First != 130 {
		t.Fatalf("%v %+v", e.why, e.flows)
	}
	if !tb.Expire(141, true) || len(e.flows) != 4 || e.why[3] != ReasonEnd || tb.Len() != 0 {
		t.Fatalf("%v", e.why)
	}
}

func TestEvictLeastRecentlySeen(t *testing.T) {
	tb, e := newTest(3, 0, 0)
	tb.Packet(pkt(1, 9, 1, 1, 17, 1, 0))
	tb.Packet(pkt(2, 9, 1, 1, 17, 2, 0))
	tb.Packet(pkt(3, 9, 1, 1, 17, 3, 0))
	tb.Packet(pkt(9, 1, 1, 1, 17, 4, 0)) // flow 1 seen again: flow 2 is now the oldest
	tb.Packet(pkt(4, 9, 1, 1, 17, 5, 0))
	if len(e.flows) != 1 || e.why[0] != ReasonEvicted || e.flows[0].Key.A[0] != 2 || tb.Stats.Evictions != 1 {
		t.Fatalf("%v %+v", e.why, e.flows)
	}
	if tb.Len() != 3 {
		t.Fatalf("%d flows", tb.Len())
	}
}

func TestExpireResumes(t *testing.T) {
	tb, e := newTest(64, 0, 0)
	for i := 0; i < 50; i++ {
		tb.Packet(pkt(byte(i), 200, 1, 1, 17, int64(i), 0))
	}
	e.room = 7
	calls := 1
	for !tb.Expire(100, true) {
		e.room = 7
		calls++
	}
	if len(e.flows) != 50 || calls != 8 || tb.Len() != 0 || tb.Stats.Lost != 0 {
		t.Fatalf("%d exported in %d calls, %d left, %+v", len(e.flows), calls, tb.Len(), tb.Stats)
	}
	// In order of last packet.
	for i, f := range e.flows {
		if f.Key.A[0] != byte(i) {
			t.Fatalf("export %d is flow %d", i, f.Key.A[0])
		}
	}
}

func TestPacketAllocatesNothing(t *testing.T) {
	tb, _ := newTest(8, 5, 0)
	ps := make([]*Pkt, 64)
	for i := range ps {
		ps[i] = pkt(byte(i%13), byte(i%5), uint16(i), 80, 6, int64(i), uint8(i%3)*fin)
	}
	if n := testing.AllocsPerRun(50, func() {
		for _, p := range ps {
			tb.Packet(p)
		}
	}); n != 0 {
		t.Fatalf("%v allocations", n)
	}
}

// model is the straightforward computation the table must agree with:
// per flow key, packets and bytes per direction.
type modelFlow struct {
	packets, bytes [2]uint64
	first, last    int64
}

func canon(p *Pkt) (string, int) {
	sp, dp := p.ports()
	a := fmt.Sprintf("%x/%d", p.Src, sp)
	b := fmt.Sprintf("%x/%d", p.Dst, dp)
	if a > b {
		return fmt.Sprintf("%d %d %s %s", p.Version, p.Proto, b, a), 1
	}
	return fmt.Sprintf("%d %d %s %s", p.Version, p.Proto, a, b), 0
}

func canonFlow(f *Flow) (string, int) {
	p := Pkt{Version: f.Key.Version, Proto: f.Key.Proto, Src: f.Key.A, Dst: f.Key.B, SrcPort: f.Key.PortA, DstPort: f.Key.PortB}
	return canon(&p)
}

// checkConservation feeds packets and checks that the exports, summed per
// key, equal the model, whatever the table's size and timeouts.
func checkConservation(t *testing.T, ps []*Pkt, max int, idle, active int64) Stats {
	tb, e := newTest(max, idle, active)
	tb.Linger = idle / 3
	want := map[string]*modelFlow{}
	var last int64
	for _, p := range ps {
		tb.Packet(p)
		if tb.Len() > tb.Max() {
			t.Fatalf("%d flows in a table of %d", tb.Len(), max)
		}
		k, d := canon(p)
		m := want[k]
		if m == nil {
			m = &modelFlow{first: p.Time, last: p.Time}
			want[k] = m
		}
		m.packets[d]++
		m.bytes[d] += uint64(p.WireLen)
		m.first, m.last = min(m.first, p.Time), max64(m.last, p.Time)
		last = max64(last, p.Time)
	}
	if !tb.Expire(last, true) || tb.Len() != 0 {
		t.Fatalf("flush left %d", tb.Len())
	}
	got := map[string]*modelFlow{}
	for i := range e.flows {
		f := &e.flows[i]
		k, d := canonFlow(f)
		g := got[k]
		if g == nil {
			g = &modelFlow{first: f.First, last: f.Last}
			got[k] = g
		}
		g.packets[d] += f.Packets[0]
		g.packets[1-d] += f.Packets[1]
		g.bytes[d] += f.Bytes[0]
		g.bytes[1-d] += f.Bytes[1]
		g.first, g.last = min(g.first, f.First), max64(g.last, f.Last)
	}
	if len(got) != len(want) {
		t.Fatalf("%d flow keys exported, %d in the packets", len(got), len(want))
	}
	for k, w := range want {
		if g := got[k]; g == nil || *g != *w {
			t.Fatalf("flow %s: exported %+v, packets %+v", k, g, w)
		}
	}
	s := tb.Stats
	if s.Started != s.Exported || s.Exported != uint64(len(e.flows)) || s.Lost != 0 {
		t.Fatalf("stats %+v, %d exports", s, len(e.flows))
	}
	return s
}

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

// randomPackets makes n packets among a few hosts and ports, some TCP with
// FIN and RST, times increasing by up to 7 (and sometimes going back by 1).
func randomPackets(seed []byte, n int) []*Pkt {
	var ps []*Pkt
	var ts int64
	x := uint32(2463534242)
	for _, b := range seed {
		x = x*31 + uint32(b)
	}
	next := func() uint32 { x ^= x << 13; x ^= x >> 17; x ^= x << 5; return x }
	for i := 0; i < n; i++ {
		r := next()
		ts += int64(r % 8)
		if r&0x100000 != 0 {
			ts--
		}
		proto := []uint8{6, 6, 17, 1}[r>>4&3]
		var flags uint8
		switch r >> 8 & 15 {
		case 0:
			flags = rst
		case 1, 2:
			flags = fin
		}
		p := pkt(byte(r>>12&3), byte(r>>15&3), uint16(r>>18&1), uint16(r>>20&1), proto, ts, flags)
		p.Fragment = r>>24&15 == 0
		if r>>28 == 0 {
			p.Version = 6
		}
		ps = append(ps, p)
	}
	return ps
}

func TestConservation(t *testing.T) {
	for _, c := range []struct {
		max          int
		idle, active int64
	}{{1, 0, 0}, {4, 0, 0}, {16, 20, 0}, {1000, 0, 0}, {8, 10, 50}, {1000, 30, 200}, {1000, 5000, 300}} {
		s := checkConservation(t, randomPackets([]byte(fmt.Sprint(c)), 5000), c.max, c.idle, c.active)
		t.Logf("%+v: %+v", c, s)
		if c.max <= 16 && s.Evictions == 0 {
			t.Errorf("%+v: no evictions", c)
		}
	}
}

// FuzzTable checks conservation against the model for packet sequences,
// table sizes and timeouts derived from the input.
func FuzzTable(f *testing.F) {
	f.Add([]byte("seed"), uint8(4), uint8(0), uint8(0))
	f.Add([]byte{1, 2, 3}, uint8(1), uint8(5), uint8(9))
	f.Add([]byte("flows"), uint8(64), uint8(20), uint8(100))
	f.Fuzz(func(t *testing.T, seed []byte, max, idle, active uint8) {
		n := 50 + len(seed)*10
		if n > 2000 {
			n = 2000
		}
		checkConservation(t, randomPackets(seed, n), int(max), int64(idle), int64(active))
	})
}

// BenchmarkFlowTable measures Table.Packet per packet on random traffic
// among a few hundred flows.
func BenchmarkFlowTable(b *testing.B) {
	ps := randomPackets([]byte("bench"), 4096)
	for _, p := range ps {
		p.Hash = mixHash(p) // spread like the record's hash
	}
	for _, c := range []struct {
		name string
		max  int
	}{{"fits", 1024}, {"evicting", 16}} {
		b.Run(c.name+"/native", func(b *testing.B) {
			tb, _ := newTest(c.max, 1000, 0)
			tb.export = func(*Flow, Reason) bool { return true }
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				tb.Packet(ps[i&4095])
			}
		})
	}
}

// mixHash is a symmetric hash that spreads like the record's flow hash.
func mixHash(p *Pkt) uint32 {
	a := uint64(p.Src[0])<<16 | uint64(p.SrcPort)
	b := uint64(p.Dst[0])<<16 | uint64(p.DstPort)
	if a > b {
		a, b = b, a
	}
	h := (a<<32 | b) ^ uint64(p.Proto)<<56 ^ uint64(p.Version)<<60
	h *= 0x9e3779b97f4a7c15
	return uint32(h ^ h>>29)
}

// TestFlagsVLANIfIndex checks the per-direction OR of TCP flags and that
// the VLAN id and interface index are the first packet's.
func TestFlagsVLANIfIndex(t *testing.T) {
	tb, e := newTest(16, 0, 0)
	p := pkt(1, 2, 1000, 80, 6, 1, 0x02) // SYN
	p.VLAN, p.IfIndex = 20, 3
	tb.Packet(p)
	p = pkt(2, 1, 80, 1000, 6, 2, 0x12) // SYN ACK, another VLAN
	p.VLAN, p.IfIndex = 30, 4
	tb.Packet(p)
	tb.Packet(pkt(1, 2, 1000, 80, 6, 3, 0x18)) // PSH ACK
	tb.Packet(pkt(1, 2, 1000, 80, 6, 4, 0x11)) // FIN ACK
	tb.Packet(pkt(2, 1, 80, 1000, 6, 5, 0x11))
	if len(e.flows) != 1 {
		t.Fatalf("%d flows exported, want 1", len(e.flows))
	}
	f := e.flows[0]
	if f.TCPFlags != [2]uint8{0x1b, 0x13} || f.VLAN != 20 || f.IfIndex != 3 {
		t.Fatalf("flags %#x, vlan %d, ifindex %d; want [0x1b 0x13], 20, 3", f.TCPFlags, f.VLAN, f.IfIndex)
	}
	u := pkt(1, 2, 53, 53, 17, 6, 0xff) // not TCP: the record's flags byte is ignored
	tb.Packet(u)
	tb.Expire(7, true)
	if got := e.flows[len(e.flows)-1].TCPFlags; got != [2]uint8{} {
		t.Fatalf("UDP flow with TCP flags %#x", got)
	}
}
