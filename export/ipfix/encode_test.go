package ipfix

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
)

// TestTemplateLayout checks the template set byte by byte against the
// element numbers and lengths spec/IPFIX.md lists.
func TestTemplateLayout(t *testing.T) {
	want := strings.Join([]string{
		"0002", "00a4", // template set, 164 bytes
		"0100", "0010", // template 256, 16 fields
		"0008 0004", "000c 0004", "0007 0002", "000b 0002", "0004 0001", "0006 0002", "003a 0002", "000a 0004",
		"0098 0008", "0099 0008", "0002 0008", "0001 0008", "0088 0001",
		"8001 ffff 00007ed9", "8002 ffff 00007ed9", "8003 ffff 00007ed9",
		"0101", "0010", // template 257
		"001b 0010", "001c 0010", "0007 0002", "000b 0002", "0004 0001", "0006 0002", "003a 0002", "000a 0004",
		"0098 0008", "0099 0008", "0002 0008", "0001 0008", "0088 0001",
		"8001 ffff 00007ed9", "8002 ffff 00007ed9", "8003 ffff 00007ed9",
	}, "")
	want = strings.ReplaceAll(want, " ", "")
	if got := hex.EncodeToString(templateSet); got != want {
		t.Fatalf("template set:\n got %s\nwant %s", got, want)
	}
}

// TestRecordLayout checks one IPv4 message byte by byte.
func TestRecordLayout(t *testing.T) {
	e, err := NewEncoder(7, 0)
	if err != nil {
		t.Fatal(err)
	}
	r := Record{Src: netip.MustParseAddr("192.0.2.1"), Dst: netip.MustParseAddr("198.51.100.2"), SrcPort: 49152, DstPort: 80, Proto: 6,
		TCPFlags: 0x1b, VLAN: 20, IfIndex: 3, First: 1767225600123456789, Last: 1767225601999999999, Packets: 5, Bytes: 1234,
		EndReason: EndOfFlow, Host: "example.com"}
	if err := e.Add(&r); err != nil {
		t.Fatal(err)
	}
	msg := e.Finish(0x01020304)
	want := strings.ReplaceAll(strings.Join([]string{
		"000a 0058 01020304 00000000 00000007", // header: version 10, length 88, export time, sequence 0, domain 7
		"0100 0048",                            // data set for template 256, 72 bytes
		"c0000201 c6336402 c000 0050 06 001b 0014 00000003",
		"0000019b76daa87b", // 1767225600123 ms
		"0000019b76daafcf", // 1767225601999 ms
		"0000000000000005 00000000000004d2 03",
		"0b 6578616d706c652e636f6d", "00", "00", // host, empty qname and sni
	}, ""), " ", "")
	if got := hex.EncodeToString(msg); got != want {
		t.Fatalf("message:\n got %s\nwant %s", got, want)
	}
	if e.Sequence() != 1 {
		t.Fatalf("sequence after one record: %d, want 1", e.Sequence())
	}
}

