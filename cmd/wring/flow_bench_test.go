package main

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wringcap/wring/analyzers/bundled"
	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/filters/rules"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/wasm"
)

// sipHost loads the bundled sip analyzer over a fresh classifier.
func sipHost(b testing.TB) (*wasm.Host, *rules.Classifier) {
	bin, err := bundled.Module("sip")
	if err != nil {
		b.Fatal(err)
	}
	cl := rules.New()
	cfg := wasm.NewConfig().WithFlowTable(newFlowTable(cl)).WithFlowQuota(1<<22, 1<<30).WithEvents(io.Discard)
	h, err := wasm.NewHost(context.Background(), cfg, wasm.Analyzer{Name: "sip", Binary: bin, GrantRules: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { h.Close(context.Background()) })
	return h, cl
}

// callBatch is a batch of the INVITE and 200 OK of calls first..first+n-1
// (unique Call-IDs and media ports).
func callBatch(first, n int) *packet.Batch {
	bt := &packet.Batch{}
	for i := first; i < first+n; i++ {
		c := &sipCall{id: fmt.Sprintf("bench%d", i), a: [4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}, b: [4]byte{10, 200, 0, 1},
			aPort: 10000, bPort: uint16(2 * (1 + i%30000))}
		for _, f := range [][]byte{c.invite(), c.ok()} {
			p := packet.Packet{Data: f, Info: packet.Info{Timestamp: 1_700_000_000_000_000_000 + int64(i), CapLen: uint32(len(f)), WireLen: uint32(len(f)), LinkType: spec.LinkEthernet}}
			packet.Parse(p.Info, f, &p.Record)
			bt.Packets = append(bt.Packets, p)
			bt.Verdicts = append(bt.Verdicts, packet.Verdict{})
		}
	}
	return bt
}

// BenchmarkSIPRuleAdd is the rule update throughput through wring.rule_add:
// the sip analyzer handles batches of 8 answered calls (16 messages, one
// call to wring_process) and adds 2 flows per call (RTP, RTCP) to a
// classifier that grows as it runs. flows/s counts flows installed.
func BenchmarkSIPRuleAdd(b *testing.B) {
	h, cl := sipHost(b)
	w := h.NewWorker()
	batches := make([]*packet.Batch, 64)
	for i := range batches {
		batches[i] = callBatch(i*8, 8)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		bt := batches[i%len(batches)]
		if i%len(batches) == 0 && i > 0 {
			// Make the calls new: a re-added key would be a refresh.
			for j := range batches {
				batches[j] = callBatch((i+j)*8, 8)
			}
		}
		if err := w.Handle(bt); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	fs := h.FlowStats()[0]
	if fs.Refused != 0 {
		b.Fatalf("refused: %+v", fs)
	}
	b.ReportMetric(float64(fs.Added+fs.Refreshed)/b.Elapsed().Seconds(), "flows/s")
	b.ReportMetric(float64(cl.Size().Flows), "table-flows")
}

// stampTable notes when each update was published.
type stampTable struct {
	*flowTable
	at atomic.Int64
}

func (t *stampTable) UpdateFlows(add []wasm.FlowRule, del []uint64, ids []uint64) error {
	err := t.flowTable.UpdateFlows(add, del, ids)
	t.at.Store(time.Now().UnixNano())
	return err
}

// BenchmarkSIPRuleLatency is the latency from the analyzer's call (the
// batch holding an INVITE and its 200 OK handed to the host) to the moment
// the new flow is published in the classifier: any packet classified from
// then on is decided by it (checked with a lookup of the call's RTP key
// after each call). The wasm call's entry and the parse of the two
// messages are included. Metrics: median and 99th percentile over b.N
// calls.
func BenchmarkSIPRuleLatency(b *testing.B) {
	bin, err := bundled.Module("sip")
	if err != nil {
		b.Fatal(err)
	}
	cl := rules.New()
	st := &stampTable{flowTable: newFlowTable(cl)}
	cfg := wasm.NewConfig().WithFlowTable(st).WithFlowQuota(1<<22, 1<<30).WithEvents(io.Discard)
	h, err := wasm.NewHost(context.Background(), cfg, wasm.Analyzer{Name: "sip", Binary: bin, GrantRules: true})
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close(context.Background())
	w := h.NewWorker()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n := 1_000_000 + i
		bt := callBatch(n, 1)
		c := &sipCall{a: [4]byte{10, byte(n >> 16), byte(n >> 8), byte(n)}, b: [4]byte{10, 200, 0, 1}, aPort: 10000, bPort: uint16(2 * (1 + n%30000))}
		f := c.rtp(1)[0]
		var rec packet.Record
		packet.Parse(packet.Info{CapLen: uint32(len(f)), WireLen: uint32(len(f)), LinkType: spec.LinkEthernet}, f, &rec)
		k := rules.KeyFromRecord((*[spec.RecordSize]byte)(&rec))
		t0 := time.Now()
		if err := w.Handle(bt); err != nil {
			b.Fatal(err)
		}
		if !cl.Lookup(&k, 1_700_000_000_000_000_000).Matched {
			b.Fatalf("call %d: the flow does not match after the call", i)
		}
		lat = append(lat, time.Duration(st.at.Load()-t0.UnixNano()))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "ns-median")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "ns-p99")
}

// BenchmarkFlowTableUpdate is the table side alone: one UpdateFlows of two
// new flows (an answered call's RTP and RTCP) into a classifier that holds
// b.N*2 flows at the end.
func BenchmarkFlowTableUpdate(b *testing.B) {
	t := newFlowTable(rules.New())
	ids := make([]uint64, 2)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		z := netip.AddrFrom4([4]byte{10, 200, 0, 1})
		add := []wasm.FlowRule{
			{IPVersion: 4, Proto: 17, Src: netip.AddrPortFrom(a, 10000), Dst: netip.AddrPortFrom(z, 20000), Both: true, Idle: time.Minute, Action: 1, Now: 1},
			{IPVersion: 4, Proto: 17, Src: netip.AddrPortFrom(a, 10001), Dst: netip.AddrPortFrom(z, 20001), Both: true, Idle: time.Minute, Action: 1, Now: 1},
		}
		if err := t.UpdateFlows(add, nil, ids); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(2*b.N)/b.Elapsed().Seconds(), "flows/s")
}
