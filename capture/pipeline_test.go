package capture_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"testing"

	"github.com/wringcap/wring/capture"
	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/capture/pcapfile"
	"github.com/wringcap/wring/internal/trafficgen"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
	"github.com/wringcap/wring/vm"
)

// genFile returns a generated capture of n packets.
func genFile(t *testing.T, n int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := trafficgen.Generate(&b, trafficgen.Config{Seed: 5, Count: n}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

type pkt struct {
	info packet.Info
	data []byte
	rec  packet.Record
}

// allPackets reads a capture with the reader alone, parsing each packet.
func allPackets(t *testing.T, file []byte) []pkt {
	t.Helper()
	r, err := pcapfile.NewReaderBytes(file, "gen")
	if err != nil {
		t.Fatal(err)
	}
	var out []pkt
	for {
		var p pkt
		d, err := r.ReadPacket(&p.info)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		p.data = append([]byte(nil), d...)
		packet.Parse(p.info, p.data, &p.rec)
		out = append(out, p)
	}
}

// collector is a sink that keeps copies of what it is given.
type collector struct {
	mu   sync.Mutex
	pkts []pkt
}

func (c *collector) Handle(b *packet.Batch) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range b.Packets {
		c.pkts = append(c.pkts, pkt{info: p.Info, data: append([]byte(nil), p.Data...), rec: p.Record})
	}
	return nil
}
func (c *collector) Flush() error { return nil }
func (c *collector) Close() error { return nil }

// streamSource reads file through the streaming reader (not in memory), so
// batches span the reader's buffer swaps.
func streamSource(t *testing.T, file []byte) capture.Source {
	t.Helper()
	r, err := pcapfile.NewReader(bytes.NewReader(file), "gen")
	if err != nil {
		t.Fatal(err)
	}
	return capture.NewFileSource(r)
}

type lenFilter struct{ min, keep uint32 }

func (f lenFilter) Run(pkt []byte, wirelen uint32) uint32 {
	if wirelen > f.min {
		return f.keep
	}
	return 0
}

func runPipeline(t *testing.T, cfg capture.Config) *capture.Pipeline {
	t.Helper()
	p, err := capture.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPipelineFilterTruncatesAndCounts: every packet is read once, the
// filter's result truncates what passes, the records describe the
// truncated bytes, and the counters reconcile.
func TestPipelineFilterTruncatesAndCounts(t *testing.T) {
	file := genFile(t, 5000) // about 1.4 MB: several buffer swaps
	want := allPackets(t, file)
	for _, batch := range []int{1, 7, 128, 4096} {
		col := &collector{}
		p := runPipeline(t, capture.Config{Sources: []capture.Source{streamSource(t, file)}, Filter: lenFilter{100, 64}, Batch: batch, Sinks: []capture.Sink{col}})
		var exp []pkt
		for _, w := range want {
			if w.info.WireLen > 100 {
				exp = append(exp, w)
			}
		}
		if len(col.pkts) != len(exp) {
			t.Fatalf("batch %d: delivered %d, want %d", batch, len(col.pkts), len(exp))
		}
		for i, g := range col.pkts {
			w := exp[i]
			n := min(64, len(w.data))
			if !bytes.Equal(g.data, w.data[:n]) || g.info.CapLen != uint32(n) || g.info.WireLen != w.info.WireLen || g.info.Timestamp != w.info.Timestamp {
				t.Fatalf("batch %d: packet %d differs", batch, i)
			}
			var rec packet.Record
			packet.Parse(g.info, w.data[:n], &rec)
			if rec != g.rec {
				t.Fatalf("batch %d: packet %d: record not of the truncated bytes", batch, i)
			}
		}
		s := capture.Sum(p.Counters())
		if s.Received != uint64(len(want)) || s.FilteredOut != uint64(len(want)-len(exp)) || s.Delivered != uint64(len(exp)) || !s.Reconciles() {
			t.Errorf("batch %d: counters %v", batch, s)
		}
	}
}

// verdictHandler drops every third packet and forwards UDP to sink 1.
type verdictHandler struct{ seen int }

func (h *verdictHandler) Handle(b *packet.Batch) error {
	for i := range b.Packets {
		h.seen++
		switch {
		case h.seen%3 == 0:
			b.Verdicts[i].Action = packet.ActionDrop
		case b.Packets[i].Record.IPProto() == packet.ProtoUDP:
			b.Verdicts[i] = packet.Verdict{Action: packet.ActionForward, Sink: 1}
		}
	}
	return nil
}

// TestPipelineVerdicts: handler drops are counted and hidden from the
// sinks; forwarded packets reach only their sink.
func TestPipelineVerdicts(t *testing.T) {
	file := genFile(t, 3000)
	want := allPackets(t, file)
	s0, s1 := &collector{}, &collector{}
	p := runPipeline(t, capture.Config{Sources: []capture.Source{streamSource(t, file)}, Handlers: []capture.Handler{&verdictHandler{}}, Sinks: []capture.Sink{s0, s1}})
	var kept, udp int
	for i, w := range want {
		if (i+1)%3 == 0 {
			continue
		}
		kept++
		if w.rec.IPProto() == packet.ProtoUDP {
			udp++
		}
	}
	if len(s0.pkts) != kept-udp || len(s1.pkts) != kept {
		t.Errorf("sink 0 got %d (want %d), sink 1 got %d (want %d)", len(s0.pkts), kept-udp, len(s1.pkts), kept)
	}
	for _, g := range s0.pkts {
		if g.rec.IPProto() == packet.ProtoUDP {
			t.Fatal("a forwarded UDP packet reached sink 0")
		}
	}
	s := capture.Sum(p.Counters())
	if s.Dropped[capture.DropHandler] != uint64(len(want)-kept) || s.Delivered != uint64(kept) || !s.Reconciles() {
		t.Errorf("counters %v", s)
	}
}

// TestPipelineCount stops after exactly Count delivered packets and counts
// as received only the packets it looked at.
func TestPipelineCount(t *testing.T) {
	file := genFile(t, 2000)
	want := allPackets(t, file)
	col := &collector{}
	p := runPipeline(t, capture.Config{Sources: []capture.Source{streamSource(t, file)}, Filter: lenFilter{200, 65535}, Count: 25, Sinks: []capture.Sink{col}})
	if len(col.pkts) != 25 {
		t.Fatalf("delivered %d, want 25", len(col.pkts))
	}
	// The 25th match is packet k: exactly k+1 packets were received.
	matched, k := 0, 0
	for i, w := range want {
		if w.info.WireLen > 200 {
			matched++
			if matched == 25 {
				k = i
				break
			}
		}
	}
	s := capture.Sum(p.Counters())
	if s.Received != uint64(k+1) || !s.Reconciles() {
		t.Errorf("counters %v, want %d received", s, k+1)
	}
}

// TestPipelineRecordFilter runs a verified program with a record load in
// the interpreter: it reads the destination port from the parse record.
func TestPipelineRecordFilter(t *testing.T) {
	file := genFile(t, 2000)
	want := allPackets(t, file)
	prog := spec.Program{
		{Op: spec.ClassLD | spec.SizeH | spec.ModeABS, K: spec.RecordBase + spec.RecDstPort},
		{Op: spec.ClassJMP | spec.JumpJEQ | spec.SrcK, Jt: 0, Jf: 1, K: 53},
		{Op: spec.ClassRET | spec.RetK, K: 262144},
		{Op: spec.ClassRET | spec.RetK, K: 0},
	}
	vp, err := verifier.Verify(prog, verifier.Options{Record: true})
	if err != nil {
		t.Fatal(err)
	}
	col := &collector{}
	runPipeline(t, capture.Config{Sources: []capture.Source{streamSource(t, file)}, Filter: vm.Filter{Program: vp}, FilterMeta: true, Sinks: []capture.Sink{col}})
	n := 0
	for _, w := range want {
		if w.rec.DstPort() == 53 {
			n++
		}
	}
	if n == 0 || len(col.pkts) != n {
		t.Fatalf("delivered %d, want %d", len(col.pkts), n)
	}
	for _, g := range col.pkts {
		if g.rec.DstPort() != 53 {
			t.Fatal("delivered a packet whose record says port", g.rec.DstPort())
		}
	}
	// Without FilterMeta the record load fails and nothing passes.
	col = &collector{}
	runPipeline(t, capture.Config{Sources: []capture.Source{streamSource(t, file)}, Filter: vm.Filter{Program: vp}, Sinks: []capture.Sink{col}})
	if len(col.pkts) != 0 {
		t.Errorf("without metadata, %d packets passed a record filter", len(col.pkts))
	}
}

// TestPipelineSourceError: packets before a read error are delivered and
// the error is returned.
func TestPipelineSourceError(t *testing.T) {
	file := genFile(t, 500)
	want := allPackets(t, file)
	cut := file[:len(file)-7]
	col := &collector{}
	p, err := capture.New(capture.Config{Sources: []capture.Source{streamSource(t, cut)}, Sinks: []capture.Sink{col}})
	if err != nil {
		t.Fatal(err)
	}
	err = p.Run(context.Background())
	var pe *pcapfile.Error
	if !errors.As(err, &pe) || !errors.Is(err, pcapfile.ErrTruncated) {
		t.Fatalf("error %v, want a truncation *pcapfile.Error", err)
	}
	if len(col.pkts) != len(want)-1 {
		t.Errorf("delivered %d packets before the error, want %d", len(col.pkts), len(want)-1)
	}
}
