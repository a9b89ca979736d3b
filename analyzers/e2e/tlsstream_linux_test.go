package e2e_test

import (
	"context"
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
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/internal/netns"
)

// TestTLSStreamAgainstTsharkLive captures real handshakes on a veth pair
// between two network namespaces the test creates (MTU 576 and no
// segmentation offloads, so TCP segments are at most 536 bytes on the
// wire), runs the capture through the analyzer in stream mode and compares
// with tshark. The clients (Go crypto/tls, and openssl s_client when
// installed) send:
//
//   - pq: Go's default ClientHello, with a post-quantum key share
//     (X25519MLKEM768) that makes it over 1,200 bytes: three segments;
//   - hdrsplit: the same, its first write cut after 3 bytes, inside the
//     record header (and then cut by the MSS);
//   - alpn: 30 ALPN values, cut after the record header's first byte;
//   - tls12: TLS 1.2 only, whose ServerHello carries ALPN;
//   - hrr: a key share the server does not take, so the server answers
//     with a HelloRetryRequest and the client sends a second ClientHello;
//   - openssl: OpenSSL's s_client.
//
// tshark must show that the hellos span segments; then every hello tshark
// dissects must be reported on the same frame with the same fields, with
// no difference at all.
func TestTLSStreamAgainstTsharkLive(t *testing.T) {
	needTshark(t)
	if _, err := exec.LookPath("tcpdump"); err != nil {
		corpus.Unavailable(t, "tcpdump is not installed")
	}
	p := netns.New(t, 1)
	a, _, err := p.AddAddresses(61)
	if err != nil {
		t.Fatal(err)
	}
	for _, end := range [][2]string{{p.NSA, p.IfA}, {p.NSB, p.IfB}} {
		if out, err := exec.Command("ip", "-n", end[0], "link", "set", end[1], "mtu", "576").CombinedOutput(); err != nil {
			t.Fatalf("mtu: %v %s", err, out)
		}
		// Without offloads the sender's stack cuts segments to the MSS
		// and the capture sees them as sent.
		if out, err := exec.Command("ip", "netns", "exec", end[0], "ethtool", "-K", end[1], "tso", "off", "gso", "off", "gro", "off").CombinedOutput(); err != nil {
			t.Logf("ethtool -K %s: %v %s (the segment check below decides)", end[1], err, strings.TrimSpace(string(out)))
		}
	}
	file := filepath.Join(t.TempDir(), "live.pcap")
	capt, err := netns.StartCapture("tcpdump", p.NSA, []string{"tcpdump", "-i", p.IfA, "-n", "-U", "--immediate-mode", "-w", file, "tcp"})
	if err != nil {
		t.Fatal(err)
	}
	cert := liveCert(t)
	// Port 4443: X25519MLKEM768, X25519 or P-256; port 4444: P-256 only,
	// for the HelloRetryRequest.
	var lns [2]net.Listener
	var wg sync.WaitGroup
	for i, curves := range [][]tls.CurveID{nil, {tls.CurveP256}} {
		scfg := &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"},
			CurvePreferences: curves, SessionTicketsDisabled: true}
		if err := netns.Do(p.NSA, func() error {
			var err error
			lns[i], err = net.Listen("tcp", fmt.Sprintf("%s:%d", a, 4443+i))
			return err
		}); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			liveServe(lns[i], scfg)
		}()
	}
	type client struct {
		name  string
		port  int
		cfg   *tls.Config
		split int // cut the first write after this many bytes (0: no cut)
	}
	var alpn []string
	for i := range 30 {
		alpn = append(alpn, fmt.Sprintf("proto-%02d", i))
	}
	clients := []client{
		{"pq", 4443, &tls.Config{ServerName: "pq.wring.test", NextProtos: []string{"h2", "http/1.1"}}, 0},
		{"hdrsplit", 4443, &tls.Config{ServerName: "hdrsplit.wring.test", NextProtos: []string{"h2"}}, 3},
		{"alpn", 4443, &tls.Config{ServerName: "alpn.wring.test", NextProtos: append(alpn, "http/1.1")}, 1},
		{"tls12", 4443, &tls.Config{ServerName: "tls12.wring.test", NextProtos: []string{"http/1.1"}, MaxVersion: tls.VersionTLS12}, 0},
		{"hrr", 4444, &tls.Config{ServerName: "hrr.wring.test", CurvePreferences: []tls.CurveID{tls.X25519, tls.CurveP256}}, 0},
	}
	for _, c := range clients {
		c.cfg.InsecureSkipVerify = true
		if err := netns.Do(p.NSB, func() error { return liveClient(fmt.Sprintf("%s:%d", a, c.port), c.cfg, c.split) }); err != nil {
			t.Fatalf("client %s: %v", c.name, err)
		}
	}
	openssl := false
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Log("openssl is not installed: the openssl s_client handshake is left out")
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		cmd := exec.CommandContext(ctx, "ip", "netns", "exec", p.NSB, "openssl", "s_client", "-connect", fmt.Sprintf("%s:4443", a),
			"-servername", "openssl.wring.test", "-alpn", "h2,http/1.1", "-brief")
		cmd.Stdin = strings.NewReader("")
		out, err := cmd.CombinedOutput()
		cancel()
		if err != nil || !strings.Contains(string(out), "Protocol version") {
			t.Fatalf("openssl s_client: %v\n%s", err, out)
		}
		openssl = true
	}
	time.Sleep(200 * time.Millisecond) // the last FINs
	if _, err := capt.Stop(); err != nil {
		t.Fatal(err)
	}
	for _, ln := range lns {
		ln.Close()
	}
	wg.Wait()

	c, err := corpus.ReadCapture(file)
	if err != nil {
		t.Fatal(err)
	}
	// The capture holds what the test meant: hellos over several segments
	// (tshark reassembled them), and first segments of 3 and 1 bytes.
	segs := liveSegmentCounts(t, file)
	spanning := 0
	for _, n := range segs {
		if n >= 2 {
			spanning++
		}
	}
	short := map[int]int{}
	for i := 1; i <= len(c.Packets); i++ {
		if b := payloadOf(c, i); (len(b) == 1 || len(b) == 3) && b[0] == 22 {
			short[len(b)]++
		}
	}
	t.Logf("%d frames; ClientHello segment counts (tshark): %v; first segments of 1 and 3 bytes: %d, %d", len(c.Packets), segs, short[1], short[3])
	if spanning < 3 || short[1] != 1 || short[3] != 1 {
		t.Fatalf("the capture does not hold what the test needs: %d ClientHellos over several segments (want 3 or more), %d and %d split record headers (want 1 and 1)",
			spanning, short[1], short[3])
	}
	r, cs := tlsStreamCompare(t, file, c, "tcp.port==4443,tls", "tcp.port==4444,tls")
	tlsStreamReport(t, "tls-stream/live", r, cs)
	// Five Go handshakes, one retried: 6 ClientHellos and 6 ServerHellos
	// (the retry request is one); OpenSSL's adds one of each. No
	// difference.
	want := 12
	if openssl {
		want += 2
	}
	if r.agree != want || len(r.explained) != 0 {
		t.Fatalf("%d hellos agree, want %d; explained differences %v", r.agree, want, r.explained)
	}
	if cs["hello_retries"] != 1 || cs["server_hellos"] != uint64(want/2) || cs["client_hellos"] != uint64(want/2) {
		t.Fatalf("counters %v", cs)
	}
}

