package e2e_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
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
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/wasm"
)

// The bundled TLS analyzer in stream mode (its default) against Wireshark
// with its default TCP reassembly: every ClientHello and ServerHello tshark
// dissects,
//
//	tshark -r F -Y "tls.handshake.type == 1 || tls.handshake.type == 2" ...
//
// must be reported on the same frame (the one that completes it: feedFrames
// stamps each packet with its number, and a stream event carries the time
// of the packet behind its chunk) with the same server name, ALPN and
// versions (ClientHello: legacy_version and supported_versions;
// ServerHello: the version chosen, the cipher suite and ALPN). Every
// difference either way falls in a category below, counted; any other
// fails the test.

// Categories of explained differences in stream mode.
const (
	tlsStreamCatQUIC  = "a hello inside a QUIC Initial packet (UDP), which Wireshark decrypts; this analyzer reads TLS over TCP only (analyzers/quic reads QUIC ClientHellos)"
	tlsStreamCatNoTCP = "the frame's link type or encapsulation is one the parse record does not decode, so the host reassembles no TCP stream from it"
	tlsStreamCatCut   = "the capture cut the hello (snapshot length, or it ends inside it): the analyzer reports the part present, marked partial; Wireshark does not dissect a cut record"
	tlsStreamCatLost  = "the capture lacks bytes before the hello (the connection started before the capture, or a segment is missing): the host hands over a gap and the analyzer cannot find the record boundaries; Wireshark resynchronises on a later segment that starts a record"
)

// tlsStreamEvent is one client_hello or server_hello event.
type tlsStreamEvent struct {
	Event             string
	Ts                int64
	SNI               *string
	ALPN              string
	Version           string
	LegacyVersion     string `json:"legacy_version"`
	SupportedVersions string `json:"supported_versions"`
	Cipher            string
	Partial           bool
	Malformed         bool
	HelloRetry        bool `json:"hello_retry"`
}

// tlsHost loads the bundled TLS analyzer with the given configuration
// lines (nil: the defaults, stream mode).
func tlsHost(t testing.TB, ev io.Writer, config string) *wasm.Host {
	t.Helper()
	bin, err := bundled.Module("tls")
	if err != nil {
		t.Fatal(err)
	}
	cfg := analyzertest.Config()
	if ev != nil {
		cfg = cfg.WithEvents(ev)
	}
	a := wasm.Analyzer{Name: "tls", Binary: bin}
	if config != "" {
		a.Config = []byte(config)
	}
	h, err := wasm.NewHost(context.Background(), cfg, a)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(context.Background()) })
	return h
}

// tlsPacketHost is the analyzer in packet mode (streams=0), the mode the
// per-packet comparisons (tls_test.go, csdk_test.go) check.
func tlsPacketHost(t testing.TB, ev io.Writer) *wasm.Host { return tlsHost(t, ev, "streams=0") }

// tlsStreamOurs runs c through a stream-mode host and groups its hello
// events by frame number, with the host's counters.
func tlsStreamOurs(t *testing.T, c *corpus.Capture) (map[int][]tlsStreamEvent, map[string]uint64) {
	var ev swapWriter
	h := tlsHost(t, &ev, "")
	feedFrames(t, h, c)
	h.Close(context.Background()) // ends every flow: hellos cut by the capture's end are reported
	for _, s := range h.Stats() {
		if s.Failures != 0 || s.EventsLost != 0 || s.StreamLost != 0 {
			t.Fatalf("%+v", s)
		}
	}
	cs := map[string]uint64{}
	for _, k := range h.Counters() {
		cs[k.Name] = k.Value
	}
	out := map[int][]tlsStreamEvent{}
	for _, l := range bytes.Split(bytes.TrimSpace(ev.take()), []byte("\n")) {
		if len(l) == 0 {
			continue
		}
		var e tlsStreamEvent
		if err := json.Unmarshal(l, &e); err != nil {
			t.Fatalf("bad event line %q: %v", l, err)
		}
		if e.Event == "client_hello" || e.Event == "server_hello" {
			out[int(e.Ts)] = append(out[int(e.Ts)], e)
		}
	}
	return out, cs
}

