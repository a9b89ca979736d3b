package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/wringcap/wring/analyzers/bundled"
	"github.com/wringcap/wring/internal/analyzertest"
	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/internal/quicgen"
	"github.com/wringcap/wring/wasm"
)

// The bundled QUIC analyzer (analyzers/quic) against Wireshark, which
// decrypts QUIC Initial packets on its own: for every frame, the server
// names and ALPN lists of the ClientHellos the analyzer reports must be
// those of
//
//	tshark -r F -Y quic -T fields -e tls.handshake.extensions_server_name -e tls.handshake.extensions_alpn_str
//
// (tshark 4.0's field names), frame by frame, with no difference allowed.

// quicCatVN is the one category of difference allowed: tshark keeps the
// Initial keys of the version a client tried first for the Initial it
// sends after a Version Negotiation packet to the same connection id, and
// reports a checktag failure; the analyzer derives the keys of the
// packet's own version, and its tag check passes (so the ClientHello is
// authentic).
const quicCatVN = "tshark fails its tag check on an Initial sent after Version Negotiation (it keeps the keys of the version tried first); the analyzer's tag check passes with the packet's own version's keys"

// quicEvent is one quic_client_hello event as the host writes it.
type quicEvent struct {
	Ts      int64
	SNI     *string
	ALPN    string
	Version string `json:"quic_version"`
	DCID    string
	SCID    string
	Packets int
}

func quicOurs(t testing.TB, lines []byte) map[int][]quicEvent {
	out := map[int][]quicEvent{}
	for _, l := range bytes.Split(bytes.TrimSpace(lines), []byte("\n")) {
		if len(l) == 0 {
			continue
		}
		var e struct {
			Event string
			quicEvent
		}
		if err := json.Unmarshal(l, &e); err != nil {
			t.Fatalf("bad event line %q: %v", l, err)
		}
		if e.Event != "quic_client_hello" {
			t.Fatalf("unexpected event %q", l)
		}
		out[int(e.Ts)] = append(out[int(e.Ts)], e.quicEvent)
	}
	return out
}

// quicTshark returns, per frame with a ClientHello, "sni\talpn".
func quicTshark(t testing.TB, file string) map[int]string {
	t.Helper()
	cmd := exec.Command("tshark", "-r", file, "-Y", "quic && tls.handshake.type == 1", "-T", "fields",
		"-e", "frame.number", "-e", "tls.handshake.extensions_server_name", "-e", "tls.handshake.extensions_alpn_str")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark %s: %v %s", filepath.Base(file), err, stderr.String())
	}
	res := map[int]string{}
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if line == "" {
			continue
		}
		c := strings.Split(line, "\t")
		for len(c) < 3 {
			c = append(c, "")
		}
		n, err := strconv.Atoi(c[0])
		if err != nil {
			t.Fatalf("tshark line %q", line)
		}
		res[n] = c[1] + "\t" + c[2]
	}
	return res
}

// compareQUIC runs file through the bundled analyzer and returns the
// frames where it and tshark agree, and every difference.
func compareQUIC(t *testing.T, h *wasm.Host, ev *swapWriter, file string) (agree int, diffs []string, ours map[int][]quicEvent, explained map[string][]string) {
	explained = map[string][]string{}
	c, err := corpus.ReadCapture(file)
	if err != nil {
		t.Fatal(err)
	}
	feedFrames(t, h, c)
	ours = quicOurs(t, ev.take())
	if s := h.Stats()[0]; s.Failures != 0 {
		t.Fatalf("%s: the analyzer failed: %+v", filepath.Base(file), s)
	}
	theirs := quicTshark(t, file)
	base := filepath.Base(file)
	frames := map[int]bool{}
	for n := range ours {
		frames[n] = true
	}
	for n := range theirs {
		frames[n] = true
	}
	var keys []int
	for n := range frames {
		keys = append(keys, n)
	}
	sort.Ints(keys)
	for _, n := range keys {
		var o []string
		for _, e := range ours[n] {
			s := ""
			if e.SNI != nil {
				s = *e.SNI
			}
			o = append(o, s+"\t"+e.ALPN)
		}
		var w []string
		if x, ok := theirs[n]; ok {
			w = []string{x}
		}
		if sameTuples(o, w) {
			agree++
			continue
		}
		d := fmt.Sprintf("%s frame %d: ours %q, tshark %q", base, n, o, w)
		if len(w) == 0 && len(o) == 1 && afterVN(t, file, n) {
			explained[quicCatVN] = append(explained[quicCatVN], d)
			continue
		}
		diffs = append(diffs, d)
	}
	return agree, diffs, ours, explained
}

