package main

import (
	"bytes"
	"crypto/tls"
	"net"
	"strings"
	"testing"
	"time"
)

// clientHello returns the first flight crypto/tls writes as a client: one
// handshake record holding its ClientHello.
func clientHello(t testing.TB, cfg *tls.Config) []byte {
	t.Helper()
	c, s := net.Pipe()
	defer s.Close()
	go func() {
		cl := tls.Client(c, cfg)
		cl.SetDeadline(time.Now().Add(5 * time.Second))
		cl.Handshake() // fails when the server side closes
		c.Close()
	}()
	s.SetDeadline(time.Now().Add(5 * time.Second))
	hdr := make([]byte, 5)
	if _, err := readFull(s, hdr); err != nil {
		t.Fatal(err)
	}
	body := make([]byte, int(hdr[3])<<8|int(hdr[4]))
	if _, err := readFull(s, body); err != nil {
		t.Fatal(err)
	}
	return append(hdr, body...)
}

func readFull(c net.Conn, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		k, err := c.Read(b[n:])
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func parseOne(t testing.TB, b []byte) (Result, Hello) {
	t.Helper()
	var out [maxHellos]Hello
	r := NewParser(maxRecord).Parse(b, out[:])
	if r.Hellos > 0 {
		return r, out[0]
	}
	return r, Hello{}
}

func versionList(h Hello) string {
	var b []byte
	for i, v := range h.Versions[:h.NVersions] {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendVersion(b, v)
	}
	return string(b)
}

// TestCryptoTLSClientHello checks the parser on ClientHellos written by Go's
// crypto/tls, whose contents the test chose.
func TestCryptoTLSClientHello(t *testing.T) {
	cases := []struct {
		cfg      *tls.Config
		sni      string
		alpn     string
		versions string
		max      uint16
	}{
		{&tls.Config{ServerName: "example.com", NextProtos: []string{"h2", "http/1.1"}}, "example.com", "h2,http/1.1", "TLS1.3,TLS1.2", 0x0304},
		{&tls.Config{ServerName: "a.b.c.test", MaxVersion: tls.VersionTLS12}, "a.b.c.test", "", "TLS1.2", 0x0303},
		{&tls.Config{ServerName: "old.test", MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}, "old.test", "", "TLS1.1,TLS1.0", 0x0302},
		// An IP address is not sent as a server name (RFC 6066 §3).
		{&tls.Config{ServerName: "192.0.2.1", NextProtos: []string{"x"}}, "", "x", "TLS1.3,TLS1.2", 0x0304},
	}
	for _, c := range cases {
		c.cfg.InsecureSkipVerify = true
		b := clientHello(t, c.cfg)
		r, h := parseOne(t, b)
		if !r.TLS || r.Hellos != 1 || r.Malformed || h.Partial || h.Malformed {
			t.Fatalf("%s: result %+v hello %+v", c.sni, r, h)
		}
		if string(h.SNI) != c.sni || h.HasSNI != (c.sni != "") {
			t.Errorf("sni %q (%v), want %q", h.SNI, h.HasSNI, c.sni)
		}
		if got := string(AppendALPN(nil, h.ALPN)); got != c.alpn || h.HasALPN != (c.alpn != "") {
			t.Errorf("%s: alpn %q, want %q", c.sni, got, c.alpn)
		}
		// crypto/tls sends supported_versions even when offering TLS 1.2 or
		// lower only? It does not below TLS 1.3; the legacy version then
		// carries the maximum.
		if got := versionList(h); h.HasVersions && got != c.versions {
			t.Errorf("%s: versions %q, want %q", c.sni, got, c.versions)
		}
		if h.MaxVersion() != c.max {
			t.Errorf("%s: max version %#x, want %#x", c.sni, h.MaxVersion(), c.max)
		}
		if h.RecordVersion != uint16(b[1])<<8|uint16(b[2]) || h.LegacyVersion != uint16(b[9])<<8|uint16(b[10]) {
			t.Errorf("%s: record %#x legacy %#x", c.sni, h.RecordVersion, h.LegacyVersion)
		}

		checkPrefixes(t, b, h)
		checkFragmented(t, b, h)
	}
}

// checkPrefixes parses every prefix of a whole ClientHello record: each must
// be partial (or not TLS, when shorter than a record header), never
// malformed, and report the server name either exactly or not at all.
func checkPrefixes(t *testing.T, b []byte, whole Hello) {
	t.Helper()
	sniSeen := false
	for n := 0; n < len(b); n++ {
		r, h := parseOne(t, b[:n])
		if n < recordHeader {
			if r.TLS || r.Hellos != 0 {
				t.Fatalf("prefix %d: %+v", n, r)
			}
			continue
		}
		if r.Malformed || h.Malformed {
			t.Fatalf("prefix %d of %d: malformed %+v", n, len(b), h)
		}
		if n >= recordHeader+handshakeHeader && (r.Hellos != 1 || !h.Partial) {
			t.Fatalf("prefix %d of %d: %d hellos, partial %v", n, len(b), r.Hellos, h.Partial)
		}
		if h.HasSNI {
			if !bytes.Equal(h.SNI, whole.SNI) {
				t.Fatalf("prefix %d: sni %q, whole %q", n, h.SNI, whole.SNI)
			}
			sniSeen = true
		} else if sniSeen {
			t.Fatalf("prefix %d: sni lost", n)
		}
	}
}

// checkFragmented splits the handshake message over records of every size
// from 1 byte and checks that the joined result is the same.
func checkFragmented(t *testing.T, b []byte, whole Hello) {
	t.Helper()
	msg := b[recordHeader:]
	for size := 1; size <= len(msg); size += 1 + size/4 {
		var rec []byte
		for off := 0; off < len(msg); off += size {
			end := min(off+size, len(msg))
			rec = append(rec, 22, b[1], b[2], byte((end-off)>>8), byte(end-off))
			rec = append(rec, msg[off:end]...)
		}
		r, h := parseOne(t, rec)
		if r.Hellos != 1 || h.Partial || h.Malformed || !bytes.Equal(h.SNI, whole.SNI) ||
			versionList(h) != versionList(whole) || !bytes.Equal(h.ALPN, whole.ALPN) {
			t.Fatalf("fragments of %d: %+v %+v", size, r, h)
		}
	}
}

// TestRecordsAroundHello puts other records before and after a ClientHello
// (a TLS 1.3 client's change_cipher_spec before its second ClientHello) and
// two ClientHellos in one payload.
func TestRecordsAroundHello(t *testing.T) {
	b := clientHello(t, &tls.Config{ServerName: "two.test", InsecureSkipVerify: true})
	ccs := []byte{20, 3, 3, 0, 1, 1}
	alert := []byte{21, 3, 3, 0, 2, 1, 0}
	payload := append(append(append(append([]byte{}, ccs...), b...), alert...), b...)
	var out [maxHellos]Hello
	r := NewParser(maxRecord).Parse(payload, out[:])
	if r.Hellos != 2 || r.Records != 4 || r.Malformed {
		t.Fatalf("%+v", r)
	}
	for _, h := range out[:2] {
		if string(h.SNI) != "two.test" || h.Partial {
			t.Fatalf("%+v", h)
		}
	}
	// Only as many as the caller has room for.
	if r := NewParser(maxRecord).Parse(payload, out[:1]); r.Hellos != 1 {
		t.Fatalf("%+v", r)
	}
}

// TestNotTLS checks payloads that must not be taken for TLS or must be
// flagged as malformed.
func TestNotTLS(t *testing.T) {
	good := clientHello(t, &tls.Config{ServerName: "x.test", InsecureSkipVerify: true})
	cases := []struct {
		name      string
		b         []byte
		tls       bool
		hellos    int
		malformed bool
	}{
		{"http", []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), false, 0, false},
		{"ssh", []byte("SSH-2.0-OpenSSH_9.2\r\n"), false, 0, false},
		{"version 2.0", []byte{22, 2, 0, 0, 4, 1, 0, 0, 0}, false, 0, false},
		{"version 3.5", []byte{22, 3, 5, 0, 4, 1, 0, 0, 0}, false, 0, false},
		{"too long", []byte{22, 3, 1, 0xff, 0xff, 1, 0, 0, 0}, false, 0, false},
		{"server hello", []byte{22, 3, 3, 0, 4, 2, 0, 0, 0}, true, 0, false},
		{"app data", []byte{23, 3, 3, 0, 3, 1, 2, 3}, true, 0, false},
		// The handshake message is longer than its records, and an alert
		// record follows: inconsistent.
		{"hello cut by alert", []byte{22, 3, 1, 0, 5, 1, 0, 0, 9, 3, 21, 3, 3, 0, 2, 1, 0}, true, 1, true},
		// Session id length 33 > 32 is still parsed; a cipher suite length
		// past the message is malformed.
		{"suites past message", append([]byte{22, 3, 1, 0, 43, 1, 0, 0, 39, 3, 3}, append(make([]byte, 33), 0xff, 0xff)...), true, 1, false},
		{"garbage after records", append(append([]byte{}, good...), 0x99, 0x99, 0x99, 0x99, 0x99, 0x99), true, 1, false},
	}
	for _, c := range cases {
		var out [maxHellos]Hello
		r := NewParser(maxRecord).Parse(c.b, out[:])
		if r.TLS != c.tls || r.Hellos != c.hellos || r.Malformed != c.malformed {
			t.Errorf("%s: %+v", c.name, r)
		}
		if c.name == "suites past message" && !out[0].Malformed {
			t.Errorf("%s: hello not malformed: %+v", c.name, out[0])
		}
	}
}

