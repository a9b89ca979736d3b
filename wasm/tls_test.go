package wasm_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/spec"
)

// The bundled TLS analyzer (filters/tls) against Wireshark: for every frame,
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
	Ts                string
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
		ts, err := time.Parse(time.RFC3339Nano, e.Ts)
		if err != nil {
			t.Fatal(err)
		}
		n := int(ts.UnixNano())
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
	segments      []int  // frames of a reassembled ClientHello
	udp           bool
	recordVersion string
}

func tlsTshark(t testing.TB, file string) map[int]tlsFrame {
	t.Helper()
	cmd := exec.Command("tshark", "-r", file, "-Y", "tls.handshake.type == 1", "-T", "fields",
		"-e", "frame.number", "-e", "tls.handshake.extensions_server_name", "-e", "tls.handshake.type",
		"-e", "tls.handshake.extensions_alpn_str", "-e", "tls.handshake.version",
		"-e", "tls.handshake.extensions.supported_version", "-e", "tcp.segment", "-e", "udp.port",
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
		if c[6] != "" {
			for _, s := range strings.Split(c[6], ",") {
				k, _ := strconv.Atoi(s)
				f.segments = append(f.segments, k)
			}
		}
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
	h := bundledHost(t, "tls", ev)
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
		case len(f.segments) > 1:
			// The analyzer reports on the first segment, partial, with the
			// same name or none when the name is in a later segment.
			first := f.segments[0]
			fo := ours[first]
			cat := ""
			if len(fo) == 1 && fo[0].Partial && len(f.snis) == 1 && (fo[0].SNI == nil || *fo[0].SNI == f.snis[0]) {
				cat = tlsCatReasm
				handled[first] = true
			}
			res.add(cat, fmt.Sprintf("%s; ours on first segment %d: %q", detail, first, snisOf(fo)))
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
	path := mixedCapture(t, 5000)
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
