package stream

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
)

var (
	client = netip.MustParseAddrPort("10.0.0.1:40000")
	server = netip.MustParseAddrPort("10.0.0.2:80")
)

// recorder rebuilds each direction of each flow from the handler calls and
// checks that offsets are contiguous.
type recorder struct {
	t      testing.TB
	noData bool // keep offsets only (the fuzz target: gaps may be 2 GiB)
	data   map[uint64]*[2]rebuilt
	ends   map[uint64]EndReason
	errors []string
}

type rebuilt struct {
	next  uint64
	bytes []byte // the stream, with gaps as zero bytes
	lost  []span // gap ranges, stream offsets
}

func newRecorder(t testing.TB) *recorder {
	return &recorder{t: t, data: map[uint64]*[2]rebuilt{}, ends: map[uint64]EndReason{}}
}

func (r *recorder) dir(f *Flow, d Dir) *rebuilt {
	x := r.data[f.ID]
	if x == nil {
		x = &[2]rebuilt{}
		r.data[f.ID] = x
	}
	return &x[d]
}

func (r *recorder) Data(f *Flow, d Dir, off uint64, p []byte) {
	b := r.dir(f, d)
	if off != b.next {
		r.errors = append(r.errors, fmt.Sprintf("flow %d dir %d: data at %d, want %d", f.ID, d, off, b.next))
	}
	if len(p) == 0 {
		r.errors = append(r.errors, fmt.Sprintf("flow %d dir %d: empty data at %d", f.ID, d, off))
	}
	if !r.noData {
		b.bytes = append(b.bytes, p...)
	}
	b.next = off + uint64(len(p))
}

func (r *recorder) Gap(f *Flow, d Dir, off, n uint64) {
	b := r.dir(f, d)
	if off != b.next || n == 0 {
		r.errors = append(r.errors, fmt.Sprintf("flow %d dir %d: gap %d at %d, want at %d", f.ID, d, n, off, b.next))
	}
	if !r.noData {
		b.lost = append(b.lost, span{int(off), int(off + n)})
		b.bytes = append(b.bytes, make([]byte, n)...)
	}
	b.next = off + n
}

func (r *recorder) End(f *Flow, why EndReason) {
	if _, ok := r.ends[f.ID]; ok {
		r.errors = append(r.errors, fmt.Sprintf("flow %d ended twice", f.ID))
	}
	r.ends[f.ID] = why
}

// seg is one segment of a generated connection.
type seg struct {
	d     Dir
	seq   uint32
	flags uint8
	data  []byte
}

// conn generates a connection: handshake, both streams cut into segments
// of random sizes, FINs. isn are the two initial sequence numbers.
func conn(rng *rand.Rand, streams [2][]byte, isn [2]uint32, maxSeg int) []seg {
	out := []seg{
		{d: 0, seq: isn[0], flags: FlagSYN},
		{d: 1, seq: isn[1], flags: FlagSYN | FlagACK},
	}
	var pos [2]int
	for pos[0] < len(streams[0]) || pos[1] < len(streams[1]) {
		d := Dir(rng.IntN(2))
		if pos[d] >= len(streams[d]) {
			d = 1 - d
		}
		n := min(1+rng.IntN(maxSeg), len(streams[d])-pos[d])
		out = append(out, seg{d: d, seq: isn[d] + 1 + uint32(pos[d]), flags: FlagACK, data: streams[d][pos[d] : pos[d]+n]})
		pos[d] += n
	}
	for d := Dir(0); d < 2; d++ {
		out = append(out, seg{d: d, seq: isn[d] + 1 + uint32(len(streams[d])), flags: FlagFIN | FlagACK})
	}
	return out
}

func feed(r *Reassembler, segs []seg, ts int64) {
	for _, s := range segs {
		src, dst := client, server
		if s.d == 1 {
			src, dst = server, client
		}
		r.Add(src, dst, 0, s.seq, s.flags, s.data, ts)
	}
}

func randomBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// TestInOrder: a connection in order comes out byte for byte, with no gap,
// ended by its FINs, every byte counted as delivered.
func TestInOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	streams := [2][]byte{randomBytes(rng, 100_000), randomBytes(rng, 300_000)}
	rec := newRecorder(t)
	r := New(Config{}, rec)
	// Sequence numbers that wrap past 2^32.
	feed(r, conn(rng, streams, [2]uint32{0xffff_0000, 0xffff_ff00}, 1460), 1)
	check(t, rec, streams, true)
	if rec.ends[1] != EndFIN {
		t.Errorf("end reason %v, want fin", rec.ends[1])
	}
	st := r.Stats()
	if st.Delivered != 400_000 || st.Gaps != 0 || st.Retransmitted != 0 {
		t.Errorf("stats %+v", st)
	}
}

