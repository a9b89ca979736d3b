package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// got is one hello a tracker reported, copied out.
type got struct {
	client    bool
	sni       string
	alpn      string
	versions  string
	version   uint16
	cipher    uint16
	retry     bool
	partial   bool
	malformed bool
}

func (g got) String() string {
	return fmt.Sprintf("client=%v sni=%q alpn=%q versions=%q version=%#x cipher=%#x retry=%v partial=%v malformed=%v",
		g.client, g.sni, g.alpn, g.versions, g.version, g.cipher, g.retry, g.partial, g.malformed)
}

type collector struct{ got []got }

func (c *collector) ClientHello(h *Hello) {
	v, _ := h.OfferedVersion()
	c.got = append(c.got, got{client: true, sni: string(h.SNI), alpn: string(AppendALPN(nil, h.ALPN)),
		versions: versionList(*h), version: v, partial: h.Partial, malformed: h.Malformed})
}

func (c *collector) ServerHello(s *ServerHello) {
	c.got = append(c.got, got{sni: "", alpn: string(s.ALPN), version: s.Version(), cipher: s.Cipher,
		retry: s.Retry, partial: s.Partial, malformed: s.Malformed})
}

var (
	certOnce sync.Once
	cert     tls.Certificate
)

// testCert returns a self-signed ECDSA certificate for "wring.test".
func testCert(t testing.TB) tls.Certificate {
	certOnce.Do(func() {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "wring.test"},
			DNSNames: []string{"wring.test"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			t.Fatal(err)
		}
		cert = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	})
	return cert
}

// recConn records what passes through a connection.
type recConn struct {
	net.Conn
	mu        sync.Mutex
	in, out   bytes.Buffer
	readDone  bool
	writeDone bool
}

func (c *recConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.mu.Lock()
	c.in.Write(b[:n])
	c.mu.Unlock()
	return n, err
}

func (c *recConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	c.out.Write(b)
	c.mu.Unlock()
	return c.Conn.Write(b)
}

// handshake runs a crypto/tls handshake and returns the bytes each side
// sent: the client's and the server's streams.
func handshake(t testing.TB, ccfg, scfg *tls.Config) (client, server []byte) {
	t.Helper()
	c, s := net.Pipe()
	rs := &recConn{Conn: s}
	deadline := time.Now().Add(10 * time.Second)
	c.SetDeadline(deadline)
	s.SetDeadline(deadline)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		sv := tls.Server(rs, scfg)
		sv.Handshake()
		// Read the client's application data so its write completes.
		buf := make([]byte, 64)
		sv.Read(buf)
		sv.Close()
	}()
	cl := tls.Client(c, ccfg)
	if err := cl.Handshake(); err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, cl) // the server's close_notify; net.Pipe does not buffer
	cl.Write([]byte("hello"))
	wg.Wait()
	c.Close()
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return bytes.Clone(rs.in.Bytes()), bytes.Clone(rs.out.Bytes())
}

func serverConfig(t testing.TB) *tls.Config {
	// No session tickets: net.Pipe is synchronous and the client reads
	// nothing after the handshake.
	return &tls.Config{Certificates: []tls.Certificate{testCert(t)}, NextProtos: []string{"h2", "http/1.1"}, SessionTicketsDisabled: true}
}

// feed hands a flow's two streams to a new tracker, each cut at the given
// offsets, the client's chunks before the server's, and ends the flow.
func feed(streams [2][]byte, cuts [2][]int) (*collector, *Tracker) {
	c := &collector{}
	t := NewTracker(16, c)
	t.Start(7)
	for dir, b := range streams {
		prev := 0
		for _, cut := range append(cuts[dir], len(b)) {
			if cut <= prev || cut > len(b) {
				continue
			}
			t.Data(7, dir, uint64(prev), b[prev:cut])
			prev = cut
		}
	}
	t.End(7)
	return c, t
}