// afterVN reports whether tshark says frame n is a version 1 Initial whose
// tag check failed, sent to a connection id that an earlier Initial of
// another version and a Version Negotiation packet used.
func afterVN(t *testing.T, file string, n int) bool {
	out, err := exec.Command("tshark", "-r", file, "-Y", fmt.Sprintf("frame.number <= %d", n), "-T", "fields",
		"-e", "frame.number", "-e", "quic.version", "-e", "quic.dcid", "-e", "quic.scid", "-e", "_ws.expert.message").Output()
	if err != nil {
		t.Fatal(err)
	}
	var vn, other bool
	var dcid string
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	last := strings.Split(lines[len(lines)-1]+"\t\t\t\t", "\t")
	if last[0] != strconv.Itoa(n) || last[1] != "0x00000001" || !strings.Contains(last[4], "checktag") {
		return false
	}
	dcid = last[2]
	for _, l := range lines[:len(lines)-1] {
		c := strings.Split(l+"\t\t\t\t", "\t")
		switch {
		case c[1] == "0x00000000" && c[3] == dcid:
			vn = true
		case c[1] != "0x00000001" && c[1] != "0x00000000" && c[2] == dcid:
			other = true
		}
	}
	return vn && other
}

func quicCounters(h *wasm.Host) map[string]uint64 {
	m := map[string]uint64{}
	for _, c := range h.Counters() {
		m[c.Name] += c.Value
	}
	return m
}

// TestQUICAgainstTsharkCorpus compares on the tcpdump corpus files with
// QUIC in their name.
func TestQUICAgainstTsharkCorpus(t *testing.T) {
	needTshark(t)
	var ev swapWriter
	h := analyzertest.Host(t, "quic", &ev)
	files := 0
	agree, hellos, explainedN := 0, 0, 0
	for _, f := range corpus.Files(t, "tcpdump") {
		if !strings.Contains(strings.ToLower(filepath.Base(f)), "quic") {
			continue
		}
		if c, _ := corpus.ReadCapture(f); c == nil {
			continue
		}
		files++
		a, diffs, ours, ex := compareQUIC(t, h, &ev, f)
		agree += a
		for cat, ds := range ex {
			explainedN += len(ds)
			t.Logf("explained (%s): %d: %s", cat, len(ds), strings.Join(ds, "; "))
		}
		for _, o := range ours {
			hellos += len(o)
		}
		for _, d := range diffs {
			t.Error(d)
		}
	}
	cs := quicCounters(h)
	t.Logf("quic/tcpdump: %d files, %d frames agree with tshark, %d differences explained (tshark's failed tag check after Version Negotiation), 0 unexplained; %d ClientHellos reported; counters %v", files, agree, explainedN, hellos, cs)
	if files < 4 || hellos < 2 {
		t.Fatalf("%d files, %d ClientHellos: the selection is wrong", files, hellos)
	}
	if s := h.Stats()[0]; s.Failures != 0 || s.EventsLost != 0 {
		t.Fatalf("host stats %+v", s)
	}
}

// TestQUICAgainstTsharkGenerated compares on a generated set: ClientHellos
// from crypto/tls's QUIC client, protected with the standard library's
// crypto, split, reordered, coalesced and retransmitted, v1 and v2
// (every fourth connection). Each reported ClientHello must also carry the
// connection ids and packet count the generator used.
func TestQUICAgainstTsharkGenerated(t *testing.T) {
	needTshark(t)
	n := 200
	if testing.Short() {
		n = 60
	}
	w, conns, err := quicgen.Set(n, 7, 4)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "quic-generated.pcap")
	if err := os.WriteFile(path, w.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var ev swapWriter
	h := analyzertest.Host(t, "quic", &ev)
	agree, diffs, ours, ex := compareQUIC(t, h, &ev, path)
	for _, d := range diffs {
		t.Error(d)
	}
	for _, ds := range ex {
		t.Errorf("explained differences on the generated set, where none should be: %q", ds)
	}
	multi, v2 := 0, 0
	for i, c := range conns {
		es := ours[c.Frame]
		if len(es) != 1 {
			t.Errorf("conn %d: %d events on frame %d", i, len(es), c.Frame)
			continue
		}
		e := es[0]
		wantV := "QUICv1"
		if c.Version == quicgen.Version2 {
			wantV = "QUICv2"
			v2++
		}
		if e.DCID != fmt.Sprintf("%x", c.DCID) || e.SCID != fmt.Sprintf("%x", c.SCID) || e.Version != wantV || e.Packets != c.Packets {
			t.Errorf("conn %d: event %+v, want dcid %x scid %x %s packets %d", i, e, c.DCID, c.SCID, wantV, c.Packets)
		}
		if c.Packets > 1 {
			multi++
		}
	}
	cs := quicCounters(h)
	t.Logf("quic/generated: %d connections (%d QUICv2, %d over several packets) in %d frames, %d frames agree with tshark, %d differences; counters %v",
		len(conns), v2, multi, w.Frames(), agree, len(diffs), cs)
	if agree < len(conns) || cs["client_hellos"] != uint64(len(conns)) || cs["undecryptable"] != 0 || cs["malformed"] != 0 {
		t.Fatalf("%d frames agree, counters %v", agree, cs)
	}
	if s := h.Stats()[0]; s.Failures != 0 || s.EventsLost != 0 {
		t.Fatalf("host stats %+v", s)
	}
}

