package stream

import (
	"math/rand/v2"
	"net/netip"
	"runtime"
	"testing"
)

// BenchmarkInOrder: one 1,460-byte segment per op, in order, on one flow
// (the zero-copy path).
func BenchmarkInOrder(b *testing.B) {
	r := New(Config{}, nopHandler{})
	p := make([]byte, 1460)
	r.Add(client, server, 0, 0, FlagSYN, nil, 1)
	seq := uint32(1)
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	for b.Loop() {
		r.Add(client, server, 0, seq, FlagACK, p, 1)
		seq += uint32(len(p))
	}
}

// BenchmarkSwapped: segments arrive in swapped pairs (every other one
// early), so half go through the window.
func BenchmarkSwapped(b *testing.B) {
	r := New(Config{}, nopHandler{})
	p := make([]byte, 1460)
	r.Add(client, server, 0, 0, FlagSYN, nil, 1)
	seq := uint32(1)
	b.SetBytes(int64(2 * len(p)))
	b.ReportAllocs()
	for b.Loop() {
		r.Add(client, server, 0, seq+1460, FlagACK, p, 1)
		r.Add(client, server, 0, seq, FlagACK, p, 1)
		seq += 2920
	}
}

// BenchmarkManyFlows: 100,000 concurrent flows, one segment per op on a
// random flow; reports the heap per flow the reassembler holds.
func BenchmarkManyFlows(b *testing.B) {
	const flows = 100_000
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r := New(Config{MaxFlows: flows}, nopHandler{})
	srcs := make([]netip.AddrPort, flows)
	seqs := make([]uint32, flows)
	for i := range srcs {
		srcs[i] = netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 40000)
		r.Add(srcs[i], server, 0, 0, FlagSYN, nil, 1)
		seqs[i] = 1
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	perFlow := float64(after.HeapAlloc-before.HeapAlloc-uint64(flows*(24+4))) / flows
	p := make([]byte, 200)
	rng := rand.New(rand.NewPCG(1, 1))
	b.ReportAllocs()
	for b.Loop() {
		i := rng.IntN(flows)
		r.Add(srcs[i], server, 0, seqs[i], FlagACK, p, 1)
		seqs[i] += uint32(len(p))
	}
	b.ReportMetric(perFlow, "heap-B/flow")
	runtime.KeepAlive(srcs)
}

// TestStress: many flows with random segment order, overlaps and loss,
// more flows than the table holds and more out-of-order data than the
// window pool: the bounds hold (windows never exceed MaxBytes), everything
// given up is counted, and the accounting identity holds.
func TestStress(t *testing.T) {
	flows, segsPer := 1_000_000, 4
	if testing.Short() {
		flows = 100_000
	}
	cfg := Config{MaxFlows: 50_000, Window: 4096, MaxBytes: 4 << 20, Idle: 1000}
	r := New(cfg, nopHandler{})
	rng := rand.New(rand.NewPCG(5, 5))
	p := make([]byte, 1500)
	var given uint64
	for i := range flows {
		src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), uint16(i))
		isn := rng.Uint32()
		r.Add(src, server, 0, isn, FlagSYN, nil, int64(i))
		for range segsPer {
			n := rng.IntN(len(p))
			r.Add(src, server, 0, isn+1+uint32(rng.IntN(8000)), FlagACK, p[:n], int64(i))
			given += uint64(n)
		}
		if i%10_000 == 0 {
			r.Expire(int64(i))
		}
		if r.nwin > cfg.MaxBytes/cfg.Window {
			t.Fatalf("%d windows made, bound %d", r.nwin, cfg.MaxBytes/cfg.Window)
		}
	}
	r.Flush()
	st := r.Stats()
	t.Logf("%d flows offered: %d started, %d segments refused (table full), %d windows wanted but none free, %d past the window, %d range lists full; %d bytes delivered, %d declared lost in %d gaps",
		flows, st.Flows, st.SegmentsRefuse, st.WindowsOut, st.PastWindow, st.RangesFull, st.Delivered, st.GapBytes, st.Gaps)
	if got := st.Delivered + st.Retransmitted + st.OverlapKept + st.Refused; got != given {
		t.Errorf("%d bytes given, %d accounted for", given, got)
	}
	if st.Flows == 0 || st.Delivered == 0 || st.WindowsOut == 0 {
		t.Errorf("the stress did not reach the bounds it is meant to test: %+v", st)
	}
}
