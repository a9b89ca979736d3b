package pcapfile_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/capture/pcapfile"
	"github.com/wringcap/wring/internal/cputime"
	"github.com/wringcap/wring/internal/trafficgen"
)

// BenchmarkReadFile reads a generated 100,000-packet pcap file held in
// memory with wring's reader and with gopacket's pcapgo (its zero-copy
// read), and writes it back with each library's pcap writer; ns/pkt is per
// packet.
func BenchmarkReadFile(b *testing.B) {
	const n = 100_000
	var file bytes.Buffer
	if err := trafficgen.Generate(&file, trafficgen.Config{Seed: 3, Count: n}); err != nil {
		b.Fatal(err)
	}
	data := file.Bytes()
	// Each case runs on a locked thread and reports its CPU time per
	// packet beside the wall time (the machine is shared).
	var c0 int64
	start := func(b *testing.B) {
		runtime.LockOSThread()
		b.ResetTimer()
		c0 = cputime.Thread()
	}
	perPkt := func(b *testing.B) {
		c1 := cputime.Thread()
		runtime.UnlockOSThread()
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/pkt")
		b.ReportMetric(float64(c1-c0)/float64(b.N)/n, "cpu-ns/pkt")
	}
	b.Run("pcap/wring", func(b *testing.B) {
		var info packet.Info
		start(b)
		for i := 0; i < b.N; i++ {
			r, err := pcapfile.NewReader(bytes.NewReader(data), "gen")
			if err != nil {
				b.Fatal(err)
			}
			for {
				if _, err := r.ReadPacket(&info); err != nil {
					if !errors.Is(err, io.EOF) {
						b.Fatal(err)
					}
					break
				}
			}
		}
		perPkt(b)
	})
	b.Run("pcap/pcapgo", func(b *testing.B) {
		start(b)
		for i := 0; i < b.N; i++ {
			r, err := pcapgo.NewReader(bufio.NewReaderSize(bytes.NewReader(data), 1<<20))
			if err != nil {
				b.Fatal(err)
			}
			for {
				if _, _, err := r.ZeroCopyReadPacketData(); err != nil {
					if !errors.Is(err, io.EOF) {
						b.Fatal(err)
					}
					break
				}
			}
		}
		perPkt(b)
	})
	// Writers: the same packets, to io.Discard.
	var pk [][]byte
	var infos []packet.Info
	r, _ := pcapfile.NewReader(bytes.NewReader(data), "gen")
	for {
		var info packet.Info
		d, err := r.ReadPacket(&info)
		if err != nil {
			break
		}
		pk = append(pk, append([]byte(nil), d...))
		infos = append(infos, info)
	}
	b.Run("write/wring", func(b *testing.B) {
		start(b)
		for i := 0; i < b.N; i++ {
			w, _ := pcapfile.NewWriter(io.Discard, pcapfile.Header{LinkType: 1, Snaplen: 262144})
			for j := range pk {
				if err := w.WritePacket(&infos[j], pk[j]); err != nil {
					b.Fatal(err)
				}
			}
			w.Flush()
		}
		perPkt(b)
	})
	b.Run("write/pcapgo", func(b *testing.B) {
		start(b)
		for i := 0; i < b.N; i++ {
			bw := bufio.NewWriterSize(io.Discard, 1<<16)
			w := pcapgo.NewWriter(bw)
			w.WriteFileHeader(262144, layers.LinkTypeEthernet)
			for j := range pk {
				ci := gopacket.CaptureInfo{Timestamp: time.Unix(0, infos[j].Timestamp), CaptureLength: len(pk[j]), Length: int(infos[j].WireLen)}
				if err := w.WritePacket(ci, pk[j]); err != nil {
					b.Fatal(err)
				}
			}
			bw.Flush()
		}
		perPkt(b)
	})
}
