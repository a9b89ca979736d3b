package main

import (
	"encoding/binary"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/wringcap/wring/internal/quicgen"
)

// datagrams splits a quicgen pcap (Ethernet, IPv4, UDP) into UDP payloads
// and a flow key per datagram.
func datagrams(t testing.TB, file []byte) (payloads [][]byte, flows []uint32) {
	t.Helper()
	b := file[24:]
	for len(b) >= 16 {
		n := int(binary.LittleEndian.Uint32(b[8:]))
		f := b[16 : 16+n]
		b = b[16+n:]
		payloads = append(payloads, f[42:])
		flows = append(flows, binary.BigEndian.Uint32(f[26:])*2654435761+uint32(binary.BigEndian.Uint16(f[34:])))
	}
	return payloads, flows
}

// genSet returns a generated set with its datagrams.
func genSet(t testing.TB, n int, seed uint64, vers int) ([]quicgen.Conn, [][]byte, []uint32) {
	t.Helper()
	w, conns, err := quicgen.Set(n, seed, vers)
	if err != nil {
		t.Fatal(err)
	}
	d, f := datagrams(t, w.Bytes())
	return conns, d, f
}

// TestTrackerGeneratedSet decodes a generated set (v1 and v2, split,
// reordered, coalesced, retransmitted) and checks every ClientHello is
// reported once, on the datagram that completes it, with the fields put
// in.
func TestTrackerGeneratedSet(t *testing.T) {
	conns, dgrams, flows := genSet(t, 60, 1, 4)
	tr := NewTracker()
	byFrame := map[int]int{}
	for i, c := range conns {
		byFrame[c.Frame] = i
	}
	seen := 0
	multi := 0
	for i, d := range dgrams {
		reps := tr.Datagram(flows[i], d, false)
		for _, r := range reps {
			ci, ok := byFrame[i+1]
			if !ok {
				t.Fatalf("frame %d: a report where none was expected", i+1)
			}
			c := conns[ci]
			h := r.Hello
			if string(h.sni) != c.SNI || h.hasSNI != (c.SNI != "") {
				t.Errorf("conn %d: sni %q, want %q", ci, h.sni, c.SNI)
			}
			if got := string(appendALPN(nil, h.alpn)); got != strings.Join(c.ALPN, ",") {
				t.Errorf("conn %d: alpn %q, want %q", ci, got, strings.Join(c.ALPN, ","))
			}
			if string(r.DCID.bytes()) != string(c.DCID) || string(r.SCID.bytes()) != string(c.SCID) || r.Version != c.Version {
				t.Errorf("conn %d: ids or version differ", ci)
			}
			if int(r.Packets) != c.Packets {
				t.Errorf("conn %d: %d packets, want %d", ci, r.Packets, c.Packets)
			}
			if got := string(appendVersions(nil, h.versions)); got != "TLS1.3" || h.malformed {
				t.Errorf("conn %d: versions %q malformed %v", ci, got, h.malformed)
			}
			if c.Packets > 1 {
				multi++
			}
			seen++
		}
	}
	if seen != len(conns) {
		t.Fatalf("%d ClientHellos reported, want %d; stats %+v", seen, len(conns), tr.Stats)
	}
	if multi < len(conns)/2 {
		t.Fatalf("only %d of %d ClientHellos span several packets: the generator is not exercising reassembly", multi, len(conns))
	}
	if tr.Stats.Undecryptable != 0 || tr.Stats.Malformed != 0 {
		t.Fatalf("stats %+v", tr.Stats)
	}
	t.Logf("%d ClientHellos from %d datagrams, %d over several packets; %+v", seen, len(dgrams), multi, tr.Stats)
}

// TestDatagramAllocs shows the hot path allocates nothing: new
// connections (key derivation, decryption, reassembly, ClientHello
// parsing) and known ones alike.
func TestDatagramAllocs(t *testing.T) {
	_, dgrams, flows := genSet(t, 150, 2, 3)
	tr := NewTracker()
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		tr.Datagram(flows[i%len(dgrams)], dgrams[i%len(dgrams)], false)
		i++
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per datagram", allocs)
	}
	if tr.Stats.Hellos == 0 || tr.Stats.Initials < 1000 {
		t.Fatalf("the loop did not decode: %+v", tr.Stats)
	}
}

// BenchmarkDatagram measures the decoder compiled natively on the capture
// BenchmarkQUIC (analyzers/e2e) runs through the host: 200 connections,
// 393 datagrams of client Initials. The anchor, in the same run, is the
// standard library (crypto/hkdf, AES-GCM with the CPU's AES instructions)
// deriving the keys and decrypting each datagram's first Initial.
func BenchmarkDatagram(b *testing.B) {
	_, dgrams, flows := genSet(b, 200, 7, 4)
	b.Run("decoder", func(b *testing.B) {
		tr := NewTracker()
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			tr.Datagram(flows[i%len(dgrams)], dgrams[i%len(dgrams)], false)
		}
	})
	b.Run("stdlib_decrypt", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := quicgen.Open(dgrams[i%len(dgrams)]); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestRealClientInitial decodes the first client Initial of the tcpdump
// corpus's quic_handshake.pcap (kept as a fuzz seed), written by another
// implementation: tshark reports the server name localhost and ALPN h3.
func TestRealClientInitial(t *testing.T) {
	d := seedDatagram(t, "corpus-quic_handshake-1")
	tr := NewTracker()
	reps := tr.Datagram(1, d, false)
	if len(reps) != 1 {
		t.Fatalf("%d reports, stats %+v", len(reps), tr.Stats)
	}
	h := reps[0].Hello
	if string(h.sni) != "localhost" || string(appendALPN(nil, h.alpn)) != "h3" || h.maxVersion() != 0x0304 {
		t.Fatalf("sni %q alpn %q version %#x", h.sni, appendALPN(nil, h.alpn), h.maxVersion())
	}
}

// seedDatagram reads a FuzzDatagram seed file's payload.
func seedDatagram(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/fuzz/FuzzDatagram/" + name)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	d, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")"))
	if err != nil {
		t.Fatal(err)
	}
	return []byte(d)
}

// TestRetryNotReportedTwice replays quic_retry.pcap's first three
// datagrams: the ClientHello, the server's Retry, and the ClientHello sent
// again to the Retry's connection id with its 128-byte token. The second
// decrypts (its long header fits) and is counted as repeated, not
// reported, as tshark reports the first only.
func TestRetryNotReportedTwice(t *testing.T) {
	tr := NewTracker()
	var n []int
	for i := 1; i <= 3; i++ {
		n = append(n, len(tr.Datagram(1, seedDatagram(t, "corpus-quic_retry-"+strconv.Itoa(i)), false)))
	}
	s := tr.Stats
	if n[0] != 1 || n[1] != 0 || n[2] != 0 || s.Initials != 2 || s.Retries != 1 || s.RepeatedHellos != 1 || s.Malformed != 0 {
		t.Fatalf("reports %v, stats %+v", n, s)
	}
}
