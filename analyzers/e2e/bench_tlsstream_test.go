package e2e_test

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wringcap/wring/analyzers/bundled"
	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/capture/stream"
	"github.com/wringcap/wring/internal/analyzertest"
	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/wasm"
)

// BenchmarkTLSStreamVsPacket runs the bundled TLS analyzer over the
// generated mixed capture (5000 packets, batches of 256, one worker per
// mode) in stream mode (the default), in packet mode by configuration
// (streams=0: the host still reassembles for the module, which ignores the
// chunks) and as a packet-only build (-X main.streams=off, built here: what
// packet mode cost before streams). Each iteration runs one pass of each
// mode in turn, so that the modes share the machine's load, and the
// benchmark reports each mode's packets per second. Each pass shifts the
// capture times past the idle timeout, so the stream host ends the
// previous pass's flows and reassembles the same conversations again.
func BenchmarkTLSStreamVsPacket(b *testing.B) {
	c, err := corpus.ReadCapture(analyzertest.MixedCapture(b, 5000))
	if err != nil {
		b.Fatal(err)
	}
	bundledBin, err := bundled.Module("tls")
	if err != nil {
		b.Fatal(err)
	}
	type mode struct {
		name    string
		bin     []byte
		config  []byte
		h       *wasm.Host
		w       *wasm.Worker
		batches []*packet.Batch
		shift   int64
		elapsed time.Duration
	}
	modes := []*mode{
		{name: "streams", bin: bundledBin},
		{name: "packets-config", bin: bundledBin, config: []byte("streams=0")},
		{name: "packets-only", bin: packetOnlyTLS(b)},
	}
	pass := func(m *mode) {
		for _, bt := range m.batches {
			for j := range bt.Packets {
				bt.Packets[j].Info.Timestamp += m.shift
				bt.Verdicts[j] = packet.Verdict{}
			}
			if err := m.w.Handle(bt); err != nil {
				b.Fatal(err)
			}
		}
		m.shift = 120e9
	}
	for _, m := range modes {
		m.h, err = wasm.NewHost(context.Background(), analyzertest.Config().WithLogger(slog.New(slog.DiscardHandler)),
			wasm.Analyzer{Name: "tls", Binary: m.bin, Config: m.config})
		if err != nil {
			b.Fatal(err)
		}
		defer m.h.Close(context.Background())
		m.w = m.h.NewWorker()
		m.batches = analyzertest.Batches(c, 256)
		pass(m) // instantiate, warm up
	}
	for b.Loop() {
		for _, m := range modes {
			start := time.Now()
			pass(m)
			m.elapsed += time.Since(start)
		}
	}
	b.StopTimer()
	for _, m := range modes {
		b.ReportMetric(float64(b.N*len(c.Packets))/m.elapsed.Seconds(), m.name+"-pkts/s")
		m.h.Close(context.Background()) // ends the last pass's flows; reads the counters
		st := m.h.Stats()[0]
		if st.Failures != 0 || st.StreamLost != 0 || st.EventsLost != 0 {
			b.Fatalf("%s: stats %+v", m.name, st)
		}
		hellos := uint64(0)
		for _, k := range m.h.Counters() {
			if k.Name == "client_hellos" {
				hellos = k.Value
			}
		}
		// 461 ClientHellos per pass in every mode (447 whole, 14 cut
		// by the snapshot length).
		if want := uint64(461 * (b.N + 1)); hellos != want {
			b.Fatalf("%s: %d ClientHellos reported, want %d", m.name, hellos, want)
		}
	}
}

var (
	packetOnlyOnce sync.Once
	packetOnlyBin  []byte
	packetOnlyErr  error
)

// packetOnlyTLS builds analyzers/tls with -X main.streams=off, once.
func packetOnlyTLS(b *testing.B) []byte {
	packetOnlyOnce.Do(func() { packetOnlyBin, packetOnlyErr = buildPacketOnlyTLS() })
	if packetOnlyErr != nil {
		b.Fatal(packetOnlyErr)
	}
	return packetOnlyBin
}

func buildPacketOnlyTLS() ([]byte, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return nil, fmt.Errorf("go env GOMOD: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(out)))
	dir, err := os.MkdirTemp("", "wring-tls-packets")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	dst := filepath.Join(dir, "tls-packets.wasm")
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-trimpath", "-ldflags=-s -w -X main.streams=off", "-o", dst, "./analyzers/tls")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build: %w\n%s", err, msg)
	}
	return os.ReadFile(dst)
}