// TestTrackerEveryCut cuts a real handshake's client stream (a ClientHello
// with a post-quantum key share, over 1,200 bytes) at every offset of its
// first 1,300 bytes and the server stream at every offset of its first 300,
// headers included: every cut yields the same ClientHello and ServerHello,
// whole.
func TestTrackerEveryCut(t *testing.T) {
	ccfg := &tls.Config{ServerName: "wring.test", InsecureSkipVerify: true, NextProtos: []string{"h2", "http/1.1"}}
	cs, ss := handshake(t, ccfg, serverConfig(t))
	if int(cs[3])<<8|int(cs[4]) < 1200 {
		t.Fatalf("ClientHello record of %d bytes: want a post-quantum key share (over 1200)", int(cs[3])<<8|int(cs[4]))
	}
	want, tr := feed([2][]byte{cs, ss}, [2][]int{})
	if len(want.got) != 2 || tr.Stats.ClientHellos != 1 || tr.Stats.ServerHellos != 1 {
		t.Fatalf("whole streams: %v, %+v", want.got, tr.Stats)
	}
	c, s := want.got[0], want.got[1]
	if c.sni != "wring.test" || c.alpn != "h2,http/1.1" || c.version != 0x0304 || c.partial || c.malformed {
		t.Fatalf("ClientHello %v", c)
	}
	// TLS 1.3 sends the chosen protocol in EncryptedExtensions.
	if s.alpn != "" || s.version != 0x0304 || s.cipher>>8 != 0x13 || s.partial || s.malformed || s.retry {
		t.Fatalf("ServerHello %v", s)
	}
	for dir, n := range []int{1300, 300} {
		for cut := 1; cut < n; cut++ {
			var cuts [2][]int
			cuts[dir] = []int{cut, cut + 1 + cut%7}
			r, tr := feed([2][]byte{cs, ss}, cuts)
			if len(r.got) != 2 || r.got[0] != c || r.got[1] != s {
				t.Fatalf("dir %d cut at %d: %v", dir, cut, r.got)
			}
			if tr.Tracked() != 0 || tr.Lent() != 0 {
				t.Fatalf("dir %d cut at %d: %d flows, %d buffers left after the end", dir, cut, tr.Tracked(), tr.Lent())
			}
		}
	}
}

// refragmentStream splits every record of a plaintext stream prefix holding
// only handshake records into records of at most size bytes.
func refragmentStream(t testing.TB, b []byte, size int) []byte {
	var out []byte
	for len(b) >= recordHeader {
		l := int(b[3])<<8 | int(b[4])
		if b[0] != contentHandshak {
			return append(out, b...)
		}
		msg := b[recordHeader : recordHeader+l]
		for off := 0; off < len(msg); off += size {
			end := min(off+size, len(msg))
			out = append(out, b[0], b[1], b[2], byte((end-off)>>8), byte(end-off))
			out = append(out, msg[off:end]...)
		}
		b = b[recordHeader+l:]
	}
	return append(out, b...)
}

// TestTrackerFragmentedRecords: handshake messages spanning records (records
// of 1 to 300 bytes), cut into segments of 1 to 97 bytes.
func TestTrackerFragmentedRecords(t *testing.T) {
	ccfg := &tls.Config{ServerName: "frag.wring.test", InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}}
	cs, ss := handshake(t, ccfg, serverConfig(t))
	for _, size := range []int{1, 2, 3, 5, 64, 300} {
		fc, fs := refragmentStream(t, cs, size), refragmentStream(t, ss, size)
		for _, seg := range []int{1, 4, 97, 1 << 20} {
			var cuts [2][]int
			for dir, b := range [][]byte{fc, fs} {
				for off := seg; off < len(b); off += seg {
					cuts[dir] = append(cuts[dir], off)
				}
			}
			r, _ := feed([2][]byte{fc, fs}, cuts)
			if len(r.got) != 2 || r.got[0].sni != "frag.wring.test" || r.got[0].partial || r.got[1].version != 0x0304 || r.got[1].partial {
				t.Fatalf("records of %d, segments of %d: %v", size, seg, r.got)
			}
		}
	}
}

// TestTrackerTLS12 reads a TLS 1.2 handshake: ServerHello without
// supported_versions; the client direction continues past its hello
// (ClientKeyExchange) until its ChangeCipherSpec.
func TestTrackerTLS12(t *testing.T) {
	ccfg := &tls.Config{ServerName: "old.wring.test", InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12, NextProtos: []string{"h2"}}
	cs, ss := handshake(t, ccfg, serverConfig(t))
	r, tr := feed([2][]byte{cs, ss}, [2][]int{{100}, {50}})
	if len(r.got) != 2 || r.got[0].sni != "old.wring.test" || r.got[0].version != 0x0303 || r.got[1].version != 0x0303 || r.got[1].alpn != "h2" {
		t.Fatalf("%v", r.got)
	}
	if tr.Stats.NotHello+tr.Stats.Malformed+tr.Stats.Gap+tr.Stats.Ended != 0 {
		t.Fatalf("%+v", tr.Stats)
	}
}

