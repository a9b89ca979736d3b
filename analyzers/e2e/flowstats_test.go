package e2e_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/wringcap/wring/analyzers/bundled"
	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/internal/analyzertest"
	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/wasm"
)

// The flow analyzer (analyzers/flow) against a straightforward computation
// over the same packets' parse records: per flow (IP version, protocol,
// both addresses and ports as the flow hash counts them), packets and bytes
// in each direction, first and last seen. A flow may be exported in several
// records (FIN/RST, timeouts, eviction, a packet after its end); summed per
// flow, in a canonical direction, they must equal the computation exactly.

type flowRef struct {
	packets, bytes [2]uint64
	first, last    int64
	hash           uint32
}

// flowRecord is a flow event.
type flowRecord struct {
	Src, Dst                string
	Sport, Dport            uint16
	Proto                   uint8
	Hash                    uint32
	Packets, Bytes          uint64
	SrcPackets              uint64 `json:"src_packets"`
	SrcBytes                uint64 `json:"src_bytes"`
	DstPackets              uint64 `json:"dst_packets"`
	DstBytes                uint64 `json:"dst_bytes"`
	First, Last             int64
	Reason, Event, Analyzer string
	Ts                      int64
	Tunnel                  string // with tunnels=inner: the tunnel type of the flow's first packet
	TunnelID                uint32 `json:"tunnel_id"`
}

// canonFlow orders the two ends; d is 0 when (a, pa) is the first end.
func canonFlow(ver, proto uint8, a netip.Addr, pa uint16, b netip.Addr, pb uint16) (string, int) {
	x, y := fmt.Sprintf("%s/%d", a, pa), fmt.Sprintf("%s/%d", b, pb)
	if c := a.Compare(b); c > 0 || c == 0 && pa > pb {
		return fmt.Sprintf("%d %d %s %s", ver, proto, y, x), 1
	}
	return fmt.Sprintf("%d %d %s %s", ver, proto, x, y), 0
}

// refFlows computes the per-flow totals from the records.
func refFlows(b []packet.Packet) (map[string]*flowRef, uint64) {
	out := map[string]*flowRef{}
	var ip uint64
	var frags fragRef
	for i := range b {
		r := &b[i].Record
		ver := r[spec.RecIPVersion]
		if ver != 4 && ver != 6 {
			continue
		}
		ip++
		ln := 4
		if ver == 6 {
			ln = 16
		}
		src, _ := netip.AddrFromSlice(r[spec.RecSrcAddr : spec.RecSrcAddr+ln])
		dst, _ := netip.AddrFromSlice(r[spec.RecDstAddr : spec.RecDstAddr+ln])
		sp, dp, carried := frags.ports(&b[i])
		proto := r[spec.RecIPProto]
		k, d := canonFlow(ver, proto, src, sp, dst, dp)
		f := out[k]
		ts := b[i].Info.Timestamp
		if f == nil {
			hash := r.FlowHash()
			if carried { // the 5-tuple's hash, as its unfragmented packets have
				var a, z [16]byte
				copy(a[:], r[spec.RecSrcAddr:spec.RecSrcAddr+16])
				copy(z[:], r[spec.RecDstAddr:spec.RecDstAddr+16])
				hash = packet.FlowHash(ver, proto, &a, &z, sp, dp)
			}
			f = &flowRef{first: ts, last: ts, hash: hash}
			out[k] = f
		}
		f.packets[d]++
		f.bytes[d] += uint64(b[i].Info.WireLen)
		f.first, f.last = min(f.first, ts), max(f.last, ts)
	}
	return out, ip
}