// tlsStreamItem is one frame's hellos as tshark dissects them.
type tlsStreamItem struct {
	clients, servers int
	snis             []string
	alpn             string
	legacy           string // tls.handshake.version ("0x0303")
	versions         string // supported_versions: the list offered, or the one chosen
	cipher           string // the chosen cipher suite (ServerHello frames)
	udp              bool
}

func tlsStreamTshark(t testing.TB, file string, decodeAs ...string) map[int]tlsStreamItem {
	t.Helper()
	args := []string{"-r", file}
	for _, d := range decodeAs {
		args = append(args, "-d", d)
	}
	args = append(args, "-Y", "tls.handshake.type == 1 || tls.handshake.type == 2", "-T", "fields",
		"-e", "frame.number", "-e", "tls.handshake.type", "-e", "tls.handshake.extensions_server_name",
		"-e", "tls.handshake.extensions_alpn_str", "-e", "tls.handshake.version",
		"-e", "tls.handshake.extensions.supported_version", "-e", "tls.handshake.ciphersuite", "-e", "udp.port")
	cmd := exec.Command("tshark", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil && len(out) == 0 {
		t.Logf("tshark %s: %v %s", filepath.Base(file), err, strings.TrimSpace(stderr.String()))
		return nil
	}
	res := map[int]tlsStreamItem{}
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if line == "" {
			continue
		}
		c := strings.Split(line, "\t")
		for len(c) < 8 {
			c = append(c, "")
		}
		n, err := strconv.Atoi(c[0])
		if err != nil {
			t.Fatalf("tshark line %q", line)
		}
		it := tlsStreamItem{alpn: c[3], legacy: c[4], versions: c[5], cipher: c[6], udp: c[7] != ""}
		for _, ty := range strings.Split(c[1], ",") {
			switch ty {
			case "1":
				it.clients++
			case "2":
				it.servers++
			}
		}
		if c[2] != "" {
			it.snis = strings.Split(c[2], ",")
		}
		for len(it.snis) < it.clients {
			it.snis = append(it.snis, "")
		}
		res[n] = it
	}
	return res
}

// hexName turns "TLS1.3" into tshark's "0x0304" (lists too).
func hexName(s string) string { return hexVersions(s) }

// tlsStreamCompare compares one capture, handshake by handshake.
func tlsStreamCompare(t *testing.T, file string, c *corpus.Capture, decodeAs ...string) (comparison, map[string]uint64) {
	ours, cs := tlsStreamOurs(t, c)
	theirs := tlsStreamTshark(t, file, decodeAs...)
	base := filepath.Base(file)
	var res comparison
	for n, it := range theirs {
		o := ours[n]
		var oc, os []tlsStreamEvent
		for _, e := range o {
			if e.Event == "client_hello" {
				oc = append(oc, e)
			} else {
				os = append(os, e)
			}
		}
		detail := func(what string) string {
			return fmt.Sprintf("%s frame %d %s: ours %+v wireshark %+v", base, n, what, o, it)
		}
		// ClientHellos.
		if it.clients > 0 {
			switch {
			case it.udp:
				for range it.clients {
					res.add(tlsStreamCatQUIC, detail("ClientHello"))
				}
			case it.clients == 1 && len(oc) == 1 && !oc[0].Partial:
				e := oc[0]
				if sniOf(e.SNI) == it.snis[0] && e.ALPN == it.alpn && hexName(e.LegacyVersion) == firstOf(it.legacy) &&
					hexName(e.SupportedVersions) == it.versions {
					res.agree++
				} else {
					res.add("", detail("ClientHello fields"))
				}
			case it.clients > 1 && len(oc) == it.clients:
				var names []string
				for _, e := range oc {
					names = append(names, sniOf(e.SNI))
				}
				if sameTuples(names, it.snis) {
					res.agree += it.clients
				} else {
					res.add("", detail("ClientHellos"))
				}
			default:
				for range it.clients {
					res.add(tlsStreamMissing(c, n, oc), detail("ClientHello missing"))
				}
			}
		}
		if it.servers > 0 {
			switch {
			case it.udp:
				for range it.servers {
					res.add(tlsStreamCatQUIC, detail("ServerHello"))
				}
			case it.servers == 1 && len(os) == 1 && !os[0].Partial:
				e := os[0]
				want := it.versions
				if want == "" {
					want = firstOf(it.legacy)
				}
				if hexName(e.Version) == want && e.Cipher == it.cipher && e.ALPN == it.alpn {
					res.agree++
				} else {
					res.add("", detail("ServerHello fields"))
				}
			default:
				for range it.servers {
					res.add(tlsStreamMissing(c, n, os), detail("ServerHello missing"))
				}
			}
		}
	}
	// Ours that tshark does not have.
	var atEnd []string
	for n, o := range ours {
		it := theirs[n]
		nc, ns := 0, 0
		for _, e := range o {
			extra := false
			if e.Event == "client_hello" {
				nc++
				extra = nc > it.clients || it.udp || it.clients == 1 && e.Partial
			} else {
				ns++
				extra = ns > it.servers || it.servers == 1 && e.Partial
			}
			if !extra {
				continue
			}
			d := fmt.Sprintf("%s frame %d: ours %+v wireshark %+v", base, n, e, it)
			switch {
			case e.Partial && n == len(c.Packets):
				// Reported when the host ended the flows at the end
				// of the capture: which connection is not known here,
				// so these are counted against the hellos the capture
				// cut, below.
				atEnd = append(atEnd, d)
			case e.Partial && (cutConnection(c, n) || lostBefore(c, n)):
				res.add(tlsStreamCatCut, d)
			default:
				res.add("", d)
			}
		}
	}
	cat := tlsStreamCatCut
	if len(atEnd) > cutHellos(c) {
		cat = "" // more than the capture cut: unexplained
	}
	for _, d := range atEnd {
		res.add(cat, d)
	}
	return res, cs
}

