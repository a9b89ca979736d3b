package trafficgen

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/pcapgo"

	"github.com/wringcap/wring/internal/corpus"
)

// shape is what a test can tell about a frame from its bytes.
type shape struct {
	vlan, qinq, mpls, ipv4Opts, ipv6Ext, truncated bool
}

func shapeOf(p Packet) shape {
	var s shape
	d := p.Data
	s.truncated = uint32(len(d)) < p.WireLen
	et := binary.BigEndian.Uint16(d[12:])
	off := 14
	switch et {
	case 0x8100:
		s.vlan = true
		et, off = binary.BigEndian.Uint16(d[16:]), 18
	case 0x88a8:
		s.qinq = true
		et, off = binary.BigEndian.Uint16(d[20:]), 22
	case 0x8847:
		s.mpls = true
		for off+4 <= len(d) && d[off+2]&1 == 0 {
			off += 4
		}
		off += 4
		if off < len(d) {
			if d[off]>>4 == 4 {
				et = 0x0800
			} else {
				et = 0x86dd
			}
		}
	}
	if off < len(d) {
		switch et {
		case 0x0800:
			s.ipv4Opts = d[off]&0xf > 5
		case 0x86dd:
			if off+6 < len(d) {
				nh := d[off+6]
				s.ipv6Ext = nh == 0 || nh == 60
			}
		}
	}
	return s
}

// TestMix generates 100,000 packets and checks that every kind and every
// encapsulation is present in a useful share.
func TestMix(t *testing.T) {
	const n = 100_000
	g := New(Config{Seed: 7})
	kinds := map[Kind]int{}
	var vlan, qinq, mpls, opts, ext, trunc, pool192, pool6 int
	for range n {
		p := g.Next()
		if len(p.Data) < 42 || uint32(len(p.Data)) > p.WireLen {
			t.Fatalf("packet of %d bytes, wire length %d", len(p.Data), p.WireLen)
		}
		kinds[p.Kind]++
		s := shapeOf(p)
		for _, c := range []struct {
			on bool
			n  *int
		}{{s.vlan, &vlan}, {s.qinq, &qinq}, {s.mpls, &mpls}, {s.ipv4Opts, &opts}, {s.ipv6Ext, &ext}, {s.truncated, &trunc}} {
			if c.on {
				*c.n++
			}
		}
		if bytes.Contains(p.Data, []byte{192, 0, 2, 7}) {
			pool192++
		}
		if bytes.Contains(p.Data, []byte{0x20, 0x01, 0x0d, 0xb8}) {
			pool6++
		}
	}
	for _, k := range Kinds() {
		if kinds[k] < n/200 {
			t.Errorf("kind %v: %d packets, want at least %d", k, kinds[k], n/200)
		}
	}
	for name, c := range map[string]int{"802.1Q": vlan, "QinQ": qinq, "MPLS": mpls, "IPv4 options": opts,
		"IPv6 extension headers": ext, "truncated": trunc, "192.0.2.7": pool192, "2001:db8::/32": pool6} {
		if c < n/500 {
			t.Errorf("%s: %d packets, want at least %d", name, c, n/500)
		}
	}
	t.Logf("kinds %v; vlan %d qinq %d mpls %d ipv4-options %d ipv6-ext %d truncated %d; with 192.0.2.7 %d, 2001:db8:: %d",
		kinds, vlan, qinq, mpls, opts, ext, trunc, pool192, pool6)
}

// TestDeterministic checks that a seed always gives the same file and
// different seeds give different files.
func TestDeterministic(t *testing.T) {
	sum := func(seed int64) [32]byte {
		var b bytes.Buffer
		if err := Generate(&b, Config{Seed: seed, Count: 2000}); err != nil {
			t.Fatal(err)
		}
		return sha256.Sum256(b.Bytes())
	}
	if sum(1) != sum(1) {
		t.Fatal("seed 1 gave two different files")
	}
	if sum(1) == sum(2) {
		t.Fatal("seeds 1 and 2 gave the same file")
	}
}

// TestSnaplen checks that packets are cut to the file's snap length and
// that the pcap reads back with matching lengths.
func TestSnaplen(t *testing.T) {
	var b bytes.Buffer
	if err := Generate(&b, Config{Seed: 3, Count: 3000, Snaplen: 96, NoTruncate: true}); err != nil {
		t.Fatal(err)
	}
	r, err := pcapgo.NewReader(&b)
	if err != nil {
		t.Fatal(err)
	}
	if r.Snaplen() != 96 {
		t.Fatalf("snaplen %d", r.Snaplen())
	}
	cut, n := 0, 0
	for {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			break
		}
		n++
		if len(data) > 96 || ci.CaptureLength != len(data) || ci.Length < len(data) {
			t.Fatalf("packet %d: %d bytes, caplen %d, wirelen %d", n, len(data), ci.CaptureLength, ci.Length)
		}
		if ci.Length > len(data) {
			cut++
		}
	}
	if n != 3000 || cut == 0 {
		t.Fatalf("read %d packets, %d cut", n, cut)
	}
}

// TestTsharkDissects writes 20,000 packets without truncation and has
// tshark dissect them: every HTTP request and response, DNS query and
// response, TLS ClientHello (with its SNI) and SIP message the generator
// made must be recognised as such, and no frame may be malformed.
func TestTsharkDissects(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		corpus.Unavailable(t, "tshark is not installed")
	}
	const n = 20_000
	cfg := Config{Seed: 11, Count: n, NoTruncate: true}
	want := map[string]int{}
	g := New(cfg)
	for range n {
		want[g.Next().Kind.String()]++
	}
	path := filepath.Join(t.TempDir(), "mix.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := Generate(f, cfg); err != nil {
		t.Fatal(err)
	}
	f.Close()
	out, err := exec.Command("tshark", "-n", "-r", path, "-T", "fields", "-E", "separator=|",
		"-e", "http.request.method", "-e", "http.response.code", "-e", "dns.flags.response",
		"-e", "tls.handshake.extensions_server_name", "-e", "sip.Method", "-e", "sip.Status-Code",
		"-e", "_ws.malformed", "-e", "_ws.expert.severity").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	got := map[string]int{}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	for i, line := range lines {
		f := strings.Split(line, "|")
		if len(f) != 8 {
			t.Fatalf("frame %d: %q", i+1, line)
		}
		switch {
		case f[0] != "":
			got["http-request"]++
		case f[1] != "":
			got["http-response"]++
		case f[2] == "False" || f[2] == "0":
			got["dns-query"]++
		case f[2] == "True" || f[2] == "1":
			got["dns-response"]++
		case f[3] != "":
			got["tls-client-hello"]++
		case f[4] != "" || f[5] != "":
			got["sip"]++
		}
		if f[6] != "" {
			t.Errorf("frame %d is malformed for tshark: %q", i+1, line)
		}
	}
	if len(lines) != n {
		t.Fatalf("tshark read %d frames, want %d", len(lines), n)
	}
	for _, k := range []string{"http-request", "http-response", "dns-query", "dns-response", "tls-client-hello", "sip"} {
		if got[k] != want[k] || want[k] == 0 {
			t.Errorf("%s: tshark dissected %d, the generator made %d", k, got[k], want[k])
		}
	}
	t.Logf("tshark: %v", got)
}
