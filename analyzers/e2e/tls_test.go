package e2e_test

import (
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wringcap/wring/internal/analyzertest"
	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/spec"
)

// The bundled TLS analyzer (analyzers/tls) against Wireshark: for every frame,
// the server names of the ClientHellos the analyzer reports must be those of
//
//	tshark -r F -Y "tls.handshake.type == 1" -T fields -e tls.handshake.extensions_server_name
//
// Frames are matched by number (feedFrames stamps each packet with it).
// Every difference must fall in one of the explained categories below; any
// other fails the test.

// Categories of explained TLS differences.
const (
	tlsCatReasm = "Wireshark reassembles a ClientHello split over TCP segments and reports it on its last segment; the analyzer reads one packet at a time and reports it, marked partial, on the segment that starts its record (with the server name when that segment holds it)"
	tlsCatSnap  = "the capture cut the frame inside the ClientHello record: Wireshark does not dissect a record the snapshot length cut (\"TLS truncated\") and reports no handshake, the analyzer reports the part present, marked partial"
	tlsCatQUIC  = "a ClientHello inside a QUIC Initial packet (UDP), which Wireshark decrypts; the analyzer reads TLS over TCP only"
	tlsCatNoTCP = "the frame's link type or encapsulation is one the parse record does not decode, so the analyzer gets no TCP payload"
)

// tlsEvent is one client_hello event as the host writes it.
type tlsEvent struct {
	Ts                int64
	SNI               *string
	ALPN              string
	LegacyVersion     string `json:"legacy_version"`
	SupportedVersions string `json:"supported_versions"`
	Partial           bool
}

// tlsOurs groups the analyzer's events by frame number.
func tlsOurs(t testing.TB, lines []byte) map[int][]tlsEvent {
	out := map[int][]tlsEvent{}
	for _, l := range bytes.Split(bytes.TrimSpace(lines), []byte("\n")) {
		if len(l) == 0 {
			continue
		}
		var kind struct{ Event string }
		if err := json.Unmarshal(l, &kind); err != nil {
			t.Fatalf("bad event line %q: %v", l, err)
		}
		if kind.Event != "client_hello" {
			continue
		}
		var e tlsEvent
		if err := json.Unmarshal(l, &e); err != nil {
			t.Fatalf("bad event line %q: %v", l, err)
		}
		n := int(e.Ts)
		out[n] = append(out[n], e)
	}
	return out
}

// tlsFrame is one frame tshark reports a ClientHello in.
type tlsFrame struct {
	snis          []string // one per ClientHello, "" without server_name
	alpn          string
	legacy        string // "0x0303"
	versions      string // "0x0304,0x0303"
	udp           bool
	recordVersion string
}

func tlsTshark(t testing.TB, file string) map[int]tlsFrame {
	t.Helper()
	cmd := exec.Command("tshark", "-r", file, "-Y", "tls.handshake.type == 1", "-T", "fields",
		"-e", "frame.number", "-e", "tls.handshake.extensions_server_name", "-e", "tls.handshake.type",
		"-e", "tls.handshake.extensions_alpn_str", "-e", "tls.handshake.version",
		"-e", "tls.handshake.extensions.supported_version", "-e", "tcp.stream", "-e", "udp.port",
		"-e", "tls.record.version")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil && len(out) == 0 {
		// tshark fails on files it cannot read; the analyzer sees no
		// packets of those either (corpus.ReadCapture fails first).
		t.Logf("tshark %s: %v %s", filepath.Base(file), err, strings.TrimSpace(stderr.String()))
		return nil
	}
	res := map[int]tlsFrame{}
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if line == "" {
			continue
		}
		c := strings.Split(line, "\t")
		for len(c) < 9 {
			c = append(c, "")
		}
		n, err := strconv.Atoi(c[0])
		if err != nil {
			t.Fatalf("tshark line %q", line)
		}
		f := tlsFrame{alpn: c[3], legacy: c[4], versions: c[5], udp: c[7] != "", recordVersion: c[8]}
		// One server name per ClientHello: tshark lists the handshake types
		// of the frame's messages; a ClientHello without server_name has no
		// entry in the name column, so names are matched in order only
		// when every ClientHello has one.
		hellos := 0
		for _, ty := range strings.Split(c[2], ",") {
			if ty == "1" {
				hellos++
			}
		}
		names := []string{}
		if c[1] != "" {
			names = strings.Split(c[1], ",")
		}
		for len(names) < hellos {
			names = append(names, "")
		}
		f.snis = names
		res[n] = f
	}
	return res
}

