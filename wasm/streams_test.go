package wasm_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/internal/analyzertest"
	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/wasm"
)

var (
	guestMu   sync.Mutex
	guestBins = map[string][]byte{}
)

// streamGuest builds testdata/streamguest in the given mode ("streams",
// "streams-quiet": no flow events, or "packets") once per test binary.
func streamGuest(tb testing.TB, mode string) []byte {
	tb.Helper()
	guestMu.Lock()
	defer guestMu.Unlock()
	if b, ok := guestBins[mode]; ok {
		return b
	}
	out := filepath.Join(tb.TempDir(), mode+".wasm")
	ld := "-X main.mode=" + mode
	if mode == "streams-quiet" {
		ld = "-X main.mode=streams -X main.quiet=yes"
	}
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-trimpath", "-ldflags="+ld, "-o", out, ".")
	cmd.Dir = "testdata/streamguest"
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if msg, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build streamguest: %v\n%s", err, msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		tb.Fatal(err)
	}
	guestBins[mode] = b
	return b
}

// flowEvent is the streamguest's report of one flow.
type flowEvent struct {
	Event        string
	Client       string
	Server       string
	Cport, Sport uint16
	N0, N1       uint64
	H0, H1       uint64
	Gap0, Gap1   uint64
	Reason       uint64
	Len, Type    uint64
	Hash         uint64
}

// runStreams runs the stream guest over the capture at path and returns its
// events and the host's stats.
func runStreams(t *testing.T, path string) ([]flowEvent, wasm.Stats, wasm.StreamStats) {
	t.Helper()
	c, err := corpus.ReadCapture(path)
	if err != nil {
		t.Fatal(err)
	}
	var ev bytes.Buffer
	h, err := wasm.NewHost(context.Background(), analyzertest.Config().WithEvents(&ev),
		wasm.Analyzer{Name: "streams", Binary: streamGuest(t, "streams")})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range analyzertest.Batches(c, 64) {
		if err := h.Handle(b); err != nil {
			t.Fatal(err)
		}
	}
	h.Close(context.Background())
	var out []flowEvent
	for _, l := range bytes.Split(bytes.TrimSpace(ev.Bytes()), []byte("\n")) {
		if len(l) == 0 {
			continue
		}
		var e flowEvent
		if err := json.Unmarshal(l, &e); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		out = append(out, e)
	}
	return out, h.Stats()[0], h.StreamStats()
}

// follow is one TCP stream as tshark's "follow,tcp,raw" reassembles it:
// its nodes' endpoints and each node's bytes.
type follow struct {
	nodes [2]string
	data  [2][]byte
}

// tsharkFollow returns streams 0..n-1 of the capture, from one tshark run.
func tsharkFollow(t *testing.T, path string, n int) []follow {
	t.Helper()
	args := []string{"-r", path, "-q"}
	for s := 0; s < n; s++ {
		args = append(args, "-z", fmt.Sprintf("follow,tcp,raw,%d", s))
	}
	out, err := exec.Command("tshark", args...).Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	fs := make([]follow, n)
	cur := -1
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, "Filter: tcp.stream eq "):
			v, err := strconv.Atoi(strings.TrimPrefix(l, "Filter: tcp.stream eq "))
			if err != nil || v < 0 || v >= n {
				t.Fatalf("tshark: %q", l)
			}
			cur = v
		case cur < 0:
		case strings.HasPrefix(l, "Node 0: "):
			fs[cur].nodes[0] = strings.TrimPrefix(l, "Node 0: ")
		case strings.HasPrefix(l, "Node 1: "):
			fs[cur].nodes[1] = strings.TrimPrefix(l, "Node 1: ")
		case strings.HasPrefix(l, "==="), strings.HasPrefix(l, "Follow:"), l == "":
		default:
			d := 0
			if strings.HasPrefix(l, "\t") {
				d = 1
			}
			b, err := hex.DecodeString(strings.TrimSpace(l))
			if err != nil {
				t.Fatalf("tshark line %q: %v", l, err)
			}
			fs[cur].data[d] = append(fs[cur].data[d], b...)
		}
	}
	return fs
}

