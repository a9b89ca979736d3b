//go:build linux

package ebpf

import (
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/wringcap/wring/internal/benchdata"
	"github.com/wringcap/wring/internal/netns"
	"github.com/wringcap/wring/verifier"
	"github.com/wringcap/wring/vm"
)

// benchRepeat is how many times the kernel runs the program on a packet in
// one BPF_PROG_TEST_RUN call; the kernel reports the mean time of one run
// in whole nanoseconds, rounded down.
const benchRepeat = 256

// attachXDP attaches prog in generic mode to interface ifname of namespace
// ns. An XDP program attached somewhere sits in the kernel's XDP
// dispatcher; BPF_PROG_TEST_RUN with repeat > 1 otherwise swaps it into the
// dispatcher and out again on every call, which costs milliseconds (an RCU
// grace period) and would dominate the benchmark's wall time.
func attachXDP(tb testing.TB, prog *ebpf.Program, ns, ifname string) link.Link {
	tb.Helper()
	idx, err := netns.Ifindex(ns, ifname)
	if err != nil {
		tb.Fatal(err)
	}
	var l link.Link
	err = netns.Do(ns, func() error {
		var err error
		l, err = link.AttachXDP(link.XDPOptions{Program: prog, Interface: idx, Flags: link.XDPGenericMode})
		return err
	})
	if err != nil {
		tb.Fatalf("attach XDP in %s: %v", ns, err)
	}
	return l
}

// BenchmarkFilter/<filter>/kernel measures the translated XDP program in
// the kernel's eBPF JIT over the warm working set (internal/benchdata):
// each iteration takes the next packet and runs BPF_PROG_TEST_RUN with
// repeat benchRepeat, once with the filter and once with an empty XDP
// program (return XDP_PASS). ns/pkt is the kernel's per-run time for the
// filter, the figure BPF_PROG_TEST_RUN reports; it includes the test
// runner's loop and the call into the program, which ns/pkt-empty (the
// empty program's per-run time) shows alone. ns/pkt-net is their
// difference: the filter code itself. Packets the XDP test runner refuses (under 14
// bytes, over one page) are left out. The programs run in a veth pair's
// namespaces (attached, see attachXDP); no traffic is sent.
func BenchmarkFilter(b *testing.B) {
	needKernel(b)
	var pkts [][]byte
	for _, p := range benchdata.WorkingSet(b) {
		if xdpRunnable(p.Data) {
			pkts = append(pkts, p.Data)
		}
	}
	if len(pkts) == 0 {
		b.Fatal("no runnable packet in the working set")
	}
	pair := netns.New(b, 1)
	empty, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.XDP, Instructions: xdpPassInsns(), License: "Dual MIT/GPL"})
	if err != nil {
		b.Fatal(err)
	}
	defer empty.Close()
	defer attachXDP(b, empty, pair.NSB, pair.IfB).Close()

	for _, f := range benchdata.Filters() {
		p, err := verifier.Verify(f.Program, verifier.Options{})
		if err != nil {
			b.Fatalf("%s: %v", f.Name, err)
		}
		prog, err := load(p, XDP)
		if err != nil {
			b.Fatalf("%s: %v", f.Name, err)
		}
		// The program measured must be right: compare every packet once.
		for i, pkt := range pkts {
			got, err := runXDP(prog, pkt)
			if err != nil {
				b.Fatal(err)
			}
			if want := vm.Run(p, pkt, uint32(len(pkt)), &xdpMeta) != 0; got != want {
				b.Fatalf("%s packet %d: kernel match=%v, vm match=%v", f.Name, i, got, want)
			}
		}
		l := attachXDP(b, prog, pair.NSA, pair.IfA)
		b.Run(f.Name+"/kernel", func(b *testing.B) {
			var run, base time.Duration
			for i := 0; b.Loop(); i++ {
				pkt := pkts[i%len(pkts)]
				_, d, err := prog.Benchmark(pkt, benchRepeat, nil)
				if err != nil {
					b.Fatal(err)
				}
				run += d
				_, d, err = empty.Benchmark(pkt, benchRepeat, nil)
				if err != nil {
					b.Fatal(err)
				}
				base += d
			}
			n := float64(b.N)
			b.ReportMetric(float64(run)/n, "ns/pkt")
			b.ReportMetric(float64(base)/n, "ns/pkt-empty")
			b.ReportMetric(float64(run-base)/n, "ns/pkt-net")
		})
		l.Close()
		prog.Close()
	}
}

// BenchmarkTranslate/<filter> measures Translate for XDP on the benchmark
// filters (verification not included), spliced as capture does it.
func BenchmarkTranslate(b *testing.B) {
	for _, f := range benchdata.Filters() {
		p, err := verifier.Verify(f.Program, verifier.Options{})
		if err != nil {
			b.Fatalf("%s: %v", f.Name, err)
		}
		opts := Options{Target: XDP, MatchLabel: "match", NoMatchLabel: "nomatch", StackOffset: 8}
		b.Run(f.Name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Translate(p, opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