// TestHandshakeBufferBound checks that a handshake stream larger than the
// parser's buffer is cut, not grown.
func TestHandshakeBufferBound(t *testing.T) {
	b := clientHello(t, &tls.Config{ServerName: "bound.test", InsecureSkipVerify: true})
	p := NewParser(64)
	var out [1]Hello
	r := p.Parse(b, out[:])
	if r.Hellos != 1 || !out[0].Partial || cap(p.buf) != 64 {
		t.Fatalf("%+v %+v cap %d", r, out[0], cap(p.buf))
	}
}

func TestVersionNames(t *testing.T) {
	for v, want := range map[uint16]string{0x0300: "SSL3.0", 0x0301: "TLS1.0", 0x0304: "TLS1.3", 0x7f1c: "0x7f1c", 0x0a0a: "0x0a0a", 0xfeff: "0xfeff"} {
		if got := VersionName(v); got != want {
			t.Errorf("%#x: %q, want %q", v, got, want)
		}
	}
	if !grease(0x1a1a) || grease(0x1a2a) || grease(0x0303) {
		t.Error("grease")
	}
	if got := string(AppendALPN(nil, []byte{2, 'h', '2', 9, 'x'})); got != "h2" {
		t.Errorf("alpn %q", got)
	}
	h := Hello{LegacyVersion: 0x0303, HasVersions: true, NVersions: 3, Versions: [maxVersions]uint16{0x3a3a, 0x0304, 0x0303}}
	if h.MaxVersion() != 0x0304 {
		t.Errorf("max %#x", h.MaxVersion())
	}
}