func tsharkStreams(t *testing.T, path string) int {
	out, err := exec.Command("tshark", "-r", path, "-T", "fields", "-e", "tcp.stream").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	n := -1
	for _, f := range strings.Fields(string(out)) {
		if v, err := strconv.Atoi(f); err == nil && v > n {
			n = v
		}
	}
	return n + 1
}

func fnvHex(b []byte) uint64 {
	h := fnv.New64a()
	h.Write(b)
	return h.Sum64()
}

// endpoint writes an address and port as tshark's follow output does.
func endpoint(addr string, port uint16) string {
	if strings.Contains(addr, ":") {
		return fmt.Sprintf("[%s]:%d", addr, port)
	}
	return fmt.Sprintf("%s:%d", addr, port)
}

// TestStreamsMatchTshark runs the stream guest through the host over the
// bundled sample capture (250 TCP streams, IPv4 and IPv6), corpus captures
// with TCP conversations and a generated capture with reordered,
// retransmitted and overlapping segments, and checks that the bytes it saw
// per flow direction (count and FNV-1a hash) equal tshark's reassembly
// (follow,tcp,raw) for every stream.
func TestStreamsMatchTshark(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		corpus.Unavailable(t, "tshark is not installed")
	}
	files := []string{filepath.Join(t.TempDir(), "reorder.pcap"), "../capture/sample/sample.pcap"}
	writeReorderCapture(t, files[0])
	for _, f := range []string{"dns_tcp.pcap", "print-flags.pcap", "mptcp-v0.pcap"} {
		files = append(files, corpus.Path(t, filepath.Join("tcpdump", f)))
	}
	streamGuest(t, "streams") // built once, before the subtests run in parallel
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			events, st, ss := runStreams(t, path)
			byEnds := map[[2]string]flowEvent{}
			for _, e := range events {
				if e.Event == "flow" {
					byEnds[[2]string{endpoint(e.Client, e.Cport), endpoint(e.Server, e.Sport)}] = e
				}
			}
			n := tsharkStreams(t, path)
			if n == 0 {
				t.Fatal("tshark sees no TCP stream")
			}
			var checked, bytesChecked, noNodes int
			for s, fl := range tsharkFollow(t, path, n) {
				nodes, data := fl.nodes, fl.data
				if nodes == [2]string{":0", ":0"} && len(data[0])+len(data[1]) == 0 {
					// tshark follows nothing: a segment whose TCP header
					// the snapshot length cut (wring counts those as
					// unparsed, checked below).
					noNodes++
					continue
				}
				e, ok := byEnds[nodes]
				swap := false
				if !ok {
					e, ok = byEnds[[2]string{nodes[1], nodes[0]}]
					swap = true
				}
				if !ok {
					t.Errorf("stream %d (%s - %s): no flow event", s, nodes[0], nodes[1])
					continue
				}
				n0, h0, n1, h1 := e.N0, e.H0, e.N1, e.H1
				if swap {
					n0, h0, n1, h1 = n1, h1, n0, h0
				}
				if n0 != uint64(len(data[0])) || h0 != fnvHex(data[0]) || n1 != uint64(len(data[1])) || h1 != fnvHex(data[1]) {
					t.Errorf("stream %d (%s - %s): wring %d/%x and %d/%x bytes/hash, tshark %d/%x and %d/%x (gaps %d, %d)",
						s, nodes[0], nodes[1], n0, h0, n1, h1, len(data[0]), fnvHex(data[0]), len(data[1]), fnvHex(data[1]), e.Gap0, e.Gap1)
				}
				checked++
				bytesChecked += len(data[0]) + len(data[1])
			}
			if st.StreamCalls == 0 || st.StreamLost != 0 || st.Failures != 0 {
				t.Errorf("stats %+v", st)
			}
			if filepath.Base(path) == "reorder.pcap" && (ss.OverlapKept == 0 || ss.Retransmitted == 0) {
				t.Errorf("the generated capture made no overlap held in a window or no retransmission: %+v", ss)
			}
			if uint64(noNodes) > ss.Unparsed {
				t.Errorf("%d streams tshark cannot follow, %d TCP packets wring could not parse", noNodes, ss.Unparsed)
			}
			t.Logf("%d streams tshark cannot follow (TCP header cut; wring: %d unparsed)", noNodes, ss.Unparsed)
			t.Logf("%d streams, %d bytes equal to tshark's; reassembler: %d flows, %d bytes delivered, %d retransmitted, %d overlapping kept, %d gaps",
				checked, bytesChecked, ss.Flows, ss.Delivered, ss.Retransmitted, ss.OverlapKept, ss.Gaps)
		})
	}
}