// check compares the rebuilt streams of flow 1 with the originals: bytes
// handed over must equal the original at their offsets; with exact, there
// must be no gap.
func check(t *testing.T, rec *recorder, streams [2][]byte, exact bool) {
	t.Helper()
	for _, e := range rec.errors {
		t.Error(e)
	}
	x := rec.data[1]
	if x == nil {
		t.Fatal("no data for flow 1")
	}
	for d := range 2 {
		b := x[d]
		if len(b.bytes) != len(streams[d]) {
			t.Errorf("dir %d: %d bytes out, %d in", d, len(b.bytes), len(streams[d]))
		}
		lost := 0
		for _, s := range b.lost {
			lost += s.end - s.start
		}
		if exact && lost > 0 {
			t.Errorf("dir %d: %d bytes declared lost, want none", d, lost)
		}
		// Outside the gaps, every byte is the original's.
		in := func(i int) bool {
			for _, s := range b.lost {
				if i >= s.start && i < s.end {
					return true
				}
			}
			return false
		}
		bad := 0
		for i := 0; i < min(len(b.bytes), len(streams[d])); i++ {
			if b.bytes[i] != streams[d][i] && !in(i) {
				bad++
			}
		}
		if bad > 0 {
			t.Errorf("dir %d: %d bytes differ from the original outside gaps", d, bad)
		}
	}
}

// TestReorderWithinWindow: segments shuffled within a distance the window
// covers, duplicated and overlapped (with the same bytes), still come out
// exactly, with no gap; duplicates are counted, not handed over twice.
func TestReorderWithinWindow(t *testing.T) {
	for seed := range uint64(50) {
		rng := rand.New(rand.NewPCG(seed, 7))
		streams := [2][]byte{randomBytes(rng, 20_000+rng.IntN(50_000)), randomBytes(rng, rng.IntN(80_000))}
		segs := conn(rng, streams, [2]uint32{rng.Uint32(), rng.Uint32()}, 1+rng.IntN(3000))
		body := segs[2 : len(segs)-2]
		// Overlapping copies with the same bytes.
		for range len(body) / 4 {
			s := body[rng.IntN(len(body))]
			if len(s.data) > 2 {
				a := rng.IntN(len(s.data) / 2)
				body = append(body, seg{d: s.d, seq: s.seq + uint32(a), flags: FlagACK, data: s.data[a:]})
			}
		}
		// Local shuffle: each segment moves at most 8 places.
		for i := range body {
			j := min(len(body)-1, i+rng.IntN(8))
			body[i], body[j] = body[j], body[i]
		}
		segs = append(append(segs[:2:2], body...), segs[len(segs)-2:]...)
		rec := newRecorder(t)
		r := New(Config{Window: 64 << 10}, rec)
		feed(r, segs, 1)
		t.Run(fmt.Sprint(seed), func(t *testing.T) { check(t, rec, streams, true) })
		st := r.Stats()
		if st.OverlapDiffer != 0 {
			t.Errorf("seed %d: %d overlapping bytes differ, the copies were equal", seed, st.OverlapDiffer)
		}
		if got := st.Delivered; got != uint64(len(streams[0])+len(streams[1])) {
			t.Errorf("seed %d: delivered %d", seed, got)
		}
	}
}

// TestLoss: segments that never arrive become gaps of exactly their
// length, and everything else is handed over, in a direction that ends by
// FIN (the FIN bounds the last gap) or by Flush.
func TestLoss(t *testing.T) {
	for seed := range uint64(50) {
		rng := rand.New(rand.NewPCG(seed, 9))
		streams := [2][]byte{randomBytes(rng, 50_000), randomBytes(rng, 50_000)}
		segs := conn(rng, streams, [2]uint32{rng.Uint32(), rng.Uint32()}, 1460)
		var kept []seg
		var lost [2]int
		for i, s := range segs {
			if i >= 2 && i < len(segs)-2 && rng.IntN(10) == 0 {
				lost[s.d] += len(s.data)
				continue
			}
			kept = append(kept, s)
		}
		rec := newRecorder(t)
		r := New(Config{Window: 16 << 10}, rec)
		feed(r, kept, 1)
		r.Flush()
		t.Run(fmt.Sprint(seed), func(t *testing.T) { check(t, rec, streams, false) })
		for d := range 2 {
			got := 0
			for _, s := range rec.data[1][d].lost {
				got += s.end - s.start
			}
			if got != lost[d] {
				t.Errorf("seed %d dir %d: %d bytes declared lost, %d were", seed, d, got, lost[d])
			}
		}
	}
}