// TestTrackerGiveUps: each bound and loss is counted, and a hello cut by it
// is reported partial.
func TestTrackerGiveUps(t *testing.T) {
	ccfg := &tls.Config{ServerName: "gone.wring.test", InsecureSkipVerify: true}
	cs, _ := handshake(t, ccfg, serverConfig(t))
	hello := cs[:recordHeader+(int(cs[3])<<8|int(cs[4]))]

	t.Run("gap", func(t *testing.T) {
		c := &collector{}
		tr := NewTracker(4, c)
		tr.Start(1)
		tr.Data(1, 0, 0, hello[:300])
		tr.Gap(1, 0, 300, 100)
		tr.Data(1, 0, 400, hello[400:])
		tr.End(1)
		if len(c.got) != 1 || !c.got[0].partial || c.got[0].sni != "gone.wring.test" || tr.Stats.Gap != 1 || tr.Lent() != 0 {
			t.Fatalf("%v %+v", c.got, tr.Stats)
		}
	})
	t.Run("ended", func(t *testing.T) {
		c := &collector{}
		tr := NewTracker(4, c)
		tr.Start(1)
		tr.Data(1, 0, 0, hello[:3]) // inside the record header
		tr.Start(2)
		tr.Data(2, 0, 0, hello[:200])
		tr.End(1)
		tr.End(2)
		if len(c.got) != 1 || !c.got[0].partial || tr.Stats.Ended != 2 || tr.Lent() != 0 || tr.Tracked() != 0 {
			t.Fatalf("%v %+v", c.got, tr.Stats)
		}
	})
	t.Run("too_large", func(t *testing.T) {
		// A ClientHello declaring 20,000 bytes, in records of 16 KiB.
		body := make([]byte, 20000)
		copy(body, hello[recordHeader+handshakeHeader:])
		msg := append([]byte{1, 0, byte(len(body) >> 8), byte(len(body))}, body...)
		c := &collector{}
		tr := NewTracker(4, c)
		stream := refragmentStream(t, append([]byte{22, 3, 1, byte(len(msg) >> 8), byte(len(msg))}, msg...), 1<<14)
		tr.Data(1, 0, 0, stream)
		if len(c.got) != 1 || !c.got[0].partial || c.got[0].sni != "gone.wring.test" || tr.Stats.TooLarge != 1 {
			t.Fatalf("%v %+v", c.got, tr.Stats)
		}
	})
	t.Run("not_tls", func(t *testing.T) {
		c := &collector{}
		tr := NewTracker(4, c)
		tr.Start(1)
		tr.Data(1, 0, 0, []byte("GET / HTTP/1.1\r\n"))
		tr.Data(1, 1, 0, []byte{22, 3, 9, 0, 1}) // version 3.9: not a record header
		tr.Start(2)
		tr.Data(2, 0, 0, []byte{22, 3, 3, 0, 4, 11, 0, 0, 0}) // a Certificate first
		tr.End(1)
		tr.End(2)
		if len(c.got) != 0 || tr.Stats.NotTLS != 2 || tr.Stats.NotHello != 1 {
			t.Fatalf("%v %+v", c.got, tr.Stats)
		}
	})
	t.Run("malformed", func(t *testing.T) {
		c := &collector{}
		tr := NewTracker(4, c)
		// The hello's first record, then application data.
		tr.Data(1, 0, 0, append(refragmentStream(t, hello, 200)[:205], 23, 3, 3, 0, 10))
		if len(c.got) != 1 || !c.got[0].partial || !c.got[0].malformed || tr.Stats.Malformed != 1 {
			t.Fatalf("%v %+v", c.got, tr.Stats)
		}
	})
	t.Run("table_full", func(t *testing.T) {
		c := &collector{}
		tr := NewTracker(2, c)
		for id := uint64(1); id <= 3; id++ {
			tr.Start(id)
			tr.Data(id, 0, 0, hello)
		}
		tr.Data(9, 0, 5, hello[5:])
		// Flow 3's start and its chunk at offset 0 both find the table
		// full; flow 9's first chunk is at offset 5.
		if len(c.got) != 2 || tr.Stats.TableFull != 2 || tr.Stats.Unaligned != 1 {
			t.Fatalf("%v %+v", c.got, tr.Stats)
		}
	})
	t.Run("no_buffer", func(t *testing.T) {
		c := &collector{}
		tr := NewTracker(maxBuffers+2, c)
		for id := uint64(1); id <= maxBuffers+1; id++ {
			tr.Data(id, 0, 0, hello[:100])
		}
		if tr.Stats.NoBuffer != 1 || tr.Lent() != maxBuffers {
			t.Fatalf("%+v, %d lent", tr.Stats, tr.Lent())
		}
		for id := uint64(1); id <= maxBuffers+1; id++ {
			tr.End(id)
		}
		if tr.Lent() != 0 || tr.Tracked() != 0 || len(c.got) != maxBuffers {
			t.Fatalf("%d lent, %d tracked, %d reported", tr.Lent(), tr.Tracked(), len(c.got))
		}
	})
}