// runFlow feeds the packets through the bundled flow analyzer in batches of
// 256 and returns its records and counters after the host closed.
func runFlow(t *testing.T, config string, pkts []packet.Packet) ([]flowRecord, map[string]uint64, wasm.Stats) {
	t.Helper()
	bin, err := bundled.Module("flow")
	if err != nil {
		t.Fatal(err)
	}
	var ev bytes.Buffer
	cfg := analyzertest.Config().WithEvents(&ev)
	h, err := wasm.NewHost(context.Background(), cfg, wasm.Analyzer{Name: "flow", Binary: bin, Config: []byte(config)})
	if err != nil {
		t.Fatal(err)
	}
	const n = 256
	b := &packet.Batch{Verdicts: make([]packet.Verdict, n)}
	for i := 0; i < len(pkts); i += n {
		b.Packets = pkts[i:min(i+n, len(pkts))]
		clear(b.Verdicts)
		if err := h.Handle(b); err != nil {
			t.Fatal(err)
		}
	}
	h.Close(context.Background())
	var recs []flowRecord
	for _, l := range bytes.Split(bytes.TrimSpace(ev.Bytes()), []byte("\n")) {
		if len(l) == 0 {
			continue
		}
		var r flowRecord
		dec := json.NewDecoder(bytes.NewReader(l))
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		recs = append(recs, r)
	}
	cs := map[string]uint64{}
	for _, c := range h.Counters() {
		cs[c.Name] = c.Value
	}
	return recs, cs, h.Stats()[0]
}

// parsed reads a capture into packets with their records, each packet's
// time set by stamp.
func parsed(c *corpus.Capture, stamp func(i int, ts int64) int64) []packet.Packet {
	out := make([]packet.Packet, len(c.Packets))
	for i, p := range c.Packets {
		info := packet.Info{Timestamp: stamp(i, p.TsNanos), CapLen: uint32(len(p.Data)), WireLen: p.WireLen, LinkType: c.LinkType}
		out[i] = packet.Packet{Info: info, Data: p.Data}
		packet.Parse(info, p.Data, &out[i].Record)
	}
	return out
}