// TestQUICCostlyDatagramsWithinFuel sends the datagrams that cost the
// analyzer most, each valid under the public Initial keys an attacker can
// derive, through the host with its default fuel: five coalesced Initials
// to fresh connection ids (four decoded, one counted as skipped), Initials
// full of PING frames, of one-byte CRYPTO frames, and of ACK ranges. None
// may make a call run out of fuel.
func TestQUICCostlyDatagramsWithinFuel(t *testing.T) {
	hello, err := quicgen.ClientHello("costly.example", []string{"h3"}, true)
	if err != nil {
		t.Fatal(err)
	}
	w := quicgen.NewPcap()
	cid := func(i, k int) []byte { return []byte{byte(i >> 8), byte(i), byte(k), 4, 5, 6, 7, 8} }
	build := func(p quicgen.Packet) []byte {
		b, err := p.Build()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	const each = 40
	for i := 0; i < each; i++ {
		src := [4]byte{10, 2, byte(i >> 8), byte(i)}
		var d []byte
		for k := 0; k < 5; k++ {
			d = append(d, build(quicgen.Packet{Version: quicgen.Version1, DCID: cid(i, k), SCID: []byte{1}, Frames: []quicgen.Frame{{Data: hello[:200]}}, MinSize: 280})...)
		}
		w.UDP(src, [4]byte{10, 0, 0, 1}, 5000, 443, d)
		// PING frames (the packet builder pads with PADDING; PING is 0x01).
		pings := quicgen.Packet{Version: quicgen.Version1, DCID: cid(i, 10), Frames: []quicgen.Frame{{Data: hello[:10]}}, MinSize: 1200, PadWith: 0x01}
		w.UDP(src, [4]byte{10, 0, 0, 1}, 5001, 443, build(pings))
		// One-byte CRYPTO frames, in order.
		var frames []quicgen.Frame
		for off := 0; off < 200; off++ {
			frames = append(frames, quicgen.Frame{Offset: off, Data: hello[off : off+1]})
		}
		w.UDP(src, [4]byte{10, 0, 0, 1}, 5002, 443, build(quicgen.Packet{Version: quicgen.Version1, DCID: cid(i, 11), Frames: frames, MinSize: 1200}))
		// An ACK frame with 500 ranges.
		w.UDP(src, [4]byte{10, 0, 0, 1}, 5003, 443, build(quicgen.Packet{Version: quicgen.Version1, DCID: cid(i, 12), AckRanges: 500, MinSize: 1200}))
	}
	path := filepath.Join(t.TempDir(), "costly.pcap")
	if err := os.WriteFile(path, w.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := corpus.ReadCapture(path)
	if err != nil {
		t.Fatal(err)
	}
	var ev swapWriter
	h := analyzertest.Host(t, "quic", &ev)
	feedFrames(t, h, c)
	ev.take()
	s := h.Stats()[0]
	cs := quicCounters(h)
	t.Logf("%d datagrams: host %+v; counters %v", len(c.Packets), s, cs)
	if s.Failures != 0 || s.Packets != uint64(len(c.Packets)) {
		t.Fatalf("the analyzer failed on costly datagrams: %+v", s)
	}
	if cs["skipped_initials"] != each || cs["initials"] != 7*each || cs["malformed"] != 0 {
		t.Fatalf("counters %v, want %d skipped and %d decrypted", cs, each, 7*each)
	}
	// The margin: half the default fuel still suffices.
	bin, err := bundled.Module("quic")
	if err != nil {
		t.Fatal(err)
	}
	half, err := wasm.NewHost(context.Background(), analyzertest.Config().WithFuel(wasm.DefaultFuel/2), wasm.Analyzer{Name: "quic", Binary: bin})
	if err != nil {
		t.Fatal(err)
	}
	defer half.Close(context.Background())
	feedFrames(t, half, c)
	if s := half.Stats()[0]; s.Failures != 0 {
		t.Fatalf("with half the default fuel: %+v", s)
	}
}
