package main

import (
	"context"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/cilium/ebpf"

	"github.com/wringcap/wring/analyzers/bundled"
	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/capture/rulemaps"
	"github.com/wringcap/wring/filters/rules"
	"github.com/wringcap/wring/internal/netns"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/wasm"
)

// BenchmarkSIPRuleLatencyKernel is BenchmarkSIPRuleLatency with the rules
// in the kernel: the latency from the analyzer's call (the batch holding
// an INVITE and its 200 OK handed to the host) to the moment the flow
// table has brought the new flows to the kernel's tables, after which the
// kernel decides the call's packets by them. After each call the call's
// first RTP frame is run through the kernel's classifier
// (BPF_PROG_TEST_RUN) and must be decided by the flow just added. The
// table holds the flows of every call so far (two per call), so the
// figures depend on -benchtime; run it with a fixed count, e.g.
// -benchtime 2000x. Metrics: median and 99th percentile.
func BenchmarkSIPRuleLatencyKernel(b *testing.B) {
	netns.Require(b)
	bin, err := bundled.Module("sip")
	if err != nil {
		b.Fatal(err)
	}
	cl := rules.New()
	m, err := rulemaps.New(rulemaps.Options{RuleSlots: rulemaps.DefaultSlots, FlowKeys: 1 << 20, BypassFlows: 1024})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	prog, err := m.Program()
	if err != nil {
		b.Fatal(err)
	}
	defer prog.Close()
	ft := newFlowTable(cl)
	ft.kernel = m
	st := &stampTable{flowTable: ft}
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
		t0 := time.Now()
		if err := w.Handle(bt); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Duration(st.at.Load()-t0.UnixNano()))
		ret, err := prog.Run(&ebpf.RunOptions{Data: f})
		if err != nil {
			b.Fatal(err)
		}
		var rec packet.Record
		packet.Parse(packet.Info{CapLen: uint32(len(f)), WireLen: uint32(len(f)), LinkType: spec.LinkEthernet}, f, &rec)
		k := rules.KeyFromRecord((*[spec.RecordSize]byte)(&rec))
		want := cl.Lookup(&k, 1_700_000_000_000_000_000)
		if r := m.Decode(ret); !r.Matched || !want.Matched || r.ID != want.ID {
			b.Fatalf("call %d: the kernel decides the RTP frame %+v, the classifier %+v", i, r, want)
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "ns-median")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "ns-p99")
}
