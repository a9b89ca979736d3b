package ipfix

import (
	"net"
	"testing"
)

// BenchmarkEncoderAdd encodes IPv4 and IPv6 records (a quarter of them with
// an analyzer string) into messages of the default size.
func BenchmarkEncoderAdd(b *testing.B) {
	recs := testRecords(1024)
	for i := range recs {
		if i%4 != 0 {
			recs[i].Host, recs[i].QName, recs[i].SNI = "", "", ""
		} else {
			recs[i].Host, recs[i].QName, recs[i].SNI = "www.example.com", "", ""
		}
	}
	e, _ := NewEncoder(1, 0)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := &recs[i&1023]
		if err := e.Add(r); err == ErrMessageFull {
			e.Finish(0)
			e.Add(r)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "flows/s")
}

// BenchmarkExportUDP runs records through an Exporter to a UDP socket of
// this process that reads and discards the datagrams.
func BenchmarkExportUDP(b *testing.B) {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	c.SetReadBuffer(16 << 20)
	go func() {
		buf := make([]byte, 65536)
		for {
			if _, err := c.Read(buf); err != nil {
				return
			}
		}
	}()
	defer c.Close()
	x, err := New(Config{Network: "udp", Addr: c.LocalAddr().String(), Queue: 1024, Wait: 1e9})
	if err != nil {
		b.Fatal(err)
	}
	recs := testRecords(1024)
	for i := range recs {
		recs[i].Host, recs[i].QName, recs[i].SNI = "", "", ""
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		x.Export(&recs[i&1023])
	}
	x.Close()
	b.StopTimer()
	if cs := x.Counters(); cs.Exported != uint64(b.N) {
		b.Fatalf("%d of %d exported: %v", cs.Exported, b.N, cs)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "flows/s")
}