func snisOf(es []tlsEvent) []string {
	var out []string
	for _, e := range es {
		s := ""
		if e.SNI != nil {
			s = *e.SNI
		}
		out = append(out, s)
	}
	return out
}

// compareTLS compares one capture; checkFields also compares ALPN and the
// versions on the frames whose names agree.
func compareTLS(t *testing.T, file string, c *corpus.Capture, ev *swapWriter, checkFields bool) comparison {
	h := tlsPacketHost(t, ev)
	feedFrames(t, h, c)
	ours := tlsOurs(t, ev.take())
	theirs := tlsTshark(t, file)
	base := filepath.Base(file)
	var res comparison
	handled := map[int]bool{}
	for n, f := range theirs {
		o := ours[n]
		if sameTuples(snisOf(o), f.snis) && !(len(o) > 0 && o[0].Partial) {
			res.agree++
			handled[n] = true
			if checkFields {
				checkTLSFields(t, base, n, o, f)
			}
			continue
		}
		detail := fmt.Sprintf("%s frame %d: ours %q wireshark %q", base, n, snisOf(o), f.snis)
		switch {
		case f.udp:
			res.add(tlsCatQUIC, detail)
		case len(o) == 0:
			// Reassembled (over TCP segments, or handshake fragments over
			// records in several segments): the analyzer reported the
			// ClientHello, partial, on an earlier frame of the connection,
			// with the same name or none when the name is further on.
			first := earlierPartial(c, n, ours, handled)
			cat := ""
			if first > 0 {
				fo := ours[first]
				if len(f.snis) == 1 && (fo[0].SNI == nil || *fo[0].SNI == f.snis[0]) {
					cat = tlsCatReasm
					handled[first] = true
				}
			}
			res.add(cat, fmt.Sprintf("%s; ours on the frame that starts it, %d: %q", detail, first, snisOf(ours[first])))
		default:
			rec, ok := frameRecord(c, n)
			if ok && rec[spec.RecIPProto] != 6 && len(o) == 0 {
				res.add(tlsCatNoTCP, detail)
			} else {
				res.add("", detail)
			}
		}
		handled[n] = true
	}
	for n, o := range ours {
		if handled[n] {
			continue
		}
		detail := fmt.Sprintf("%s frame %d: ours %q wireshark none", base, n, snisOf(o))
		if truncatedFrame(c, n) && allPartial(o) {
			res.add(tlsCatSnap, detail)
			continue
		}
		res.add("", detail)
	}
	return res
}

// earlierPartial returns the latest frame before n of the same TCP
// connection and direction whose events are one partial ClientHello not yet
// matched, or 0.
func earlierPartial(c *corpus.Capture, n int, ours map[int][]tlsEvent, handled map[int]bool) int {
	key := func(k int) string {
		r, _ := frameRecord(c, k)
		return string(r[spec.RecIPVersion:spec.RecIPProto+1]) + string(r[spec.RecSrcPort:spec.RecDstPort+2]) +
			string(r[spec.RecSrcAddr:spec.RecDstAddr+16])
	}
	want := key(n)
	for k := n - 1; k >= 1; k-- {
		if o := ours[k]; len(o) == 1 && o[0].Partial && !handled[k] && key(k) == want {
			return k
		}
	}
	return 0
}

func allPartial(es []tlsEvent) bool {
	for _, e := range es {
		if !e.Partial {
			return false
		}
	}
	return len(es) > 0
}

// checkTLSFields compares ALPN and versions on a frame whose names agree.
func checkTLSFields(t *testing.T, base string, n int, o []tlsEvent, f tlsFrame) {
	if len(o) != 1 {
		return
	}
	e := o[0]
	if e.ALPN != f.alpn {
		t.Errorf("%s frame %d: alpn %q, wireshark %q", base, n, e.ALPN, f.alpn)
	}
	if hexVersions(e.LegacyVersion) != f.legacy {
		t.Errorf("%s frame %d: legacy version %q, wireshark %q", base, n, e.LegacyVersion, f.legacy)
	}
	if hexVersions(e.SupportedVersions) != f.versions {
		t.Errorf("%s frame %d: supported versions %q, wireshark %q", base, n, e.SupportedVersions, f.versions)
	}
}

