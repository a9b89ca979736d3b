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

// BenchmarkSIPRuleLatency is the latency from the analyzer's call (the
// batch holding a 200 OK handed to the host) to the first packet the
// classifier decides by the new flow: a second goroutine classifies the
// call's RTP key without pause and notes when it first matches. The
// metric is the median over b.N calls; the wasm call's entry and the
// parse of the two messages are included.
func BenchmarkSIPRuleLatency(b *testing.B) {
	h, cl := sipHost(b)
	w := h.NewWorker()
	lat := make([]time.Duration, 0, b.N)
	for i := 0; i < b.N; i++ {
		bt := callBatch(1_000_000+i, 1)
		c := &sipCall{a: [4]byte{10, byte((1_000_000 + i) >> 16), byte((1_000_000 + i) >> 8), byte(1_000_000 + i)}, b: [4]byte{10, 200, 0, 1},
			aPort: 10000, bPort: uint16(2 * (1 + (1_000_000+i)%30000))}
		f := c.rtp(1)[0]
		var rec packet.Record
		packet.Parse(packet.Info{CapLen: uint32(len(f)), WireLen: uint32(len(f)), LinkType: spec.LinkEthernet}, f, &rec)
		k := rules.KeyFromRecord((*[spec.RecordSize]byte)(&rec))
		var hit atomic.Int64
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				select {
				case <-stop:
					return
				default:
				}
				if cl.Lookup(&k, 1_700_000_000_000_000_000).Matched {
					hit.Store(time.Now().UnixNano())
					return
				}
			}
		}()
		t0 := time.Now()
		if err := w.Handle(bt); err != nil {
			b.Fatal(err)
		}
		for hit.Load() == 0 && time.Since(t0) < time.Second {
		}
		close(stop)
		<-done
		if hit.Load() == 0 {
			b.Fatalf("call %d: the flow never matched", i)
		}
		lat = append(lat, time.Duration(hit.Load()-t0.UnixNano()))
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