func TestParseAllocatesNothing(t *testing.T) {
	b := clientHello(t, &tls.Config{ServerName: "alloc.test", NextProtos: []string{"h2"}, InsecureSkipVerify: true})
	p := NewParser(maxRecord)
	var out [maxHellos]Hello
	if n := testing.AllocsPerRun(100, func() { p.Parse(b, out[:]) }); n != 0 {
		t.Fatalf("%v allocations per parse", n)
	}
}

// FuzzParse checks that any payload parses within bounds: no panic, no more
// hellos than room, slices inside the payload or the buffer, and the
// server name printable-or-not but never longer than the input.
func FuzzParse(f *testing.F) {
	f.Add(clientHello(f, &tls.Config{ServerName: "fuzz.test", NextProtos: []string{"h2"}, InsecureSkipVerify: true}))
	f.Add(clientHello(f, &tls.Config{ServerName: "old.test", MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11, InsecureSkipVerify: true}))
	f.Add([]byte{22, 3, 1, 0, 5, 1, 0, 0, 9, 3, 21, 3, 3, 0, 2, 1, 0})
	f.Add([]byte{20, 3, 3, 0, 1, 1, 22, 3, 3, 0, 4, 1, 0, 0, 0})
	p := NewParser(4096)
	f.Fuzz(func(t *testing.T, b []byte) {
		var out [2]Hello
		r := p.Parse(b, out[:])
		if r.Hellos > len(out) || (!r.TLS && (r.Hellos != 0 || r.Records != 0)) {
			t.Fatalf("%+v", r)
		}
		if cap(p.buf) != 4096 {
			t.Fatalf("buffer grew to %d", cap(p.buf))
		}
		for _, h := range out[:r.Hellos] {
			if len(h.SNI) > len(b) || len(h.ALPN) > len(b) || h.NVersions > maxVersions {
				t.Fatalf("%+v", h)
			}
			_ = strings.ToValidUTF8(string(h.SNI), "")
			_ = AppendALPN(nil, h.ALPN)
		}
	})
}