// TestTrackerTable inserts and removes flows in a pattern that wraps probe
// chains and checks every lookup against a map.
func TestTrackerTable(t *testing.T) {
	tr := NewTracker(1000, &collector{})
	live := map[uint64]bool{}
	x := uint64(1)
	for i := 0; i < 200000; i++ {
		x = x*6364136223846793005 + 1442695040888963407
		id := x>>50 | 1
		if live[id] {
			tr.End(id)
			delete(live, id)
		} else if len(live) < 1000 {
			tr.Start(id)
			live[id] = true
		}
		if i%1000 == 0 {
			for id := range live {
				if tr.lookup(id) == nil {
					t.Fatalf("step %d: flow %d lost", i, id)
				}
			}
			if tr.Tracked() != len(live) {
				t.Fatalf("step %d: %d tracked, %d live", i, tr.Tracked(), len(live))
			}
		}
	}
}

// TestTrackerAllocs: following handshakes, split or whole, allocates
// nothing once the collection buffers exist.
func TestTrackerAllocs(t *testing.T) {
	ccfg := &tls.Config{ServerName: "wring.test", InsecureSkipVerify: true, NextProtos: []string{"h2"}}
	cs, ss := handshake(t, ccfg, serverConfig(t))
	c := &countingReporter{}
	tr := NewTracker(1024, c)
	id := uint64(0)
	run := func() {
		id++
		tr.Start(id)
		tr.Data(id, 0, 0, cs[:2])
		tr.Data(id, 0, 2, cs[2:700])
		tr.Data(id, 0, 700, cs[700:])
		tr.Data(id, 1, 0, ss)
		tr.End(id)
	}
	run()
	if a := testing.AllocsPerRun(1000, run); a != 0 {
		t.Fatalf("%.1f allocations per handshake", a)
	}
	if c.n != 2*1002 { // AllocsPerRun runs it once more to warm up
		t.Fatalf("%d hellos reported, want %d", c.n, 2*1002)
	}
}

type countingReporter struct{ n int }

func (c *countingReporter) ClientHello(*Hello)       { c.n++ }
func (c *countingReporter) ServerHello(*ServerHello) { c.n++ }

// BenchmarkTrackerHandshake: one handshake's both hellos, the client's in
// three chunks, per op.
func BenchmarkTrackerHandshake(b *testing.B) {
	ccfg := &tls.Config{ServerName: "wring.test", InsecureSkipVerify: true, NextProtos: []string{"h2"}}
	cs, ss := handshake(b, ccfg, serverConfig(b))
	tr := NewTracker(1024, &countingReporter{})
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		id := uint64(i + 1)
		tr.Start(id)
		tr.Data(id, 0, 0, cs[:2])
		tr.Data(id, 0, 2, cs[2:700])
		tr.Data(id, 0, 700, cs[700:])
		tr.Data(id, 1, 0, ss)
		tr.End(id)
	}
}