// The generated capture: TCP segments of IPv4 Ethernet frames.
type seg struct {
	src, dst         [4]byte
	sport, dport     uint16
	seq, ack         uint32
	flags            uint8
	payload          []byte
	vlan             uint16
	truncateCapLenTo int
}

func (s seg) frame() []byte {
	var b []byte
	b = append(b, 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1)
	b = append(b, 0x08, 0x00)
	ip := make([]byte, 20)
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(40+len(s.payload)))
	ip[8], ip[9] = 64, 6
	copy(ip[12:], s.src[:])
	copy(ip[16:], s.dst[:])
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(ip[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(ip[10:], ^uint16(sum))
	tcp := make([]byte, 20)
	binary.BigEndian.PutUint16(tcp[0:], s.sport)
	binary.BigEndian.PutUint16(tcp[2:], s.dport)
	binary.BigEndian.PutUint32(tcp[4:], s.seq)
	binary.BigEndian.PutUint32(tcp[8:], s.ack)
	tcp[12] = 5 << 4
	tcp[13] = s.flags
	binary.BigEndian.PutUint16(tcp[14:], 65535)
	b = append(b, ip...)
	b = append(b, tcp...)
	return append(b, s.payload...)
}

// conversation returns the segments of one connection from client port cp
// to server port 80 carrying req and resp, cut into segments of mss bytes;
// shuffle reorders, duplicates and overlaps them.
func conversation(cp uint16, req, resp []byte, mss int, mangle bool) []seg {
	c, s := [4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}
	const ci, si = 1000, 5000
	out := []seg{
		{src: c, dst: s, sport: cp, dport: 80, seq: ci, flags: 0x02},
		{src: s, dst: c, sport: 80, dport: cp, seq: si, ack: ci + 1, flags: 0x12},
		{src: c, dst: s, sport: cp, dport: 80, seq: ci + 1, ack: si + 1, flags: 0x10},
	}
	cut := func(from, to [4]byte, fp, tp uint16, base uint32, data []byte) []seg {
		var ss []seg
		for off := 0; off < len(data); off += mss {
			end := min(off+mss, len(data))
			ss = append(ss, seg{src: from, dst: to, sport: fp, dport: tp, seq: base + uint32(off), flags: 0x18, payload: data[off:end]})
		}
		if mangle && len(ss) >= 3 {
			// Segment 1 early, then one overlapping the second half of
			// segment 0 and the first half of segment 1 (held in the
			// window: an overlap the first copy wins), then segment 0,
			// and segment 2 again after its successors (a retransmission).
			o := mss / 2
			over := seg{src: from, dst: to, sport: fp, dport: tp, seq: base + uint32(o), flags: 0x18, payload: data[o:min(o+mss, len(data))]}
			ss = append([]seg{ss[1], over, ss[0]}, ss[2:]...)
			ss = append(ss, ss[3])
		}
		return ss
	}
	out = append(out, cut(c, s, cp, 80, ci+1, req)...)
	out = append(out, cut(s, c, 80, cp, si+1, resp)...)
	out = append(out,
		seg{src: c, dst: s, sport: cp, dport: 80, seq: ci + 1 + uint32(len(req)), ack: si + 1 + uint32(len(resp)), flags: 0x11},
		seg{src: s, dst: c, sport: 80, dport: cp, seq: si + 1 + uint32(len(resp)), ack: ci + 2 + uint32(len(req)), flags: 0x11},
		seg{src: c, dst: s, sport: cp, dport: 80, seq: ci + 2 + uint32(len(req)), ack: si + 2 + uint32(len(resp)), flags: 0x10})
	return out
}

func writePcap(t testing.TB, path string, segs []seg) {
	var b bytes.Buffer
	hdr := make([]byte, 24)
	binary.LittleEndian.PutUint32(hdr[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(hdr[4:], 2)
	binary.LittleEndian.PutUint16(hdr[6:], 4)
	binary.LittleEndian.PutUint32(hdr[16:], 262144)
	binary.LittleEndian.PutUint32(hdr[20:], 1)
	b.Write(hdr)
	for i, s := range segs {
		f := s.frame()
		rec := make([]byte, 16)
		binary.LittleEndian.PutUint32(rec[0:], 1_700_000_000+uint32(i/1000))
		binary.LittleEndian.PutUint32(rec[4:], uint32(i%1000)*1000)
		binary.LittleEndian.PutUint32(rec[8:], uint32(len(f)))
		binary.LittleEndian.PutUint32(rec[12:], uint32(len(f)))
		b.Write(rec)
		b.Write(f)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7) + seed
	}
	return b
}

func writeReorderCapture(t testing.TB, path string) {
	var segs []seg
	segs = append(segs, conversation(40001, pattern(3000, 1), pattern(9000, 2), 1000, false)...)
	segs = append(segs, conversation(40002, pattern(5000, 3), pattern(12000, 4), 700, true)...)
	segs = append(segs, conversation(40003, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), pattern(20000, 5), 1460, true)...)
	writePcap(t, path, segs)
}

// parseSegs turns segments into one batch each (so reordering crosses
// batch boundaries too).
func parseSegs(segs []seg) []*packet.Batch {
	var out []*packet.Batch
	for i, s := range segs {
		f := s.frame()
		info := packet.Info{Timestamp: 1_700_000_000_000_000_000 + int64(i), CapLen: uint32(len(f)), WireLen: uint32(len(f)), LinkType: spec.LinkEthernet}
		pk := packet.Packet{Info: info, Data: f}
		packet.Parse(info, f, &pk.Record)
		out = append(out, &packet.Batch{Packets: []packet.Packet{pk}, Verdicts: make([]packet.Verdict, 1)})
	}
	return out
}

// TestStreamsTLSClientHelloTwoSegments: a ClientHello of 1,900 bytes in two
// segments, the second one first, reaches the guest whole.
func TestStreamsTLSClientHelloTwoSegments(t *testing.T) {
	body := pattern(1900, 9)
	body[0] = 1 // handshake type ClientHello
	rec := append([]byte{0x16, 0x03, 0x01, byte(len(body) >> 8), byte(len(body))}, body...)
	segs := conversation(40443, rec, []byte("ok"), 1200, false)
	segs[3], segs[4] = segs[4], segs[3] // the hello's second segment first
	var ev bytes.Buffer
	h, err := wasm.NewHost(context.Background(), analyzertest.Config().WithEvents(&ev),
		wasm.Analyzer{Name: "streams", Binary: streamGuest(t, "streams")})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range parseSegs(segs) {
		if err := h.Handle(b); err != nil {
			t.Fatal(err)
		}
	}
	h.Close(context.Background())
	var got []flowEvent
	for _, l := range bytes.Split(bytes.TrimSpace(ev.Bytes()), []byte("\n")) {
		var e flowEvent
		if err := json.Unmarshal(l, &e); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		if e.Event == "tls_record" {
			got = append(got, e)
		}
	}
	if len(got) != 1 || got[0].Len != uint64(len(body)) || got[0].Type != 1 || got[0].Hash != fnvHex(body) {
		t.Fatalf("tls_record events %+v, want one of %d bytes, type 1, hash %x\n%s", got, len(body), fnvHex(body), ev.String())
	}
}