// BenchmarkTLSParse measures Parse per packet on a crypto/tls ClientHello
// and on a payload that is not TLS.
func BenchmarkTLSParse(b *testing.B) {
	hello := clientHello(b, &tls.Config{ServerName: "bench.example.com", NextProtos: []string{"h2", "http/1.1"}, InsecureSkipVerify: true})
	for _, c := range []struct {
		name string
		b    []byte
	}{{"client_hello", hello}, {"http", []byte("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n")}} {
		b.Run(c.name+"/native", func(b *testing.B) {
			p := NewParser(maxRecord)
			var out [maxHellos]Hello
			b.ReportAllocs()
			for b.Loop() {
				p.Parse(c.b, out[:])
			}
		})
	}
}

// TestContinuationIsNotAHello: a handshake record that continues a
// fragmented message (its body is the middle of a ClientHello) and happens
// to start with byte 1, the ClientHello type, is not read as a ClientHello
// unless legacy_version 3.x follows.
func TestContinuationIsNotAHello(t *testing.T) {
	p := NewParser(1 << 16)
	out := make([]Hello, 4)
	for _, tc := range []struct {
		body  []byte
		hello bool
	}{
		{[]byte{1, 0x9c, 0x41, 0x07, 0xd2, 0x55, 0x10, 0x2a}, false}, // key-share bytes
		{[]byte{1, 0, 0, 40, 3, 3, 0, 0}, true},                      // a real start, cut
	} {
		payload := append([]byte{22, 3, 3, 0, byte(len(tc.body))}, tc.body...)
		r := p.Parse(payload, out)
		if (r.Hellos > 0) != tc.hello {
			t.Errorf("body % x: %d hellos, want hello %v", tc.body, r.Hellos, tc.hello)
		}
	}
}

// TestPartialHelloVersion is issue 15's reproducer: a ClientHello cut
// before its supported_versions extension must not report its
// legacy_version (TLS1.2) as the highest version offered. Every prefix of a
// TLS 1.3 ClientHello either reports TLS1.3 (supported_versions was seen)
// or says the version is not known.
func TestPartialHelloVersion(t *testing.T) {
	b := clientHello(t, &tls.Config{ServerName: "cut.test", MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS13})
	_, whole := parseOne(t, b)
	if v, ok := whole.OfferedVersion(); !ok || v != tls.VersionTLS13 || whole.LegacyVersion != tls.VersionTLS12 {
		t.Fatalf("whole hello: offered %#x %v, legacy %#x", v, ok, whole.LegacyVersion)
	}
	unknown, known := 0, 0
	for n := recordHeader + handshakeHeader + 2; n < len(b); n++ {
		_, h := parseOne(t, b[:n])
		v, ok := h.OfferedVersion()
		switch {
		case !ok:
			unknown++
			if h.HasVersions {
				t.Fatalf("prefix %d: supported_versions seen but version unknown", n)
			}
		case v == tls.VersionTLS13:
			known++
		default:
			t.Fatalf("prefix %d of %d: offered version %s (legacy %s)", n, len(b), VersionName(v), VersionName(h.LegacyVersion))
		}
	}
	if unknown == 0 || known == 0 {
		t.Fatalf("%d prefixes unknown, %d known: the cut never fell on both sides of supported_versions", unknown, known)
	}
	// A TLS 1.2-only hello that was cut reports unknown too: without the
	// rest, the extension may yet follow.
	old := clientHello(t, &tls.Config{ServerName: "old.test", MaxVersion: tls.VersionTLS12})
	cut := old[:recordHeader+handshakeHeader+2+32]
	if _, h := parseOne(t, cut); h.LegacyVersion != tls.VersionTLS12 || h.HasVersions || !h.Partial {
		t.Fatalf("cut TLS 1.2 hello: %+v", h)
	} else if v, ok := h.OfferedVersion(); ok {
		t.Fatalf("cut TLS 1.2 hello: version %s known", VersionName(v))
	}
	if _, h := parseOne(t, old); h.Partial {
		t.Fatalf("whole TLS 1.2 hello partial: %+v", h)
	} else if v, ok := h.OfferedVersion(); !ok || v != tls.VersionTLS12 {
		t.Fatalf("whole TLS 1.2 hello: %#x %v", v, ok)
	}
}
