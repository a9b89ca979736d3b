package ipfix

import (
	"errors"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/wringcap/wring/internal/nfcapd"
)

// startNfcapd starts nfdump's collector, or skips (fails in CI) when it is
// not installed.
func startNfcapd(t *testing.T) *nfcapd.Collector {
	c, err := nfcapd.Start(t.TempDir())
	if errors.Is(err, nfcapd.ErrMissing) && os.Getenv("CI") != "true" {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestNfcapd sends records of both families, with and without analyzer
// strings, to nfcapd and compares what nfdump lists.
func TestNfcapd(t *testing.T) {
	col := startNfcapd(t)
	x, err := New(Config{Network: "udp", Addr: "127.0.0.1:" + itoa(col.Port), Wait: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	base := int64(1767225600123000000)
	var recs []Record
	for i := range 500 {
		r := Record{Src: netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), Dst: netip.MustParseAddr("192.0.2.80"),
			SrcPort: uint16(1024 + i), DstPort: 80, Proto: 6, TCPFlags: 0x1b, VLAN: uint16(i % 4095), IfIndex: uint32(i % 7),
			First: base + int64(i)*1e6, Last: base + int64(i)*1e6 + 2500e6, Packets: uint64(i + 1), Bytes: uint64(60 * (i + 1)), EndReason: EndOfFlow}
		switch i % 4 {
		case 1:
			r.Src, r.Dst = netip.MustParseAddr("2001:db8::1"), netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: byte(i)})
			r.Proto, r.TCPFlags = 17, 0
		case 2:
			r.Host, r.SNI = "www.example.com", "www.example.com"
		case 3:
			r.QName = "a-rather-long-name.example.org"
		}
		recs = append(recs, r)
	}
	for i := range recs {
		x.Export(&recs[i])
	}
	x.Close()
	if c := x.Counters(); c.Exported != 500 {
		t.Fatalf("exporter: %v", c)
	}
	time.Sleep(200 * time.Millisecond)
	flows, err := col.Stop()
	if err != nil {
		t.Fatal(err)
	}
	if len(flows) != len(recs) {
		t.Fatalf("nfdump lists %d flows, %d exported\n%s", len(flows), len(recs), col.Log())
	}
	for i, f := range flows {
		r := recs[i]
		if f.Src != r.Src || f.Dst != r.Dst || f.SrcPort != r.SrcPort || f.DstPort != r.DstPort || f.Proto != r.Proto ||
			f.Packets != r.Packets || f.Bytes != r.Bytes || f.First != r.First/1e6 || f.Last != r.Last/1e6 ||
			f.IfIndex != r.IfIndex || f.VLAN != r.VLAN || f.TCPFlags != nfcapd.Flags(r.TCPFlags) {
			t.Fatalf("flow %d: nfdump %+v, exported %+v", i, f, r)
		}
	}
}

func itoa(n int) string {
	b := []byte{}
	for {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
		if n == 0 {
			return string(b)
		}
	}
}