// hexVersions turns "TLS1.3,TLS1.2" into tshark's "0x0304,0x0303".
func hexVersions(s string) string {
	if s == "" {
		return ""
	}
	names := map[string]string{"SSL3.0": "0x0300", "TLS1.0": "0x0301", "TLS1.1": "0x0302", "TLS1.2": "0x0303", "TLS1.3": "0x0304"}
	parts := strings.Split(s, ",")
	for i, p := range parts {
		if h, ok := names[p]; ok {
			parts[i] = h
		}
	}
	return strings.Join(parts, ",")
}

// TestTLSClientHelloAgainstTsharkMixed compares on the generated mixed
// capture (5000 packets, seed 1), names and also ALPN, legacy and supported
// versions.
func TestTLSClientHelloAgainstTsharkMixed(t *testing.T) {
	needTshark(t)
	path := analyzertest.MixedCapture(t, 5000)
	c, err := corpus.ReadCapture(path)
	if err != nil {
		t.Fatal(err)
	}
	var ev swapWriter
	r := compareTLS(t, path, c, &ev, true)
	if r.agree < 400 {
		t.Fatalf("only %d ClientHello frames agree: the capture or the comparison is wrong", r.agree)
	}
	report(t, "tls/mixed", r)
}

// TestTLSClientHelloAgainstTsharkCorpus compares on the tcpdump corpus files
// that can hold a ClientHello: those with a TLS handshake record header
// followed by handshake type 1 anywhere in a packet (22, 3, 0..4, length,
// 1), or QUIC in their name. WRING_TSHARK_ALL=1 compares every file
// (several minutes of tshark runs).
func TestTLSClientHelloAgainstTsharkCorpus(t *testing.T) {
	needTshark(t)
	all := os.Getenv("WRING_TSHARK_ALL") == "1"
	var ev swapWriter
	var res comparison
	checked := 0
	var names []string
	for _, f := range corpus.Files(t, "tcpdump") {
		c, _ := corpus.ReadCapture(f)
		if c == nil || len(c.Packets) == 0 {
			continue // unreadable here; the capture readers' tests cover these files
		}
		if !all && !strings.Contains(strings.ToLower(filepath.Base(f)), "quic") && !holdsHello(c) {
			continue
		}
		checked++
		names = append(names, filepath.Base(f))
		merge(&res, compareTLS(t, f, c, &ev, false))
	}
	sort.Strings(names)
	t.Logf("compared %d files: %s", checked, strings.Join(names, " "))
	if checked == 0 {
		t.Fatal("no corpus file holds a ClientHello: the selection is wrong")
	}
	report(t, "tls/tcpdump", res)
}

// holdsHello reports whether any packet holds a TLS handshake record header
// followed by a ClientHello type byte.
func holdsHello(c *corpus.Capture) bool {
	for _, p := range c.Packets {
		d := p.Data
		for i := 0; i+6 <= len(d); i++ {
			if d[i] == 22 && d[i+1] == 3 && d[i+2] <= 4 && d[i+5] == 1 {
				return true
			}
		}
	}
	return false
}

// TestTLSClientHelloAgainstTsharkSegmented compares on a capture built here
// from ClientHellos written by crypto/tls, sent over TCP connections (with
// their three-way handshakes) to port 443 and to ports Wireshark does not
// associate with TLS, whole or split over two or three segments at varied
// positions, some records further fragmented at the record layer. It is
// where the reassembly category shows; every frame with a ClientHello must
// agree or be explained.
func TestTLSClientHelloAgainstTsharkSegmented(t *testing.T) {
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
			hello = refragment(hello, 100) // record-layer fragments of 100 bytes
		}
		var cuts []int
		switch i % 4 {
		case 1:
			cuts = []int{1 + i*37%(len(hello)-1)}
		case 2:
			a := 1 + i*53%(len(hello)/2)
			cuts = []int{a, a + 1 + i*11%(len(hello)-a-1)}
		case 3:
			cuts = []int{60} // the server name is in the second segment
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
	var ev swapWriter
	r := compareTLS(t, path, c, &ev, false)
	if r.agree < 20 || len(r.explained[tlsCatReasm]) < 20 {
		t.Fatalf("%d frames agree, %d reassembled: the capture or the comparison is wrong", r.agree, len(r.explained[tlsCatReasm]))
	}
	report(t, "tls/segmented", r)
}

