package wasm_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/capture/stream"
	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/wasm"
	"github.com/wringcap/wring/wasm/internal/wat"
)

// streamWAT is a streams-only ABI version 2 module: wring_streams runs body,
// then adds the chunk count to its counter "chunks" and returns 0. It has a
// 4 KiB event area at 0x3000 and a 64 KiB stream area at 0x10000.
func streamWAT(tb testing.TB, body string) []byte {
	tb.Helper()
	src := `(module
  (memory (export "memory") 4)
  (data (i32.const 0x500) "chunks\00")
  (func (export "wring_abi_version") (result i32) (i32.const 2))
  (func (export "wring_config_buffer") (param i32) (result i32) (i32.const 0x800))
  (func (export "wring_init") (param i32 i32) (result i32)
    (i32.store (i32.const 0x400) (i32.const 2))       ;; version
    (i32.store (i32.const 0x41c) (i32.const 0x1000))  ;; counters
    (i32.store (i32.const 0x420) (i32.const 1))
    (i32.store (i32.const 0x424) (i32.const 0x500))   ;; counter names
    (i32.store (i32.const 0x428) (i32.const 7))
    (i32.store (i32.const 0x42c) (i32.const 0x3000))  ;; events
    (i32.store (i32.const 0x430) (i32.const 0x1000))
    (i32.store (i32.const 0x43c) (i32.const 6))       ;; flags: streams, streams only
    (i32.store (i32.const 0x440) (i32.const 0x10000)) ;; stream area
    (i32.store (i32.const 0x444) (i32.const 0x10000))
    (i32.const 0x400))
  (func (export "wring_process") (param i32) (result i32) (i32.const 0))
  (func (export "wring_streams") (param $n i32) (result i32)
    ` + body + `
    (i64.store (i32.const 0x1000) (i64.add (i64.load (i32.const 0x1000)) (i64.extend_i32_u (local.get $n))))
    (i32.const 0)))`
	b, err := wat.Compile(src)
	if errors.Is(err, wat.ErrNoTool) {
		corpus.Unavailable(tb, err.Error())
	}
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// TestStreamsHostile: modules that trap, return an error, run out of fuel
// or write a bad event area in wring_streams are contained: each failure is
// counted by cause and named in the log, the analyzer is quarantined after
// five, the chunks it did not get are counted, and a good stream analyzer
// beside it gets every chunk.
func TestStreamsHostile(t *testing.T) {
	segs := conversation(40100, pattern(6000, 1), pattern(6000, 2), 500, true)
	batches := parseSegs(segs)
	for _, c := range []struct {
		name, body string
		cause      func(wasm.Stats) uint64
	}{
		{"trap", "(unreachable)", func(s wasm.Stats) uint64 { return s.Traps }},
		{"error", "(return (i32.const 7))", func(s wasm.Stats) uint64 { return s.Guest }},
		{"spin", "(loop $l (br $l))", func(s wasm.Stats) uint64 { return s.Fuel }},
		{"events", "(i32.store (i32.const 0x3000) (i32.const 0xfffff))", func(s wasm.Stats) uint64 { return s.ABI }},
		{"info", "(memory.fill (i32.const 0x400) (i32.const 0xff) (i32.const 0x80))", func(s wasm.Stats) uint64 { return s.Failures }},
	} {
		t.Run(c.name, func(t *testing.T) {
			var logs bytes.Buffer
			cfg := wasm.NewConfig().WithLogger(slog.New(slog.NewTextHandler(&logs, nil))).WithFuel(2_000_000)
			h, err := wasm.NewHost(context.Background(), cfg,
				wasm.Analyzer{Name: "hostile-" + c.name, Binary: streamWAT(t, c.body)},
				wasm.Analyzer{Name: "good", Binary: streamWAT(t, "")})
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range batches {
				if err := h.Handle(b); err != nil {
					t.Fatal(err)
				}
			}
			h.Close(context.Background())
			bad, good := h.Stats()[0], h.Stats()[1]
			if c.name == "info" {
				// Zeroing its Info block after init is harmless: the host
				// validated it once and keeps its own copy.
				if bad.Failures != 0 || bad.StreamChunks != good.StreamChunks {
					t.Fatalf("bad %+v good %+v", bad, good)
				}
				return
			}
			if c.cause(bad) < 5 || !bad.Quarantined || bad.StreamLost == 0 || bad.Quarantines != 1 {
				t.Errorf("hostile stats %+v", bad)
			}
			if !strings.Contains(logs.String(), `analyzer=hostile-`+c.name) || !strings.Contains(logs.String(), "wring_streams") {
				t.Errorf("the log does not name the analyzer and wring_streams:\n%s", logs.String())
			}
			if good.Failures != 0 || good.StreamLost != 0 || good.StreamChunks == 0 {
				t.Errorf("good stats %+v", good)
			}
			var chunks uint64
			for _, cn := range h.Counters() {
				if cn.Analyzer == "good" && cn.Name == "chunks" {
					chunks = cn.Value
				}
			}
			if chunks != good.StreamChunks {
				t.Errorf("good analyzer counted %d chunks, the host handed over %d", chunks, good.StreamChunks)
			}
		})
	}
}

// TestStreamsZeroAlloc: feeding a TCP segment through the reassembler,
// staging its chunk and handing it to a stream analyzer allocates nothing
// per packet.
func TestStreamsZeroAlloc(t *testing.T) {
	h, err := wasm.NewHost(context.Background(), wasm.NewConfig().WithLogger(slog.New(slog.DiscardHandler)),
		wasm.Analyzer{Name: "good", Binary: streamWAT(t, "")})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())
	w := h.NewWorker()
	segs := conversation(40200, pattern(3000, 1), pattern(100, 2), 1000, false)
	for _, b := range parseSegs(segs[:4]) { // handshake and the first data segment
		if err := w.Handle(b); err != nil {
			t.Fatal(err)
		}
	}
	b := parseSegs(segs[4:5])[0] // the second data segment, its sequence number advanced each run
	seq := binary.BigEndian.Uint32(b.Packets[0].Data[14+20+4:])
	run := func() {
		b.Verdicts[0] = packet.Verdict{}
		if err := w.Handle(b); err != nil {
			t.Fatal(err)
		}
		seq += 1000
		binary.BigEndian.PutUint32(b.Packets[0].Data[14+20+4:], seq)
	}
	for range 10 {
		run()
	}
	before := h.Stats()[0].StreamBytes
	if n := testing.AllocsPerRun(200, run); n != 0 {
		t.Errorf("%v allocations per packet on the stream path", n)
	}
	if got := h.Stats()[0].StreamBytes - before; got < 200*1000 {
		t.Errorf("%d bytes handed over in 200+ runs of 1,000-byte segments", got)
	}
}