// cutHellos counts the frames whose payload starts a ClientHello or
// ServerHello record that runs past the bytes captured.
func cutHellos(c *corpus.Capture) int {
	n := 0
	for i := 1; i <= len(c.Packets); i++ {
		p := payloadOf(c, i)
		if len(p) > recordHeaderLen && p[0] == 22 && p[1] == 3 && (p[5] == 1 || p[5] == 2) &&
			int(p[3])<<8|int(p[4]) > len(p)-recordHeaderLen {
			n++
		}
	}
	return n
}

const recordHeaderLen = 5

// tlsStreamMissing categorises a hello tshark reports on frame n that the
// analyzer does not report there whole.
func tlsStreamMissing(c *corpus.Capture, n int, ours []tlsStreamEvent) string {
	rec, ok := frameRecord(c, n)
	if ok && rec[spec.RecIPProto] != 6 {
		return tlsStreamCatNoTCP
	}
	if len(ours) == 0 && lostBefore(c, n) {
		return tlsStreamCatLost
	}
	return ""
}

func sniOf(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func firstOf(list string) string {
	if i := strings.IndexByte(list, ','); i >= 0 {
		return list[:i]
	}
	return list
}

// connKey names frame n's TCP connection (both directions alike), or "".
func connKey(c *corpus.Capture, n int) string {
	r, ok := frameRecord(c, n)
	if !ok || r[spec.RecIPProto] != 6 {
		return ""
	}
	a := string(r[spec.RecSrcAddr:spec.RecSrcAddr+16]) + string(r[spec.RecSrcPort:spec.RecSrcPort+2])
	b := string(r[spec.RecDstAddr:spec.RecDstAddr+16]) + string(r[spec.RecDstPort:spec.RecDstPort+2])
	if a > b {
		a, b = b, a
	}
	return a + b
}

// cutConnection reports whether a frame of n's connection up to n was cut
// by the snapshot length.
func cutConnection(c *corpus.Capture, n int) bool {
	k := connKey(c, n)
	for i := 1; i <= n; i++ {
		if truncatedFrame(c, i) && connKey(c, i) == k {
			return true
		}
	}
	return false
}

// tcpSeq returns frame i's TCP sequence number, payload length and flags.
func tcpSeq(c *corpus.Capture, i int) (seq uint32, plen int, flags byte, ok bool) {
	r, ok := frameRecord(c, i)
	if !ok || r[spec.RecIPProto] != 6 {
		return 0, 0, 0, false
	}
	l4 := int(r[spec.RecL4Off]) | int(r[spec.RecL4Off+1])<<8
	po := int(r[spec.RecPayloadOff]) | int(r[spec.RecPayloadOff+1])<<8
	d := c.Packets[i-1].Data
	if l4+14 > len(d) || po < l4 {
		return 0, 0, 0, false
	}
	pl := len(payloadOf(c, i))
	return uint32(d[l4+4])<<24 | uint32(d[l4+5])<<16 | uint32(d[l4+6])<<8 | uint32(d[l4+7]), pl, d[l4+13], true
}

// payloadOf returns frame i's captured transport payload.
func payloadOf(c *corpus.Capture, i int) []byte {
	r, ok := frameRecord(c, i)
	if !ok {
		return nil
	}
	po := int(binary.LittleEndian.Uint16(r[spec.RecPayloadOff:]))
	pl := int(binary.LittleEndian.Uint32(r[spec.RecPayloadLen:]))
	d := c.Packets[i-1].Data
	if po == spec.NoOffset || po+pl > len(d) {
		return nil
	}
	return d[po : po+pl]
}

// lostBefore reports whether the direction of frame n's segment has bytes
// missing before it in the capture: no SYN of that direction, or a
// sequence hole (a segment not captured, or one cut by the snapshot
// length).
func lostBefore(c *corpus.Capture, n int) bool {
	r, ok := frameRecord(c, n)
	if !ok {
		return false
	}
	dirKey := func(r []byte) string {
		return string(r[spec.RecSrcAddr:spec.RecSrcAddr+16]) + string(r[spec.RecSrcPort:spec.RecSrcPort+2]) +
			string(r[spec.RecDstAddr:spec.RecDstAddr+16]) + string(r[spec.RecDstPort:spec.RecDstPort+2])
	}
	want := dirKey(r[:])
	var next uint32
	started := false
	for i := 1; i <= n; i++ {
		ri, ok := frameRecord(c, i)
		if !ok || ri[spec.RecIPProto] != 6 || dirKey(ri[:]) != want {
			continue
		}
		seq, pl, fl, ok := tcpSeq(c, i)
		if !ok {
			return true
		}
		if fl&0x02 != 0 {
			started, next = true, seq+1
			continue
		}
		if !started {
			return true
		}
		if truncatedFrame(c, i) || int32(seq-next) > 0 {
			return true
		}
		if end := seq + uint32(pl); int32(end-next) > 0 {
			next = end
		}
	}
	return false
}

// tlsStreamReport logs the comparison and the counters, fails on any
// unexplained difference, and returns the count per category for the
// caller's assertions.
func tlsStreamReport(t *testing.T, what string, r comparison, cs map[string]uint64) map[string]int {
	report(t, what, r)
	keys := make([]string, 0, len(cs))
	for k, v := range cs {
		if v != 0 {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%d", k, cs[k])
	}
	t.Logf("%s counters:%s", what, b.String())
	out := map[string]int{}
	for c, d := range r.explained {
		out[c] = len(d)
	}
	return out
}

// TestTLSStreamAgainstTsharkMixed: the generated mixed capture (5000
// packets, seed 1).
func TestTLSStreamAgainstTsharkMixed(t *testing.T) {
	needTshark(t)
	path := analyzertest.MixedCapture(t, 5000)
	c, err := corpus.ReadCapture(path)
	if err != nil {
		t.Fatal(err)
	}
	r, cs := tlsStreamCompare(t, path, c)
	cats := tlsStreamReport(t, "tls-stream/mixed", r, cs)
	if r.agree < 400 {
		t.Fatalf("only %d hellos agree: the capture or the comparison is wrong", r.agree)
	}
	// Every hello tshark dissects is reported: the only differences are
	// the hellos the snapshot length cut, reported partial, one each.
	cut := cutHellos(c)
	if len(cats) != 1 || cats[tlsStreamCatCut] != cut || cs["partial"] != uint64(cut) || cs["client_hellos"] != uint64(r.agree+cut) {
		t.Fatalf("differences %v, want %d cut hellos only; counters %v", cats, cut, cs)
	}
	t.Logf("%d hellos agree; %d extra, all cut by the snapshot length (%d hello records cut in the capture)", r.agree, cats[tlsStreamCatCut], cut)
}

// TestTLSStreamAgainstTsharkCorpus: the tcpdump corpus files that can hold a
// ClientHello (as TestTLSClientHelloAgainstTsharkCorpus selects them).
func TestTLSStreamAgainstTsharkCorpus(t *testing.T) {
	needTshark(t)
	all := os.Getenv("WRING_TSHARK_ALL") == "1"
	var res comparison
	cs := map[string]uint64{}
	var names []string
	for _, f := range corpus.Files(t, "tcpdump") {
		c, _ := corpus.ReadCapture(f)
		if c == nil || len(c.Packets) == 0 {
			continue
		}
		if !all && !strings.Contains(strings.ToLower(filepath.Base(f)), "quic") && !holdsHello(c) {
			continue
		}
		names = append(names, filepath.Base(f))
		r, k := tlsStreamCompare(t, f, c)
		merge(&res, r)
		for n, v := range k {
			cs[n] += v
		}
	}
	sort.Strings(names)
	t.Logf("compared %d files: %s", len(names), strings.Join(names, " "))
	if len(names) == 0 {
		t.Fatal("no corpus file holds a ClientHello: the selection is wrong")
	}
	cats := tlsStreamReport(t, "tls-stream/tcpdump", res, cs)
	// The files this selection reads hold TLS hellos in QUIC only (the
	// whole corpus, WRING_TSHARK_ALL=1, adds the rest): tshark's six
	// QUIC hellos are the only differences.
	if !all && (len(cats) != 1 || cats[tlsStreamCatQUIC] != 6 || res.agree != 0) {
		t.Fatalf("%d agree, differences %v: the corpus or the comparison changed", res.agree, cats)
	}
}

// TestTLSStreamAgainstTsharkSegmented: the capture of
// TestTLSClientHelloAgainstTsharkSegmented (96 connections, ClientHellos
// written by crypto/tls, whole or cut into two or three segments at varied
// positions, some fragmented at the record layer), with tshark told that
// every port used carries TLS. In stream mode every ClientHello agrees.
func TestTLSStreamAgainstTsharkSegmented(t *testing.T) {
	needTshark(t)
	path := filepath.Join(t.TempDir(), "segmented.pcap")
	w := newPcapWriter()
	ports := []uint16{443, 443, 8443, 4433, 993, 31337}
	names := []string{"example.com", "a.very.long.name.of.a.server.somewhere.example.org", "x.test", "wring.test"}
	for i := 0; i < 96; i++ {
		cfg := &tls.Config{ServerName: names[i%len(names)], InsecureSkipVerify: true}
		if i%3 == 0 {
			cfg.NextProtos = []string{"h2", "http/1.1"}
		}
		if i%5 == 0 {
			cfg.MinVersion, cfg.MaxVersion = tls.VersionTLS12, tls.VersionTLS12
		}
		hello := tlsClientHelloBytes(t, cfg)
		if i%7 == 3 {
			hello = refragment(hello, 100)
		}
		var cuts []int
		switch i % 4 {
		case 1:
			cuts = []int{1 + i*37%(len(hello)-1)}
		case 2:
			a := 1 + i*53%(len(hello)/2)
			cuts = []int{a, a + 1 + i*11%(len(hello)-a-1)}
		case 3:
			cuts = []int{3} // inside the record header
		}
		w.tcpConnection(t, i, ports[i%len(ports)], hello, cuts)
	}
	if err := os.WriteFile(path, w.bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := corpus.ReadCapture(path)
	if err != nil {
		t.Fatal(err)
	}
	var decode []string
	for _, p := range []int{8443, 4433, 993, 31337} {
		decode = append(decode, fmt.Sprintf("tcp.port==%d,tls", p))
	}
	r, cs := tlsStreamCompare(t, path, c, decode...)
	tlsStreamReport(t, "tls-stream/segmented", r, cs)
	if r.agree != 96 || len(r.explained) != 0 || cs["client_hellos"] != 96 || cs["partial"] != 0 {
		t.Fatalf("%d of 96 ClientHellos agree; explained %v; counters %v", r.agree, r.explained, cs)
	}
}