// tlsClientHelloBytes returns the handshake record crypto/tls writes first
// as a client.
func tlsClientHelloBytes(t testing.TB, cfg *tls.Config) []byte {
	t.Helper()
	c, s := net.Pipe()
	defer s.Close()
	go func() {
		cl := tls.Client(c, cfg)
		cl.SetDeadline(time.Now().Add(5 * time.Second))
		cl.Handshake() // fails when the test closes its side
		c.Close()
	}()
	s.SetDeadline(time.Now().Add(5 * time.Second))
	hdr := make([]byte, 5)
	if _, err := io.ReadFull(s, hdr); err != nil {
		t.Fatal(err)
	}
	body := make([]byte, int(hdr[3])<<8|int(hdr[4]))
	if _, err := io.ReadFull(s, body); err != nil {
		t.Fatal(err)
	}
	return append(hdr, body...)
}

// refragment splits one handshake record into records of at most size bytes.
func refragment(rec []byte, size int) []byte {
	msg := rec[5:]
	var out []byte
	for off := 0; off < len(msg); off += size {
		end := min(off+size, len(msg))
		out = append(out, rec[0], rec[1], rec[2], byte((end-off)>>8), byte(end-off))
		out = append(out, msg[off:end]...)
	}
	return out
}

// pcapWriter builds a classic pcap file of Ethernet frames in memory.
type pcapWriter struct {
	buf bytes.Buffer
	ts  int64 // microseconds
}

func newPcapWriter() *pcapWriter {
	w := &pcapWriter{ts: 1_700_000_000_000_000}
	hdr := make([]byte, 24)
	binary.LittleEndian.PutUint32(hdr[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(hdr[4:], 2)
	binary.LittleEndian.PutUint16(hdr[6:], 4)
	binary.LittleEndian.PutUint32(hdr[16:], 65535)
	binary.LittleEndian.PutUint32(hdr[20:], 1) // LINKTYPE_ETHERNET
	w.buf.Write(hdr)
	return w
}

func (w *pcapWriter) frame(b []byte) {
	w.ts += 1000
	rec := make([]byte, 16)
	binary.LittleEndian.PutUint32(rec[0:], uint32(w.ts/1e6))
	binary.LittleEndian.PutUint32(rec[4:], uint32(w.ts%1e6))
	binary.LittleEndian.PutUint32(rec[8:], uint32(len(b)))
	binary.LittleEndian.PutUint32(rec[12:], uint32(len(b)))
	w.buf.Write(rec)
	w.buf.Write(b)
}

func (w *pcapWriter) bytes() []byte { return w.buf.Bytes() }

// tcp writes one Ethernet/IPv4/TCP frame (checksums left zero: tshark does
// not validate them by default).
func (w *pcapWriter) tcp(src, dst [4]byte, sport, dport uint16, seq, ack uint32, flags byte, payload []byte) {
	b := make([]byte, 14+20+20+len(payload))
	copy(b[0:6], []byte{2, 0, 0, 0, 0, 2})
	copy(b[6:12], []byte{2, 0, 0, 0, 0, 1})
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
	w.frame(b)
}

// tcpConnection writes a three-way handshake and the client's data, cut
// into segments at the given offsets, each acknowledged by the server.
func (w *pcapWriter) tcpConnection(t testing.TB, i int, dport uint16, data []byte, cuts []int) {
	const syn, ack, psh = 0x02, 0x10, 0x08
	cl := [4]byte{198, 51, 100, byte(1 + i%250)}
	sv := [4]byte{192, 0, 2, 1}
	sport := uint16(40000 + i)
	cseq, sseq := uint32(1000*i+1), uint32(7_000_000+i)
	w.tcp(cl, sv, sport, dport, cseq, 0, syn, nil)
	w.tcp(sv, cl, dport, sport, sseq, cseq+1, syn|ack, nil)
	cseq++
	sseq++
	w.tcp(cl, sv, sport, dport, cseq, sseq, ack, nil)
	prev := 0
	for _, cut := range append(cuts, len(data)) {
		if cut <= prev || cut > len(data) {
			t.Fatalf("bad cut %d after %d of %d", cut, prev, len(data))
		}
		seg := data[prev:cut]
		w.tcp(cl, sv, sport, dport, cseq, sseq, ack|psh, seg)
		cseq += uint32(len(seg))
		w.tcp(sv, cl, dport, sport, sseq, cseq, ack, nil)
		prev = cut
	}
}