// TestLongString checks the three-byte length form (RFC 7011 7) and the
// cut at the message size's bound.
func TestLongString(t *testing.T) {
	e, _ := NewEncoder(1, 0)
	long := strings.Repeat("a", 300)
	r := Record{Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2"), Host: long}
	if err := e.Add(&r); err != nil {
		t.Fatal(err)
	}
	msg := e.Finish(0)
	i := headerLen + setHeaderLen + fixedLen4
	if !bytes.Equal(msg[i:i+3], []byte{255, 1, 44}) {
		t.Fatalf("long length prefix % x, want ff 01 2c", msg[i:i+3])
	}
	small, _ := NewEncoder(1, MinMTU)
	r.Host = strings.Repeat("é", 100) // 200 bytes, over MinMTU's bound
	if err := small.Add(&r); err != nil {
		t.Fatal(err)
	}
	d := newDecoder()
	if m, err := d.decode(templateMessage(nil, 0, 0, 1)); err != nil || m.templates != 2 {
		t.Fatalf("template message: %v", err)
	}
	got, err := d.decode(small.Finish(0))
	if err != nil {
		t.Fatal(err)
	}
	h := got.records[0].Host
	if len(h) > small.MaxString() || !strings.HasPrefix(r.Host, h) || len(h)%2 != 0 || small.Truncated != 1 {
		t.Fatalf("cut host of %d bytes (max %d), truncated %d: %q", len(h), small.MaxString(), small.Truncated, h)
	}
}

// TestInvalid checks the records the encoder refuses.
func TestInvalid(t *testing.T) {
	e, _ := NewEncoder(1, 0)
	v4, v6 := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("2001:db8::1")
	for _, r := range []Record{
		{Dst: v4},
		{Src: v4, Dst: v6},
		{Src: v4, Dst: v4, First: -1},
		{Src: v4, Dst: v4, First: 10, Last: 9},
	} {
		if err := e.Add(&r); !errors.Is(err, ErrInvalidRecord) {
			t.Errorf("%+v: error %v, want ErrInvalidRecord", r, err)
		}
	}
	if e.Records() != 0 {
		t.Fatalf("%d records after invalid ones", e.Records())
	}
	for _, m := range []int{MinMTU - 1, MaxMTU + 1, -5} {
		if _, err := NewEncoder(0, m); err == nil {
			t.Errorf("mtu %d accepted", m)
		}
	}
}

func randomRecord(rng *rand.Rand) Record {
	var r Record
	if rng.IntN(2) == 0 {
		var a, b [4]byte
		for i := range a {
			a[i], b[i] = byte(rng.Uint32()), byte(rng.Uint32())
		}
		r.Src, r.Dst = netip.AddrFrom4(a), netip.AddrFrom4(b)
	} else {
		var a, b [16]byte
		for i := range a {
			a[i], b[i] = byte(rng.Uint32()), byte(rng.Uint32())
		}
		r.Src, r.Dst = netip.AddrFrom16(a), netip.AddrFrom16(b)
	}
	r.SrcPort, r.DstPort, r.Proto = uint16(rng.Uint32()), uint16(rng.Uint32()), uint8(rng.Uint32())
	r.TCPFlags, r.VLAN, r.IfIndex = uint8(rng.Uint32()), uint16(rng.Uint32()&0xfff), rng.Uint32()
	r.First = rng.Int64N(1 << 62)
	r.Last = r.First + rng.Int64N(1<<40)
	r.Packets, r.Bytes, r.EndReason = rng.Uint64(), rng.Uint64(), EndReason(1+rng.IntN(5))
	str := func() string {
		switch rng.IntN(4) {
		case 0:
			return ""
		case 1:
			return strings.Repeat("x", rng.IntN(300))
		}
		return "host" + strings.Repeat(".example", rng.IntN(10))
	}
	r.Host, r.QName, r.SNI = str(), str(), str()
	return r
}

// wantDecoded is what the decoder gives back for r: times in whole
// milliseconds, strings cut to max.
func wantDecoded(r Record, max int) Record {
	r.First = r.First / 1e6 * 1e6
	r.Last = r.Last / 1e6 * 1e6
	cut := func(s string) string {
		if len(s) <= max {
			return s
		}
		n := max
		for n > 0 && s[n]&0xc0 == 0x80 {
			n--
		}
		return s[:n]
	}
	r.Host, r.QName, r.SNI = cut(r.Host), cut(r.QName), cut(r.SNI)
	return r
}

// roundTrip encodes recs in as many messages as it takes, decodes them and
// compares, and checks the sequence numbers and message sizes.
func roundTrip(t testing.TB, mtu int, recs []Record) {
	e, err := NewEncoder(42, mtu)
	if err != nil {
		t.Fatal(err)
	}
	d := newDecoder()
	var got []Record
	var seq uint32
	emit := func() {
		msg := e.Finish(1)
		if len(msg) > e.MTU() {
			t.Fatalf("message of %d bytes over the mtu %d", len(msg), e.MTU())
		}
		m, err := d.decode(msg)
		if err != nil {
			t.Fatalf("decode: %v\n%x", err, msg)
		}
		if m.seq != seq || m.domain != 42 {
			t.Fatalf("sequence %d domain %d, want %d and 42", m.seq, m.domain, seq)
		}
		seq += uint32(len(m.records))
		got = append(got, m.records...)
	}
	e.Begin(true)
	for i := range recs {
		err := e.Add(&recs[i])
		if err == ErrMessageFull {
			emit()
			err = e.Add(&recs[i])
		}
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
	}
	emit()
	if len(got) != len(recs) {
		t.Fatalf("%d records decoded, %d encoded", len(got), len(recs))
	}
	for i := range recs {
		if w := wantDecoded(recs[i], e.MaxString()); got[i] != w {
			t.Fatalf("record %d:\n got %+v\nwant %+v", i, got[i], w)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, mtu := range []int{MinMTU, 576, DefaultMTU, 9000, MaxMTU} {
		recs := make([]Record, 2000)
		for i := range recs {
			recs[i] = randomRecord(rng)
		}
		roundTrip(t, mtu, recs)
	}
}

// FuzzRoundTrip encodes records built from the fuzzer's bytes, decodes them
// with the test decoder and compares.
func FuzzRoundTrip(f *testing.F) {
	f.Add(uint64(1), uint64(2), uint16(1400), uint8(3))
	f.Add(uint64(99), uint64(0), uint16(256), uint8(200))
	f.Add(uint64(0), uint64(7), uint16(65535), uint8(1))
	f.Fuzz(func(t *testing.T, s1, s2 uint64, mtu uint16, n uint8) {
		m := int(mtu)
		if m < MinMTU {
			m = MinMTU
		}
		rng := rand.New(rand.NewPCG(s1, s2))
		recs := make([]Record, int(n))
		for i := range recs {
			recs[i] = randomRecord(rng)
		}
		roundTrip(t, m, recs)
	})
}

// FuzzDecodeStrings round-trips arbitrary analyzer strings and ports.
func FuzzDecodeStrings(f *testing.F) {
	f.Add("example.com", "", "\xff\xfe", uint16(80), true)
	f.Add(strings.Repeat("é", 700), "a", "b", uint16(0), false)
	f.Fuzz(func(t *testing.T, host, qname, sni string, port uint16, v6 bool) {
		r := Record{Src: netip.MustParseAddr("192.0.2.1"), Dst: netip.MustParseAddr("192.0.2.2"), DstPort: port, Host: host, QName: qname, SNI: sni}
		if v6 {
			r.Src, r.Dst = netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("::ffff:1.2.3.4")
		}
		roundTrip(t, DefaultMTU, []Record{r, r})
	})
}

func TestAddAllocs(t *testing.T) {
	e, _ := NewEncoder(1, 0)
	r := Record{Src: netip.MustParseAddr("2001:db8::1"), Dst: netip.MustParseAddr("2001:db8::2"), SrcPort: 1, DstPort: 2, Packets: 1, Bytes: 60, SNI: "example.org"}
	allocs := testing.AllocsPerRun(1000, func() {
		if err := e.Add(&r); err == ErrMessageFull {
			e.Finish(0)
			e.Begin(false)
		}
	})
	if allocs != 0 {
		t.Fatalf("Add: %v allocations per record, want 0", allocs)
	}
}