// TestFirstWins: an overlapping segment with other bytes does not replace
// what the window holds, and its differing bytes are counted.
func TestFirstWins(t *testing.T) {
	rec := newRecorder(t)
	r := New(Config{}, rec)
	r.Add(client, server, 0, 99, FlagSYN, nil, 1)
	r.Add(client, server, 0, 105, FlagACK, []byte("WORLD"), 1)  // held: offset 5
	r.Add(client, server, 0, 103, FlagACK, []byte("xxWxRx"), 1) // overlaps 105..108: 2 of 4 differ
	r.Add(client, server, 0, 100, FlagACK, []byte("HEL"), 1)    // fills the hole
	r.Add(client, server, 0, 100, FlagACK, []byte("JUNK"), 1)   // already handed over
	r.Flush()
	got := string(rec.data[1][0].bytes)
	if got != "HELxxWORLD" {
		t.Errorf("stream %q, want HELxxWORLD", got)
	}
	st := r.Stats()
	if st.OverlapKept != 4 || st.OverlapDiffer != 2 || st.Retransmitted != 4 {
		t.Errorf("overlap kept %d differ %d retransmitted %d, want 4, 2, 4", st.OverlapKept, st.OverlapDiffer, st.Retransmitted)
	}
}

// TestFinTailAbsorbed: the last ACK after both FINs does not start a new
// flow, and a new SYN on the same endpoints does.
func TestFinTailAbsorbed(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	streams := [2][]byte{[]byte("GET / HTTP/1.1\r\n\r\n"), []byte("HTTP/1.1 200 OK\r\n\r\n")}
	rec := newRecorder(t)
	r := New(Config{}, rec)
	segs := conn(rng, streams, [2]uint32{1000, 5000}, 10)
	feed(r, segs, 1)
	r.Add(client, server, 0, 1000+1+uint32(len(streams[0]))+1, FlagACK, nil, 2) // the last ACK
	if st := r.Stats(); st.Flows != 1 || st.Ended[EndFIN] != 1 {
		t.Fatalf("after the last ACK: %d flows, %d ended by FIN; want 1, 1", st.Flows, st.Ended[EndFIN])
	}
	feed(r, conn(rng, streams, [2]uint32{9000, 7000}, 10), 3)
	if st := r.Stats(); st.Flows != 2 || st.Ended[EndFIN] != 2 {
		t.Fatalf("after a new connection: %d flows, %d ended by FIN; want 2, 2", st.Flows, st.Ended[EndFIN])
	}
	if !bytes.Equal(rec.data[2][1].bytes, streams[1]) {
		t.Errorf("second connection's response %q", rec.data[2][1].bytes)
	}
	r.Expire(3 + 61e9)
	if r.Flows() != 0 {
		t.Errorf("%d flows held after the idle time", r.Flows())
	}
}

// TestBounds: the flow table and the window pool refuse past their limits
// and count it; memory does not grow with the flows offered.
func TestBounds(t *testing.T) {
	rec := newRecorder(t)
	r := New(Config{MaxFlows: 100, Window: 1024, MaxBytes: 10 * 1024}, rec)
	for i := range 1000 {
		src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), 1234)
		// An out-of-order segment: each flow wants a window.
		r.Add(src, server, 0, 500, FlagACK, []byte("a"), 1)
		r.Add(src, server, 0, 510, FlagACK, []byte("b"), 1)
	}
	st := r.Stats()
	if st.Flows != 100 || st.FlowsRefused != 1800 {
		t.Errorf("flows %d refused %d, want 100, 1800", st.Flows, st.FlowsRefused)
	}
	if st.WindowsOut != 90 {
		t.Errorf("windows out %d, want 90 (10 windows for 100 flows)", st.WindowsOut)
	}
	r.Flush()
	if st := r.Stats(); st.Delivered+st.Refused != 2000 {
		t.Errorf("delivered %d + refused %d != 2000 bytes offered", st.Delivered, st.Refused)
	}
}

// TestNoAllocs: steady state (flows and windows already made) allocates
// nothing per segment, in order or out of order.
func TestNoAllocs(t *testing.T) {
	r := New(Config{MaxFlows: 1024}, nopHandler{})
	payload := make([]byte, 1000)
	seq := uint32(1)
	r.Add(client, server, 0, 0, FlagSYN, nil, 1)
	allocs := testing.AllocsPerRun(1000, func() {
		r.Add(client, server, 0, seq+1000, FlagACK, payload, 1) // early: into the window
		r.Add(client, server, 0, seq, FlagACK, payload, 1)      // fills the hole: both out
		seq += 2000
	})
	if allocs != 0 {
		t.Errorf("%v allocations per pair of segments, want 0", allocs)
	}
}

type nopHandler struct{}

func (nopHandler) Data(*Flow, Dir, uint64, []byte) {}
func (nopHandler) Gap(*Flow, Dir, uint64, uint64)  {}
func (nopHandler) End(*Flow, EndReason)            {}
