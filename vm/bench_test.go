package vm

import (
	"testing"

	"github.com/wringcap/wring/internal/benchdata"
	"github.com/wringcap/wring/verifier"
)

// BenchmarkFilter/<filter>/<engine> measures one packet per op over the
// warm working set of internal/benchdata (4096 packets, cycled) for the five
// benchmark filters: vm is Run, xnet is golang.org/x/net/bpf's VM on the
// same program, in the same run. Before measuring, the two are compared on
// every packet (x/net has no wire length: compared on the captured length).
// ns/pkt equals ns/op; vm must show 0 allocs/op.
func BenchmarkFilter(b *testing.B) {
	ws := benchdata.WorkingSet(b)
	for _, bf := range benchdata.Filters() {
		p, err := verifier.Verify(bf.Program, verifier.Options{})
		if err != nil {
			b.Fatalf("%s: %v", bf.Name, err)
		}
		x := xnetVM(bf.Program)
		if x == nil {
			b.Fatalf("%s: x/net refuses the program", bf.Name)
		}
		matches := 0
		for i, pk := range ws {
			if Run(p, pk.Data, pk.WireLen, nil) != 0 {
				matches++
			}
			want := Run(p, pk.Data, uint32(len(pk.Data)), nil)
			got, err := x.Run(pk.Data)
			if err != nil || uint32(got) != want {
				b.Fatalf("%s packet %d: x/net %d (%v), vm %d", bf.Name, i, got, err, want)
			}
		}
		ratio := float64(matches) / float64(len(ws))
		run := func(engine string, f func(pk *benchdata.Packet) uint32) {
			b.Run(bf.Name+"/"+engine, func(b *testing.B) {
				b.ReportAllocs()
				var sink uint32
				i := 0
				for b.Loop() {
					sink += f(&ws[i])
					if i++; i == len(ws) {
						i = 0
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/pkt")
				b.ReportMetric(ratio, "match-ratio")
				benchSink = sink
			})
		}
		run("vm", func(pk *benchdata.Packet) uint32 { return Run(p, pk.Data, pk.WireLen, nil) })
		run("xnet", func(pk *benchdata.Packet) uint32 {
			n, _ := x.Run(pk.Data)
			return uint32(n)
		})
	}
}

// benchSink keeps results alive.
var benchSink uint32
