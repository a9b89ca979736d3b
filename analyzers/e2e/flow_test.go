package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"testing"

	"github.com/wringcap/wring/analyzers/bundled"
	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/internal/analyzertest"
	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/wasm"
)

// TestFlowConservation runs the flow analyzer over the mixed capture with
// timestamps spread over 500 s (so that idle flows are exported on ticks)
// and checks its exported flows against flows computed here from the parse
// records: per 5-tuple, the packets and bytes of all its exported records
// add up to what the capture holds, and every flow is exported by the end.
func TestFlowConservation(t *testing.T) {
	path := analyzertest.MixedCapture(t, 5000)
	c, err := corpus.ReadCapture(path)
	if err != nil {
		t.Fatal(err)
	}
	bin, err := bundled.Module("flow")
	if err != nil {
		t.Fatal(err)
	}
	var ev bytes.Buffer
	cfg := analyzertest.Config().WithEvents(&ev)
	h, err := wasm.NewHost(context.Background(), cfg, wasm.Analyzer{Name: "flow", Binary: bin, Config: []byte("idle=20\nactive=120\n")})
	if err != nil {
		t.Fatal(err)
	}
	type agg struct{ packets, bytes uint64 }
	want := map[string]*agg{}
	var ipPackets uint64
	var frags fragRef
	const n = 256
	b := &packet.Batch{Verdicts: make([]packet.Verdict, n)}
	for i, p := range c.Packets {
		info := packet.Info{Timestamp: int64(i) * 100e6, CapLen: uint32(len(p.Data)), WireLen: p.WireLen, LinkType: c.LinkType}
		pk := packet.Packet{Info: info, Data: p.Data}
		packet.Parse(info, pk.Data, &pk.Record)
		b.Packets = append(b.Packets, pk)
		if k := flowKey(&frags, &pk); k != "" {
			if want[k] == nil {
				want[k] = &agg{}
			}
			want[k].packets++
			want[k].bytes += uint64(p.WireLen)
			ipPackets++
		}
		if len(b.Packets) == n || i == len(c.Packets)-1 {
			clear(b.Verdicts)
			if err := h.Handle(b); err != nil {
				t.Fatal(err)
			}
			b.Packets = b.Packets[:0]
		}
	}
	h.Close(context.Background())
	got := map[string]*agg{}
	reasons := map[string]int{}
	for _, l := range bytes.Split(bytes.TrimSpace(ev.Bytes()), []byte("\n")) {
		var e struct {
			Src, Dst       string
			Sport, Dport   uint16
			Proto          uint8
			Packets, Bytes uint64
			First, Last    int64
			Reason         string
		}
		if err := json.Unmarshal(l, &e); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		if e.First > e.Last || e.Packets == 0 {
			t.Fatalf("bad flow record %s", l)
		}
		reasons[e.Reason]++
		k := normKey(netip.MustParseAddr(e.Src), e.Sport, netip.MustParseAddr(e.Dst), e.Dport, e.Proto)
		if got[k] == nil {
			got[k] = &agg{}
		}
		got[k].packets += e.Packets
		got[k].bytes += e.Bytes
	}
	for k, w := range want {
		g := got[k]
		if g == nil || *g != *w {
			t.Errorf("flow %s: exported %+v, capture holds %+v", k, g, w)
		}
	}
	for k := range got {
		if want[k] == nil {
			t.Errorf("flow %s exported but not in the capture", k)
		}
	}
	cs := map[string]uint64{}
	for _, ct := range h.Counters() {
		cs[ct.Name] = ct.Value
	}
	if cs["packets"] != ipPackets || cs["active_flows"] != 0 || cs["flows_exported"] != cs["flows_started"] {
		t.Errorf("counters %v, %d IP packets", cs, ipPackets)
	}
	if reasons["idle"] == 0 || reasons["end"] == 0 {
		t.Errorf("export reasons %v: want idle (ticks) and end (close) exports", reasons)
	}
	t.Logf("%d flows (%d 5-tuples), reasons %v", len(bytes.Split(ev.Bytes(), []byte("\n")))-1, len(want), reasons)
}

func flowKey(frags *fragRef, pk *packet.Packet) string {
	r := pk.Record
	ver := r[spec.RecIPVersion]
	if ver == 0 {
		return ""
	}
	ln := 4
	if ver == 6 {
		ln = 16
	}
	src, _ := netip.AddrFromSlice(r[spec.RecSrcAddr : spec.RecSrcAddr+ln])
	dst, _ := netip.AddrFromSlice(r[spec.RecDstAddr : spec.RecDstAddr+ln])
	sp, dp, _ := frags.ports(pk)
	return normKey(src, sp, dst, dp, r[spec.RecIPProto])
}

func normKey(a netip.Addr, pa uint16, b netip.Addr, pb uint16, proto uint8) string {
	x, y := fmt.Sprintf("%s/%d", a, pa), fmt.Sprintf("%s/%d", b, pb)
	if c := a.Compare(b); c > 0 || c == 0 && pa > pb {
		x, y = y, x
	}
	return fmt.Sprintf("%d %s %s", proto, x, y)
}
