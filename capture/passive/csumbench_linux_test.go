//go:build linux

package passive

import (
	"os"
	"testing"
	"time"

	"github.com/cilium/ebpf"

	"github.com/wringcap/wring/internal/corpus"
)

// BenchmarkEgressChecksumReads measures the egress program on a 60-byte
// frame with BPF_PROG_TEST_RUN, without and with the partial checksum
// reads (the kfunc call and the sk_buff loads; a test run's skb has no
// partial checksum, so this is their cost on the common path). Each
// iteration runs the program 20,000 times into a 16 MiB ring (less than
// the 1/8 of it above which the program wakes the reader) and then
// empties the ring; the filling runs write 100,000 records (8.8 MB),
// past the mark. ns/pkt is per packet.
func BenchmarkEgressChecksumReads(b *testing.B) {
	if os.Geteuid() != 0 {
		corpus.Unavailable(b, "loading BPF programs needs root (CAP_BPF)")
	}
	l, err := kernelCsumLayout()
	if err != nil {
		corpus.Unavailable(b, "no kernel BTF: "+err.Error())
	}
	for _, v := range []struct {
		name   string
		csum   *csumLayout
		repeat int
	}{{"plain", nil, 20_000}, {"csum", &l, 20_000}, {"plain/filling", nil, 100_000}, {"csum/filling", &l, 100_000}} {
		repeat := v.repeat
		b.Run(v.name, func(b *testing.B) {
			p, err := Load(Spec{Snaplen: 128, RingBytes: 16 << 20})
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			s := Spec{Snaplen: 128, RingBytes: 16 << 20}
			prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{Name: "wring_passive", Type: ebpf.SchedCLS, License: "Dual BSD/GPL",
				Instructions: s.instructions(Out, p.outer.FD(), p.scratch.FD(), p.counters.FD(), v.csum)})
			if err != nil {
				b.Fatal(err)
			}
			defer prog.Close()
			readers := make([]*Reader, p.Rings())
			for i := range readers {
				if readers[i], err = NewReader(p.Ring(i)); err != nil {
					b.Fatal(err)
				}
				defer readers[i].Close()
			}
			recs := make([][]byte, 4096)
			data := frame(60)
			var total time.Duration
			for i := 0; i < b.N; i++ {
				_, d, err := prog.Benchmark(data, repeat, nil)
				if err != nil {
					b.Fatal(err)
				}
				total += d * time.Duration(repeat)
				for _, rd := range readers {
					for {
						k, err := rd.Read(recs, 0)
						if err != nil {
							b.Fatal(err)
						}
						if k == 0 {
							break
						}
					}
				}
			}
			var c Counters
			for i := 0; i < p.Rings(); i++ {
				ci, _ := p.Counters(i)
				c.Dropped += ci.Dropped
			}
			if c.Dropped != 0 {
				b.Fatalf("%d records dropped: the ring was too small for a run", c.Dropped)
			}
			b.ReportMetric(float64(total.Nanoseconds())/float64(b.N*repeat), "ns/pkt")
		})
	}
}