// FuzzStreamsHost feeds segments made from the fuzz input (two flows, any
// sequence numbers, lengths and flags) through a host with a small staging
// buffer and window, to a good stream analyzer: nothing fails, nothing is
// lost, and the analyzer counts exactly the chunks the host handed over.
func FuzzStreamsHost(f *testing.F) {
	f.Add([]byte{0, 2, 0, 0, 0, 1, 0x18, 200, 0, 3, 0x18, 100, 1, 0x11, 0})
	f.Add(bytes.Repeat([]byte{1, 0x18, 255, 0, 7}, 40))
	mod := streamWAT(f, "")
	f.Fuzz(func(t *testing.T, in []byte) {
		cfg := wasm.NewConfig().WithLogger(slog.New(slog.DiscardHandler)).
			WithStreams(stream.Config{Window: 2048, MaxBytes: 8192, MaxFlows: 4}, 1, 1)
		h, err := wasm.NewHost(context.Background(), cfg, wasm.Analyzer{Name: "good", Binary: mod})
		if err != nil {
			t.Fatal(err)
		}
		payload := pattern(70000, 3)
		var segs []seg
		for len(in) >= 5 && len(segs) < 200 {
			fl, flags, n, off := in[0]&1, in[1], int(in[2])*int(in[3]%2+1)*64, int(in[4])*97
			in = in[5:]
			s := seg{src: [4]byte{10, 0, 0, 1}, dst: [4]byte{10, 0, 0, 2}, sport: 40000 + uint16(fl), dport: 80,
				seq: 1000 + uint32(off), flags: flags, payload: payload[:n]}
			if flags&0x40 != 0 { // the other direction
				s.src, s.dst, s.sport, s.dport = s.dst, s.src, s.dport, s.sport
			}
			segs = append(segs, s)
		}
		for _, b := range parseSegs(segs) {
			if err := h.Handle(b); err != nil {
				t.Fatal(err)
			}
		}
		h.Close(context.Background())
		st := h.Stats()[0]
		var chunks uint64
		for _, c := range h.Counters() {
			chunks += c.Value
		}
		if st.Failures != 0 || st.StreamLost != 0 || chunks != st.StreamChunks {
			t.Fatalf("stats %+v, the analyzer counted %d chunks", st, chunks)
		}
	})
}