// BenchmarkTLSStreamMemory measures the memory concurrent TCP flows take
// with the TLS analyzer in stream mode: each flow a SYN and a whole
// ClientHello (crypto/tls's, post-quantum key share included), none ended,
// through a host whose reassembler and analyzer are sized for cap flows
// (stream.Config.MaxFlows and max_flows): 60,000 flows in the default
// 65,536, and 100,000 in 131,072. It reports the Go heap (where wazero
// keeps the guest's linear memory too) after the flows, less the heap
// before the host was made (heap-MB and host-B/flow: host and guest with
// their fixed tables and the compiled module), and the growth from the
// first batch to the last (growth-B/flow: what the flows themselves add).
// One iteration is one whole run: use -benchtime=1x.
func BenchmarkTLSStreamMemory(b *testing.B) {
	hello := tlsClientHelloBytes(b, &tls.Config{ServerName: "memory.wring.test", InsecureSkipVerify: true, NextProtos: []string{"h2", "http/1.1"}})
	for _, sz := range []struct{ cap, flows int }{{1 << 16, 60_000}, {1 << 17, 100_000}} {
		b.Run(fmt.Sprintf("cap%d_flows%d", sz.cap, sz.flows), func(b *testing.B) {
			pkts := helloFlows(sz.flows, hello)
			for b.Loop() {
				tlsStreamMemory(b, pkts, sz.cap, sz.flows)
			}
		})
	}
}

// helloFlows returns the packets of n flows: a SYN and a ClientHello each.
func helloFlows(n int, hello []byte) []packet.Packet {
	pkts := make([]packet.Packet, 0, 2*n)
	for i := 0; i < n; i++ {
		src := [4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}
		ts := int64(1_700_000_000e9) + int64(i)*10_000
		for k, p := range [][]byte{nil, hello} {
			flags := byte(0x02)
			if p != nil {
				flags = 0x18
			}
			d := tcpFrame(src, [4]byte{192, 0, 2, 1}, 40000, 443, uint32(1000+k), 0, flags, p)
			info := packet.Info{Timestamp: ts + int64(k), CapLen: uint32(len(d)), WireLen: uint32(len(d)), LinkType: spec.LinkEthernet}
			pkts = append(pkts, packet.Packet{Info: info, Data: d})
			packet.Parse(info, d, &pkts[len(pkts)-1].Record)
		}
	}
	return pkts
}

func tlsStreamMemory(b *testing.B, pkts []packet.Packet, capacity, flows int) {
	var m0, m1, m2 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	bin, err := bundled.Module("tls")
	if err != nil {
		b.Fatal(err)
	}
	cfg := analyzertest.Config().WithLogger(slog.New(slog.DiscardHandler)).WithEvents(io.Discard).
		WithStreams(stream.Config{MaxFlows: capacity}, 0, 0)
	h, err := wasm.NewHost(context.Background(), cfg, wasm.Analyzer{Name: "tls", Binary: bin, Config: []byte(fmt.Sprintf("max_flows=%d", capacity))})
	if err != nil {
		b.Fatal(err)
	}
	w := h.NewWorker()
	bt := &packet.Batch{Verdicts: make([]packet.Verdict, 256)}
	for i := 0; i < len(pkts); i += 256 {
		bt.Packets = pkts[i:min(i+256, len(pkts))]
		bt.Verdicts = bt.Verdicts[:len(bt.Packets)]
		clear(bt.Verdicts)
		if err := w.Handle(bt); err != nil {
			b.Fatal(err)
		}
		if i == 0 {
			runtime.GC()
			runtime.ReadMemStats(&m1)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&m2)
	runtime.KeepAlive(w)
	ss := h.StreamStats()
	h.Close(context.Background()) // counters are read from the guest when it closes
	cs := map[string]uint64{}
	for _, k := range h.Counters() {
		cs[k.Name] = k.Value
	}
	if cs["client_hellos"] != uint64(flows) || cs["stream_flows"] != uint64(flows) || cs["gave_up.table_full"] != 0 || ss.Flows != uint64(flows) {
		b.Fatalf("counters %v; streams %+v; stats %+v", cs, ss, h.Stats())
	}
	b.ReportMetric(float64(m2.HeapAlloc-m0.HeapAlloc)/(1<<20), "heap-MB")
	b.ReportMetric(float64(m2.HeapAlloc-m0.HeapAlloc)/float64(flows), "host-B/flow")
	b.ReportMetric(float64(int64(m2.HeapAlloc)-int64(m1.HeapAlloc))/float64(flows), "growth-B/flow")
}

// tcpFrame returns an Ethernet/IPv4/TCP frame (checksums zero).
func tcpFrame(src, dst [4]byte, sport, dport uint16, seq, ack uint32, flags byte, payload []byte) []byte {
	b := make([]byte, 14+20+20+len(payload))
	binary.BigEndian.PutUint16(b[12:], 0x0800)
	ip := b[14:]
	ip[0], ip[8], ip[9] = 0x45, 64, 6
	binary.BigEndian.PutUint16(ip[2:], uint16(20+20+len(payload)))
	copy(ip[12:16], src[:])
	copy(ip[16:20], dst[:])
	tc := ip[20:]
	binary.BigEndian.PutUint16(tc[0:], sport)
	binary.BigEndian.PutUint16(tc[2:], dport)
	binary.BigEndian.PutUint32(tc[4:], seq)
	binary.BigEndian.PutUint32(tc[8:], ack)
	tc[12], tc[13] = 5<<4, flags
	binary.BigEndian.PutUint16(tc[14:], 64240)
	copy(tc[20:], payload)
	return b
}
