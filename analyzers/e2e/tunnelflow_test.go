package e2e_test

import (
	"context"
	"os/exec"
	"reflect"
	"strings"
	"testing"

	"github.com/wringcap/wring/analyzers/bundled"
	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/internal/analyzertest"
	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/internal/tunnelgen"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/wasm"
)

// TestTunnelFlowsAgainstTshark is issue 15's acceptance 2 for the flow
// analyzer: for each tunnel type, a generated capture of six inner TCP
// flows. With tunnels=inner the analyzer's TCP flows equal tshark's
// conversations on the inner layer (frames per 5-tuple), and each carries
// the tunnel's type and id; with the default (outer) the packets count in
// their outer flows, which for the UDP tunnels equal tshark's UDP
// conversations, and no inner TCP flow appears; with tunnels=both both
// layers' flows equal tshark's TCP and UDP conversations.
func TestTunnelFlowsAgainstTshark(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		corpus.Unavailable(t, "tshark is not installed")
	}
	dir := t.TempDir()
	for _, c := range tunnelgen.Cases() {
		t.Run(c.Name, func(t *testing.T) {
			file, _, err := tunnelgen.Write(dir, c)
			if err != nil {
				t.Fatal(err)
			}
			cp, err := corpus.ReadCapture(file)
			if err != nil {
				t.Fatal(err)
			}
			var all []packet.Packet
			for _, p := range cp.Packets {
				info := packet.Info{Timestamp: p.TsNanos, CapLen: uint32(len(p.Data)), WireLen: p.WireLen, LinkType: cp.LinkType}
				pk := packet.Packet{Info: info, Data: p.Data}
				packet.Parse(info, p.Data, &pk.Record)
				all = append(all, pk)
			}
			conv := tsharkConv(t, file)
			wantTCP, wantUDP := map[string]uint64{}, map[string]uint64{}
			for k, n := range conv {
				if strings.HasPrefix(k, "tcp ") {
					wantTCP[k] = n
				} else {
					wantUDP[k] = n
				}
			}
			if len(wantTCP) != 6 {
				t.Fatalf("tshark sees %d inner TCP conversations, the capture holds 6: %v", len(wantTCP), wantTCP)
			}

			inner, _, _ := flowsPer5Tuple(t, all, "tunnels=inner")
			if !reflect.DeepEqual(inner, wantTCP) {
				t.Errorf("tunnels=inner:\n wring  %v\n tshark %v", inner, wantTCP)
			}
			for _, r := range flowRecords(t, all, "tunnels=inner") {
				if r.Tunnel != c.Type.String() || r.TunnelID != c.ID {
					t.Fatalf("flow %s:%d-%s:%d: tunnel %q id %#x, want %q %#x", r.Src, r.Sport, r.Dst, r.Dport, r.Tunnel, r.TunnelID, c.Type, c.ID)
				}
			}

			outer, _, _ := flowsPer5Tuple(t, all, "")
			gotTCP, gotUDP := 0, map[string]uint64{}
			for k, n := range outer {
				if strings.HasPrefix(k, "tcp ") {
					gotTCP++
				} else {
					gotUDP[k] = n
				}
			}
			if gotTCP != 0 {
				t.Errorf("default (outer): %d inner TCP flows, want none", gotTCP)
			}
			if !reflect.DeepEqual(gotUDP, wantUDP) {
				t.Errorf("default (outer) UDP flows:\n wring  %v\n tshark %v", gotUDP, wantUDP)
			}
			// tunnels=both: every layer tshark counts, each once: the
			// inner TCP flows and the outer UDP ones.
			both, _, _ := flowsPer5Tuple(t, all, "tunnels=both")
			if !reflect.DeepEqual(both, conv) {
				t.Errorf("tunnels=both:\n wring  %v\n tshark %v", both, conv)
			}
			t.Logf("%s: %d inner TCP flows equal tshark's, tunnel %s id %#x; outer UDP flows %d equal tshark's; tunnels=both: %d 5-tuples equal", c.Name, len(inner), c.Type, c.ID, len(gotUDP), len(both))
		})
	}
}

// TestTunnelsAllocateNothing: entering tunnels for an analyzer that asks
// (ParseInner per packet, the longer descriptor) allocates nothing per batch.
func TestTunnelsAllocateNothing(t *testing.T) {
	var vx tunnelgen.Case
	for _, c := range tunnelgen.Cases() {
		if c.Name == "vxlan" {
			vx = c
		}
	}
	_, pkts, err := tunnelgen.Write(t.TempDir(), vx)
	if err != nil {
		t.Fatal(err)
	}
	bin, err := bundled.Module("flow")
	if err != nil {
		t.Fatal(err)
	}
	h, err := wasm.NewHost(context.Background(), analyzertest.Config(), wasm.Analyzer{Name: "flow", Binary: bin, Config: []byte("tunnels=both")})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())
	b := &packet.Batch{Verdicts: make([]packet.Verdict, len(pkts))}
	for i, d := range pkts {
		info := packet.Info{Timestamp: int64(i+1) * 1e6, CapLen: uint32(len(d)), WireLen: uint32(len(d)), LinkType: spec.LinkEthernet}
		pk := packet.Packet{Info: info, Data: d}
		packet.Parse(info, d, &pk.Record)
		b.Packets = append(b.Packets, pk)
	}
	w := h.NewWorker()
	w.Handle(b)
	if n := testing.AllocsPerRun(50, func() {
		clear(b.Verdicts)
		w.Handle(b)
	}); n != 0 {
		t.Fatalf("%v allocations per batch of %d tunnelled packets", n, len(pkts))
	}
	for _, s := range h.Stats() {
		if s.Failures != 0 || s.Packets == 0 {
			t.Fatalf("%+v", s)
		}
	}
}