// liveSegmentCounts returns tshark's tcp.segment.count of each frame with a
// ClientHello (1 when it was not reassembled).
func liveSegmentCounts(t *testing.T, file string) []int {
	out, err := exec.Command("tshark", "-r", file, "-d", "tcp.port==4443,tls", "-d", "tcp.port==4444,tls",
		"-Y", "tls.handshake.type == 1", "-T", "fields", "-e", "frame.number", "-e", "tcp.segment.count").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	var n []int
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		_, count, _ := strings.Cut(l, "\t")
		k := 1
		if count != "" {
			fmt.Sscan(count, &k)
		}
		n = append(n, k)
	}
	return n
}

// liveServe answers TLS connections until ln is closed: a handshake, one
// line read and answered.
func liveServe(ln net.Listener, cfg *tls.Config) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(10 * time.Second))
			s := tls.Server(conn, cfg)
			if s.Handshake() != nil {
				return
			}
			buf := make([]byte, 5)
			if _, err := io.ReadFull(s, buf); err == nil {
				s.Write([]byte("pong\n"))
			}
			s.Close()
		}()
	}
}

// splitConn cuts its first write after split bytes, pausing between the
// parts so that they leave in separate segments (Go sets TCP_NODELAY).
type splitConn struct {
	net.Conn
	split int
	done  bool
}

func (c *splitConn) Write(b []byte) (int, error) {
	if c.done || c.split <= 0 || len(b) <= c.split {
		return c.Conn.Write(b)
	}
	c.done = true
	n, err := c.Conn.Write(b[:c.split])
	if err != nil {
		return n, err
	}
	time.Sleep(30 * time.Millisecond)
	m, err := c.Conn.Write(b[c.split:])
	return n + m, err
}

// liveClient makes one TLS connection: handshake, a line, the answer.
func liveClient(addr string, cfg *tls.Config, split int) error {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	c := tls.Client(&splitConn{Conn: conn, split: split}, cfg)
	if err := c.Handshake(); err != nil {
		return err
	}
	if _, err := c.Write([]byte("ping\n")); err != nil {
		return err
	}
	buf := make([]byte, 5)
	if _, err := io.ReadFull(c, buf); err != nil {
		return err
	}
	return c.Close()
}

// liveCert returns a self-signed ECDSA certificate.
func liveCert(t *testing.T) tls.Certificate {
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
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
