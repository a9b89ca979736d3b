package jit

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wringcap/wring/internal/progen"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
	"github.com/wringcap/wring/vm"
)

func TestCompileNil(t *testing.T) {
	if _, err := Compile(nil, Options{}); !errors.Is(err, ErrNilProgram) {
		t.Fatalf("Compile(nil) = %v, want ErrNilProgram", err)
	}
}

func TestCloseTwiceAndRunAfterClose(t *testing.T) {
	p := mustVerify(t, tcpPort80(t), verifier.Options{})
	for _, opts := range []Options{{}, {Portable: true}} {
		f, err := Compile(p, opts)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatalf("close: %v", err)
		}
		if err := f.Close(); err != nil {
			t.Fatalf("second close: %v", err)
		}
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(r.(string), "closed") {
					t.Errorf("Run after Close: recovered %v, want a panic naming the closed filter", r)
				}
			}()
			f.Run([]byte{1, 2, 3}, 3)
		}()
	}
}

// TestRunAllocatesNothing: Run and RunMeta allocate nothing per packet.
func TestRunAllocatesNothing(t *testing.T) {
	p := mustVerify(t, tcpPort80(t), verifier.Options{})
	pkt := fullPackets()[0]
	for _, opts := range []Options{{}, {Portable: true}} {
		f, err := Compile(p, opts)
		if err != nil {
			t.Fatal(err)
		}
		var sink uint32
		var meta Meta
		if n := testing.AllocsPerRun(1000, func() { sink += f.Run(pkt, uint32(len(pkt))) }); n != 0 {
			t.Errorf("native=%v: Run allocates %.1f times per packet", f.Native(), n)
		}
		if n := testing.AllocsPerRun(1000, func() { sink += f.RunMeta(pkt, uint32(len(pkt)), &meta) }); n != 0 {
			t.Errorf("native=%v: RunMeta allocates %.1f times per packet", f.Native(), n)
		}
		if sink == 0 {
			t.Error("the filter never matched its packet")
		}
		f.Close()
	}
}

func TestRunBatchLengths(t *testing.T) {
	p := mustVerify(t, tcpPort80(t), verifier.Options{})
	for _, opts := range []Options{{}, {Portable: true}} {
		f, err := Compile(p, opts)
		if err != nil {
			t.Fatal(err)
		}
		pkts := fullPackets()
		for _, c := range []struct {
			wl  []uint32
			out int
		}{{nil, 1}, {[]uint32{1}, 2}} {
			if err := f.RunBatch(pkts, c.wl, make([]uint32, c.out)); !errors.Is(err, ErrBatchLength) {
				t.Errorf("RunBatch(%d packets, %d wire lengths, %d results) = %v, want ErrBatchLength", len(pkts), len(c.wl), c.out, err)
			}
		}
		if err := f.RunBatch(nil, nil, nil); err != nil {
			t.Errorf("empty batch: %v", err)
		}
		out := make([]uint32, 2)
		if n := testing.AllocsPerRun(100, func() { f.RunBatch(pkts, nil, out) }); n != 0 {
			t.Errorf("native=%v: RunBatch allocates %.1f times", f.Native(), n)
		}
		if out[0] == 0 || out[1] != 0 {
			t.Errorf("native=%v: RunBatch results %v, want a match then a miss", f.Native(), out)
		}
		f.Close()
	}
}

// TestConcurrentRunUnderSignals: several goroutines run the same filters at
// once (each call has its own scratch area in its own frame) while the GC
// runs continuously and a CPU profile sends SIGPROF, so that signals and
// preemption requests land while native code runs. Results must equal
// vm.Run's, and nothing may crash.
func TestConcurrentRunUnderSignals(t *testing.T) {
	g := progen.New(3, progen.Config{Mode: progen.Valid, MaxLen: 4096, PacketLen: 128})
	type job struct {
		f    *Filter
		p    *verifier.Program
		pkts [][]byte
		want []uint32
	}
	var jobs []job
	for range 8 {
		prog := g.Program()
		// Scratch use makes the per-call scratch area matter.
		p := mustVerify(t, prog, verifier.Options{})
		f, err := Compile(p, Options{})
		if err != nil {
			t.Fatal(err)
		}
		j := job{f: f, p: p}
		for range 16 {
			pkt := g.Packet(prog)
			j.pkts = append(j.pkts, pkt)
			j.want = append(j.want, vm.Run(p, pkt, uint32(len(pkt)), nil))
		}
		jobs = append(jobs, j)
	}
	if err := pprof.StartCPUProfile(io.Discard); err == nil {
		defer pprof.StopCPUProfile()
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
				runtime.GC()
			}
		}
	}()
	deadline := time.Now().Add(700 * time.Millisecond)
	errs := make(chan string, 8)
	var runs sync.WaitGroup
	for w := range 6 {
		runs.Add(1)
		go func() {
			defer runs.Done()
			for i := 0; time.Now().Before(deadline); i++ {
				j := jobs[(i+w)%len(jobs)]
				k := i % len(j.pkts)
				if got := j.f.Run(j.pkts[k], uint32(len(j.pkts[k]))); got != j.want[k] {
					errs <- "a concurrent run disagreed with vm.Run"
					return
				}
			}
		}()
	}
	runs.Wait()
	close(stop)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	for _, j := range jobs {
		j.f.Close()
	}
}

// execMappings returns the pages of the process's anonymous executable
// mappings (the native filters' code; a Go binary has no other). Pages,
// not mappings: the kernel merges neighbouring mappings.
func execMappings(t *testing.T) int {
	t.Helper()
	fh, err := os.Open("/proc/self/maps")
	if err != nil {
		t.Skipf("no /proc/self/maps: %v", err)
	}
	defer fh.Close()
	n := 0
	s := bufio.NewScanner(fh)
	for s.Scan() {
		f := strings.Fields(s.Text())
		if len(f) == 5 && strings.HasPrefix(f[1], "r-x") {
			var lo, hi uint64
			if _, err := fmt.Sscanf(f[0], "%x-%x", &lo, &hi); err != nil {
				t.Fatalf("/proc/self/maps: %q: %v", s.Text(), err)
			}
			n += int((hi - lo) / uint64(os.Getpagesize()))
		}
	}
	return n
}

// TestMappingsAreFreed: Close unmaps a filter's code at once, and a filter
// that is dropped without Close is unmapped once collected.
func TestMappingsAreFreed(t *testing.T) {
	if !nativeSupported {
		t.Skip("no native backend on this platform")
	}
	p := mustVerify(t, spec.Program{spec.Stmt(spec.ClassRET|spec.RetK, 1)}, verifier.Options{})
	const n = 64
	before := execMappings(t)
	fs := make([]*Filter, n)
	for i := range fs {
		f, err := Compile(p, Options{})
		if err != nil {
			t.Fatal(err)
		}
		fs[i] = f
	}
	if got := execMappings(t); got != before+n {
		t.Fatalf("%d executable pages after %d compiles, %d before", got, n, before)
	}
	for _, f := range fs {
		f.Close()
	}
	if got := execMappings(t); got != before {
		t.Fatalf("%d executable pages after Close, %d before", got, before)
	}
	for range n {
		if _, err := Compile(p, Options{}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; ; i++ {
		runtime.GC()
		if execMappings(t) == before {
			break
		}
		if i == 200 {
			t.Fatalf("%d executable pages remain after collecting the filters, %d before", execMappings(t), before)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