// connectionsCapture writes TCP connections in groups of 20 running at
// once (a packet of each in turn, 10 ms apart): each a handshake, data, and
// then a FIN from each end and a last ACK, a RST, or nothing (left open),
// some of them long (150 data segments, 30 s).
func connectionsCapture(t *testing.T) *corpus.Capture {
	const syn, fin, rst, ack, psh = 0x02, 0x01, 0x04, 0x10, 0x08
	w := newPcapWriter()
	type step struct {
		fromClient bool
		flags      byte
		n          int
	}
	for g := 0; g < 10; g++ {
		var convs [][]step
		for k := 0; k < 20; k++ {
			i := g*20 + k
			c := []step{{true, syn, 0}, {false, syn | ack, 0}, {true, ack, 0}}
			data := 3 + i%7
			if i%9 == 0 {
				data = 150
			}
			for d := 0; d < data; d++ {
				c = append(c, step{d%3 != 2, ack | psh, 10 + (i*d)%900})
			}
			switch i % 4 {
			case 0, 1:
				c = append(c, step{true, fin | ack, 0}, step{false, ack, 0}, step{false, fin | ack, 0}, step{true, ack, 0})
			case 2:
				c = append(c, step{i%8 == 2, rst, 0})
			}
			convs = append(convs, c)
		}
		for pos := 0; ; pos++ {
			any := false
			for k, c := range convs {
				if pos >= len(c) {
					continue
				}
				any = true
				i := g*20 + k
				cl, sv := [4]byte{10, 1, byte(i >> 8), byte(i)}, [4]byte{192, 0, 2, byte(1 + i%3)}
				cp, sp := uint16(30000+i), uint16(80+i%2*363)
				st := c[pos]
				payload := make([]byte, st.n)
				if st.fromClient {
					w.tcp(cl, sv, cp, sp, uint32(pos), 0, st.flags, payload)
				} else {
					w.tcp(sv, cl, sp, cp, uint32(pos), 0, st.flags, payload)
				}
			}
			if !any {
				break
			}
		}
	}
	path := filepath.Join(t.TempDir(), "connections.pcap")
	if err := os.WriteFile(path, w.bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := corpus.ReadCapture(path)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestFlowStatisticsExact(t *testing.T) {
	path := analyzertest.MixedCapture(t, 5000)
	mixed, err := corpus.ReadCapture(path)
	if err != nil {
		t.Fatal(err)
	}
	conns := connectionsCapture(t)
	spread := func(i int, _ int64) int64 { return 1_700_000_000e9 + int64(i)*10e6 }
	cases := []struct {
		name, config string
		c            *corpus.Capture
		stamp        func(i int, ts int64) int64
		want         []string       // export reasons that must occur
		exact        map[string]int // and how often, where the capture says
	}{
		// Connections 10 ms apart: FIN, RST, idle (those left open, 2 s)
		// and active (the long ones, 4 s). The last ACK after the FINs
		// lingers in its connection's flow: no one-packet tails are left
		// open at close.
		{"connections", "idle=2\nactive=4\n", conns, spread, []string{"fin", "rst", "idle", "active"},
			// Half the 200 connections close with FINs, a quarter with a
			// RST, a quarter stay open.
			map[string]int{"fin": 100, "rst": 50, "idle": 50, "end": 0}},
		// linger=0 exports at the closing packet: the last ACKs become
		// flows of their own, exported at close.
		{"connections_no_linger", "idle=2\nactive=4\nlinger=0\n", conns, spread, []string{"fin", "rst", "idle", "active", "end"},
			map[string]int{"fin": 100, "rst": 50}},
		// The same with 16 flows for 20 connections at a time.
		{"connections_small_table", "idle=2\nactive=10\nmax_flows=16\n", conns, spread, []string{"evicted"}, nil},

		// The mixed capture's own times (all within a second): its flows
		// are mostly single packets with random flags, exported at close.
		{"mixed_capture_times", "", mixed, func(_ int, ts int64) int64 { return ts }, []string{"end"}, nil},
		// 10 ms apart with a table of 64 flows.
		{"mixed_small_table", "idle=2\nactive=10\nmax_flows=64\n", mixed, spread, []string{"evicted", "end"}, nil},
		// One flow at a time.
		{"mixed_one_flow", "max_flows=1\n", mixed, func(i int, _ int64) int64 { return int64(i + 1) }, []string{"evicted", "end"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pkts := parsed(tc.c, tc.stamp)
			want, ip := refFlows(pkts)
			recs, cs, st := runFlow(t, tc.config, pkts)
			got := map[string]*flowRef{}
			reasons := map[string]int{}
			for _, r := range recs {
				if r.Event != "flow" || r.Packets != r.SrcPackets+r.DstPackets || r.Bytes != r.SrcBytes+r.DstBytes ||
					r.Packets == 0 || r.SrcPackets == 0 || r.First > r.Last {
					t.Fatalf("bad flow record %+v", r)
				}
				reasons[r.Reason]++
				src, err1 := netip.ParseAddr(r.Src)
				dst, err2 := netip.ParseAddr(r.Dst)
				if err1 != nil || err2 != nil {
					t.Fatalf("bad addresses in %+v", r)
				}
				ver := uint8(4)
				if src.Is6() {
					ver = 6
				}
				k, d := canonFlow(ver, r.Proto, src, r.Sport, dst, r.Dport)
				g := got[k]
				if g == nil {
					g = &flowRef{first: r.First, last: r.Last, hash: r.Hash}
					got[k] = g
				}
				if g.hash != r.Hash {
					t.Fatalf("flow %s exported with hashes %#x and %#x", k, g.hash, r.Hash)
				}
				g.packets[d] += r.SrcPackets
				g.packets[1-d] += r.DstPackets
				g.bytes[d] += r.SrcBytes
				g.bytes[1-d] += r.DstBytes
				g.first, g.last = min(g.first, r.First), max(g.last, r.Last)
			}
			bad := 0
			keys := make([]string, 0, len(want))
			for k := range want {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				if g := got[k]; g == nil || *g != *want[k] {
					if bad++; bad <= 10 {
						t.Errorf("flow %s: exported %+v, packets hold %+v", k, g, want[k])
					}
				}
			}
			for k := range got {
				if want[k] == nil {
					t.Errorf("flow %s exported but not in the packets", k)
				}
			}
			if bad > 10 {
				t.Errorf("%d flows differ in all", bad)
			}
			var evicted uint64
			for _, r := range recs {
				if r.Reason == "evicted" {
					evicted++
				}
			}
			if cs["packets"] != ip || cs["non_ip"] != uint64(len(pkts))-ip || cs["flows_started"] != cs["flows_exported"] ||
				cs["flows_exported"] != uint64(len(recs)) || cs["active_flows"] != 0 || cs["exports_lost"] != 0 ||
				cs["evictions"] != evicted || cs["exported.evicted"] != evicted || st.EventsLost != 0 || st.Failures != 0 {
				t.Errorf("counters %v, stats %+v: %d IP packets, %d records, %d evicted", cs, st, ip, len(recs), evicted)
			}
			for r, n := range tc.exact {
				if reasons[r] != n {
					t.Errorf("%d %s exports, want %d", reasons[r], r, n)
				}
			}
			for _, r := range tc.want {
				if reasons[r] == 0 {
					t.Errorf("no %s exports: %v", r, reasons)
				}
			}
			t.Logf("%d packets (%d IP), %d flows, %d records, reasons %v", len(pkts), ip, len(want), len(recs), reasons)
		})
	}
}

// TestTLSAndFlowOnTcpdumpCorpus runs both analyzers, in one host, over every
// readable file of the tcpdump corpus (830 files, many malformed on purpose):
// neither may fail (trap, exhaust its fuel, break the ABI) or lose events,
// and the flow analyzer's totals must match the records of each file.
func TestTLSAndFlowOnTcpdumpCorpus(t *testing.T) {
	tlsBin, err := bundled.Module("tls")
	if err != nil {
		t.Fatal(err)
	}
	flowBin, err := bundled.Module("flow")
	if err != nil {
		t.Fatal(err)
	}
	var ev bytes.Buffer
	cfg := analyzertest.Config().WithEvents(&ev)
	h, err := wasm.NewHost(context.Background(), cfg, wasm.Analyzer{Name: "tls", Binary: tlsBin}, wasm.Analyzer{Name: "flow", Binary: flowBin})
	if err != nil {
		t.Fatal(err)
	}
	var all []packet.Packet
	files := 0
	for _, f := range corpus.Files(t, "tcpdump") {
		c, _ := corpus.ReadCapture(f)
		if c == nil || len(c.Packets) == 0 {
			continue
		}
		files++
		all = append(all, parsed(c, func(_ int, ts int64) int64 { return ts })...)
	}
	// One time line, so that flows of different files with the same
	// addresses are one flow in both computations.
	for i := range all {
		all[i].Info.Timestamp = int64(i + 1)
		binary.LittleEndian.PutUint64(all[i].Record[spec.RecTimestamp:], uint64(i+1))
	}
	b := &packet.Batch{Verdicts: make([]packet.Verdict, 256)}
	for i := 0; i < len(all); i += 256 {
		b.Packets = all[i:min(i+256, len(all))]
		b.Verdicts = b.Verdicts[:len(b.Packets)]
		clear(b.Verdicts)
		if err := h.Handle(b); err != nil {
			t.Fatal(err)
		}
	}
	h.Close(context.Background())
	for _, s := range h.Stats() {
		if s.Failures != 0 || s.EventsLost != 0 || s.Packets != uint64(len(all)) {
			t.Errorf("%s: %+v, %d packets", s.Analyzer, s, len(all))
		}
	}
	want, ip := refFlows(all)
	got := map[string]uint64{}
	var flows int
	for _, l := range bytes.Split(bytes.TrimSpace(ev.Bytes()), []byte("\n")) {
		var r flowRecord
		if err := json.Unmarshal(l, &r); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		if r.Event != "flow" {
			continue
		}
		flows++
		src, _ := netip.ParseAddr(r.Src)
		dst, _ := netip.ParseAddr(r.Dst)
		ver := uint8(4)
		if src.Is6() {
			ver = 6
		}
		k, _ := canonFlow(ver, r.Proto, src, r.Sport, dst, r.Dport)
		got[k] += r.Packets
	}
	for k, w := range want {
		if got[k] != w.packets[0]+w.packets[1] {
			t.Errorf("flow %s: %d packets exported, %d in the records", k, got[k], w.packets[0]+w.packets[1])
		}
	}
	cs := map[string]uint64{}
	for _, c := range h.Counters() {
		cs[c.Analyzer+"."+c.Name] = c.Value
	}
	if cs["flow.packets"] != ip {
		t.Errorf("flow counted %d IP packets, the records hold %d", cs["flow.packets"], ip)
	}
	t.Logf("%d files, %d packets (%d IP), %d flows in %d records; tls: %d ClientHellos, %d malformed", files, len(all), ip,
		len(want), flows, cs["tls.client_hellos"], cs["tls.malformed"])
}
