package e2e_test

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/wringcap/wring/analyzers/bundled"
	"github.com/wringcap/wring/internal/analyzertest"
	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/wasm"
)

// costlyHTTPStreams builds the costliest traffic for the HTTP stream
// parser that the test knows: flows pipelining 8 KiB header blocks made of
// 4-byte header lines (every line costs a search, a split and two name
// comparisons, three times), interleaved, in full-size segments.
func costlyHTTPStreams(t testing.TB, flows, blocks int) *corpus.Capture {
	t.Helper()
	block := "GET / HTTP/1.1\r\n" + strings.Repeat("a:b\r\n", (8000-18)/5) + "\r\n"
	return tcpStreams(t, flows, 80, strings.Repeat(block, blocks))
}

// tcpStreams cuts stream into 1,400-byte segments of flows connections
// to port, interleaved.
func tcpStreams(t testing.TB, flows, port int, stream string) *corpus.Capture {
	t.Helper()
	c := &corpus.Capture{LinkType: spec.LinkEthernet}
	seq := make([]uint32, flows)
	ts := int64(1)
	for off := 0; off < len(stream); off += 1400 {
		end := min(off+1400, len(stream))
		for f := 0; f < flows; f++ {
			eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
			ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: net.IP{10, 0, 0, 1}, DstIP: net.IP{10, 0, 0, 2}}
			tcp := &layers.TCP{SrcPort: layers.TCPPort(20000 + f), DstPort: layers.TCPPort(port), Seq: 1000 + seq[f], ACK: true, PSH: true, Window: 65535}
			tcp.SetNetworkLayerForChecksum(ip)
			buf := gopacket.NewSerializeBuffer()
			if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, tcp, gopacket.Payload(stream[off:end])); err != nil {
				t.Fatal(err)
			}
			d := append([]byte(nil), buf.Bytes()...)
			c.Packets = append(c.Packets, corpus.Packet{Data: d, WireLen: uint32(len(d)), TsNanos: ts})
			seq[f] += uint32(end - off)
			ts++
		}
	}
	return c
}

// TestHTTPStreamsCostlyTrafficWithinFuel runs the costliest traffic above
// (16 flows, 64 header blocks each: 8 MB) through the bundled HTTP
// analyzer at half the host's default fuel per call: no call may run out,
// and every block is reported.
func TestHTTPStreamsCostlyTrafficWithinFuel(t *testing.T) {
	const flows, blocks = 16, 64
	c := costlyHTTPStreams(t, flows, blocks)
	bin, err := bundled.Module("http")
	if err != nil {
		t.Fatal(err)
	}
	var ev swapWriter
	h, err := wasm.NewHost(context.Background(), analyzertest.Config().WithFuel(wasm.DefaultFuel/2).WithEvents(&ev), wasm.Analyzer{Name: "http", Binary: bin})
	if err != nil {
		t.Fatal(err)
	}
	feed(t, h, c)
	h.Close(context.Background())
	s := h.Stats()[0]
	if s.Failures != 0 || s.StreamLost != 0 {
		t.Fatalf("at half the default fuel: %+v;%s", s, fmtCounters(h.Counters()))
	}
	if n := counterValue(h.Counters(), "requests"); n != flows*blocks {
		t.Fatalf("%d requests reported, want %d", n, flows*blocks)
	}
	t.Logf("%d packets, %d stream calls, %d chunks, %d bytes", len(c.Packets), s.StreamCalls, s.StreamChunks, s.StreamBytes)
}

// TestDNSStreamsCostlyTrafficWithinFuel does the same for DNS over TCP:
// 16 flows of the smallest queries (a header and the root name, 19 bytes
// with the length) at half the default fuel. Every query is counted; what
// the event area cannot hold is counted as lost events, not as a failure.
func TestDNSStreamsCostlyTrafficWithinFuel(t *testing.T) {
	const flows, msgs = 16, 4000
	msg := string([]byte{0, 17, 0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1})
	c := tcpStreams(t, flows, 53, strings.Repeat(msg, msgs))
	bin, err := bundled.Module("dns")
	if err != nil {
		t.Fatal(err)
	}
	h, err := wasm.NewHost(context.Background(), analyzertest.Config().WithFuel(wasm.DefaultFuel/2).WithEvents(io.Discard), wasm.Analyzer{Name: "dns", Binary: bin})
	if err != nil {
		t.Fatal(err)
	}
	feed(t, h, c)
	h.Close(context.Background())
	s := h.Stats()[0]
	if s.Failures != 0 || s.StreamLost != 0 {
		t.Fatalf("at half the default fuel: %+v;%s", s, fmtCounters(h.Counters()))
	}
	if n := counterValue(h.Counters(), "queries"); n != flows*msgs {
		t.Fatalf("%d queries counted, want %d;%s", n, flows*msgs, fmtCounters(h.Counters()))
	}
	t.Logf("%d packets, %d stream calls, %d events, %d lost", len(c.Packets), s.StreamCalls, s.Events, s.EventsLost)
}