// FuzzTracker reads its input as a sequence of chunks of a few flows (kind,
// flow, direction, offset rule, length, bytes) and checks that the tracker
// neither panics nor holds more than its bounds, and that ending every flow
// frees every entry and buffer.
func FuzzTracker(f *testing.F) {
	ccfg := &tls.Config{ServerName: "fuzz.wring.test", InsecureSkipVerify: true, NextProtos: []string{"h2"}}
	cs, ss := handshake(f, ccfg, serverConfig(f))
	seed := func(parts ...[]byte) []byte {
		var out []byte
		offs := [2]int{}
		for i, p := range parts {
			dir := i % 2
			out = append(out, 2, 1, byte(dir), 0, byte(len(p)>>8), byte(len(p)))
			out = append(out, p...)
			offs[dir] += len(p)
		}
		return out
	}
	f.Add(seed(cs[:3], ss[:100], cs[3:900], ss[100:], cs[900:]))
	f.Add(seed(cs[:1], ss[:1], cs[1:], ss[1:]))
	f.Add(append(seed(cs[:500]), 3, 1, 0, 0, 0, 50, 4, 1, 0, 0, 0, 0))
	f.Add([]byte{1, 1, 0, 0, 0, 0, 2, 1, 0, 0, 0, 5, 22, 3, 3, 0x40, 0})
	f.Fuzz(fuzzTracker)
}

func fuzzTracker(t *testing.T, in []byte) {
	const flows = 4
	tr := NewTracker(flows, &collector{})
	next := map[[2]uint64]uint64{}
	for len(in) >= 6 {
		kind, id, dir, rule := in[0]%4+1, uint64(in[1]%6+1), int(in[2]%2), in[3]
		n := min(int(in[4])<<8|int(in[5]), len(in)-6)
		data := in[6 : 6+n]
		in = in[6+n:]
		k := [2]uint64{id, uint64(dir)}
		off := next[k]
		if rule%8 == 7 {
			off += uint64(rule) // a discontinuity
		}
		switch kind {
		case 1:
			tr.Start(id)
		case 2:
			tr.Data(id, dir, off, data)
			next[k] = off + uint64(len(data))
		case 3:
			tr.Gap(id, dir, off, uint32(n))
			next[k] = off + uint64(n)
		case 4:
			tr.End(id)
			delete(next, [2]uint64{id, 0})
			delete(next, [2]uint64{id, 1})
		}
		if tr.Tracked() > flows || tr.Lent() > 2*flows || tr.Lent() > maxBuffers {
			t.Fatalf("%d flows, %d buffers lent", tr.Tracked(), tr.Lent())
		}
	}
	for id := uint64(1); id <= 6; id++ {
		tr.End(id)
	}
	if tr.Tracked() != 0 || tr.Lent() != 0 {
		t.Fatalf("%d flows, %d buffers left after every end", tr.Tracked(), tr.Lent())
	}
}

// TestParseServerHelloCut: a ServerHello cut anywhere is partial, never
// malformed, and keeps what precedes the cut.
func TestParseServerHelloCut(t *testing.T) {
	ccfg := &tls.Config{ServerName: "wring.test", InsecureSkipVerify: true, NextProtos: []string{"h2"}}
	_, ss := handshake(t, ccfg, serverConfig(t))
	if ss[0] != contentHandshak || ss[5] != typeServerHello {
		t.Fatalf("server stream starts % x", ss[:6])
	}
	l := int(ss[6])<<16 | int(ss[7])<<8 | int(ss[8])
	body := ss[9 : 9+l]
	var whole ServerHello
	parseServerHello(body, l, &whole)
	if whole.Partial || whole.Malformed || whole.Version() != 0x0304 || !whole.HasCipher {
		t.Fatalf("%+v", whole)
	}
	for cut := 0; cut < l; cut++ {
		var s ServerHello
		parseServerHello(body[:cut], l, &s)
		if !s.Partial || s.Malformed {
			t.Fatalf("cut at %d: %+v", cut, s)
		}
		if cut >= 2 && s.LegacyVersion != 0x0303 {
			t.Fatalf("cut at %d: legacy version %#x", cut, s.LegacyVersion)
		}
	}
	if !strings.Contains(string(AppendVersion(nil, whole.Version())), "TLS1.3") {
		t.Fatal(string(AppendVersion(nil, whole.Version())))
	}
}
