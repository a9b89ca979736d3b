package capture_test

import (
	"bytes"
	"testing"

	"github.com/wringcap/wring/capture"
	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/filters/expr"
	"github.com/wringcap/wring/jit"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
	"github.com/wringcap/wring/vm"
)

// countingBatch is a BatchFilter that counts how it is called.
type countingBatch struct {
	f            *jit.Filter
	runs, blocks int
}

func (c *countingBatch) Run(pkt []byte, wirelen uint32) uint32 {
	c.runs++
	return c.f.Run(pkt, wirelen)
}

func (c *countingBatch) RunBatch(pkts [][]byte, wirelens []uint32, out []uint32) error {
	c.blocks++
	return c.f.RunBatch(pkts, wirelens, out)
}

// bytesOnly is a collector that reads no records, so the pipeline skips
// the parse.
type bytesOnly struct{ collector }

func (*bytesOnly) UsesRecord() bool { return false }

// plainSource hides a FileSource's ReadBatchViews, so the pipeline fills
// the batch filter's arrays itself.
type plainSource struct{ capture.Source }

// perPacket hides a filter's RunBatch, so the pipeline calls Run.
type perPacket struct{ f capture.Filter }

func (p perPacket) Run(pkt []byte, wirelen uint32) uint32 { return p.f.Run(pkt, wirelen) }

// TestPipelineBatchFilter: a BatchFilter runs once per batch, and the
// pipeline delivers, to a sink that reads records and to one that does not, exactly what the reference interpreter's per-packet
// results say (truncation included), with the same counters as a filter
// run packet by packet, for every batch size and with -c.
func TestPipelineBatchFilter(t *testing.T) {
	file := genFile(t, 5000)
	want := allPackets(t, file)
	truncate := spec.Program{ // keep 60 bytes of packets longer than 300 on the wire
		{Op: spec.ClassLD | spec.SizeW | spec.ModeLEN},
		{Op: spec.ClassJMP | spec.JumpJGT | spec.SrcK, Jt: 0, Jf: 1, K: 300},
		{Op: spec.ClassRET | spec.RetK, K: 60},
		{Op: spec.ClassRET | spec.RetK, K: 0},
	}
	progs := map[string]spec.Program{"truncate": truncate}
	for _, e := range []string{"tcp port 80", "udp and port 53", "vlan and tcp port 443", "ip6 and tcp"} {
		p, err := expr.Compile(e, expr.Options{LinkType: spec.LinkEthernet, Snaplen: 262144, Optimize: true})
		if err != nil {
			t.Fatal(err)
		}
		progs[e] = p
	}
	for name, prog := range progs {
		vp, err := verifier.Verify(prog, verifier.Options{})
		if err != nil {
			t.Fatal(err)
		}
		f, err := jit.Compile(vp, jit.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var exp []pkt
		for _, w := range want {
			if k := vm.Run(vp, w.data, w.info.WireLen, nil); k != 0 {
				w.data = w.data[:min(uint32(len(w.data)), k)]
				exp = append(exp, w)
			}
		}
		if len(exp) == 0 {
			t.Fatalf("%s: no packet matches", name)
		}
		for _, batch := range []int{1, 7, 128, 4096} {
			for _, count := range []uint64{0, 33} {
				for k, records := range []bool{true, false, false} {
					cb := &countingBatch{f: f}
					col, ref := &collector{}, &collector{}
					var sink capture.Sink = col
					if !records {
						bo := &bytesOnly{}
						sink, col = bo, &bo.collector
					}
					src := streamSource(t, file)
					if k == 2 {
						src = plainSource{src}
					}
					cfg := capture.Config{Sources: []capture.Source{src}, Filter: cb, Batch: batch, Count: count, Sinks: []capture.Sink{sink}}
					p := runPipeline(t, cfg)
					cfg.Sources, cfg.Filter, cfg.Sinks = []capture.Source{streamSource(t, file)}, perPacket{f}, []capture.Sink{ref}
					q := runPipeline(t, cfg)
					if cb.runs != 0 || cb.blocks == 0 {
						t.Fatalf("%s: %d Run calls, %d RunBatch calls", name, cb.runs, cb.blocks)
					}
					e := exp
					if count != 0 {
						e = e[:count]
					}
					if len(col.pkts) != len(e) {
						t.Fatalf("%s, batch %d, count %d: delivered %d, want %d", name, batch, count, len(col.pkts), len(e))
					}
					for i, g := range col.pkts {
						if !bytes.Equal(g.data, e[i].data) || g.info.CapLen != uint32(len(e[i].data)) || g.info.Timestamp != e[i].info.Timestamp {
							t.Fatalf("%s, batch %d, count %d: packet %d differs", name, batch, count, i)
						}
						if records {
							var rec packet.Record
							packet.Parse(g.info, e[i].data, &rec)
							if rec != g.rec {
								t.Fatalf("%s, batch %d, count %d: packet %d: record not of the delivered bytes", name, batch, count, i)
							}
						}
					}
					s, sr := capture.Sum(p.Counters()), capture.Sum(q.Counters())
					if s != sr || !s.Reconciles() || s.Delivered != uint64(len(e)) {
						t.Errorf("%s, batch %d, count %d: counters %v, per packet %v", name, batch, count, s, sr)
					}
				}
			}
		}
	}
}
