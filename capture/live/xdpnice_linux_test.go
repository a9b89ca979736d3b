//go:build linux

package live

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/internal/netns"
)

// threadNice returns the nice value in a thread's stat file (field 19).
func threadNice(t *testing.T, path string) int {
	t.Helper()
	n, err := readNice(path)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func readNice(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 17 {
		return 0, fmt.Errorf("%s: %q", path, s)
	}
	n, err := strconv.Atoi(f[16])
	if err != nil {
		return 0, fmt.Errorf("%s: nice %q: %w", path, f[16], err)
	}
	return n, nil
}

// TestXDPWorkerPriority: each AF_XDP queue worker's thread runs at
// XDPWorkerNice from its first ReadBatch (only the worker gives UMEM frames
// back to the kernel, so it must win a busy CPU), and the priority goes
// with the worker: its goroutine ends locked to the thread, so the runtime
// ends the thread, and no thread left to run goroutines keeps the nice
// value (the main thread, which the runtime parks for good instead when a
// locked goroutine ends on it, excepted).
func TestXDPWorkerPriority(t *testing.T) {
	p := netns.New(t, 2)
	c := openIn(t, p, Options{Mode: ModeXDP, Frames: 256, Poll: 5 * time.Millisecond})
	srcs := c.Sources()
	if len(srcs) != 2 {
		t.Fatalf("%d sources, want 2", len(srcs))
	}
	type result struct {
		nice int
		err  error
	}
	res := make(chan result, len(srcs))
	for _, src := range srcs {
		go func() {
			b := packet.Batch{Packets: make([]packet.Packet, 8)}
			_, err := src.ReadBatch(&b, 8)
			// ReadBatch locked the goroutine to its thread: this is the
			// worker's thread, which ends with the goroutine.
			res <- result{threadNice(t, "/proc/thread-self/stat"), err}
		}()
	}
	for range srcs {
		r := <-res
		if r.err != nil {
			t.Fatal(r.err)
		}
		if r.nice != XDPWorkerNice {
			t.Errorf("worker thread at nice %d, want %d", r.nice, XDPWorkerNice)
		}
	}
	var left []string
	for deadline := time.Now().Add(2 * time.Second); ; {
		left = left[:0]
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range tasks {
			if e.Name() == strconv.Itoa(os.Getpid()) {
				continue
			}
			// A thread may end between the listing and the read.
			if n, err := readNice("/proc/self/task/" + e.Name() + "/stat"); err == nil && n == XDPWorkerNice {
				left = append(left, e.Name())
			}
		}
		if len(left) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(left) > 0 {
		t.Errorf("threads %v still at nice %d after the workers ended", left, XDPWorkerNice)
	}
}

// TestXDPReadAllocs: reading a batch from an AF_XDP queue (giving the
// previous batch back, receiving, stamping) allocates nothing once the
// buffers exist, with the worker tracing off.
func TestXDPReadAllocs(t *testing.T) {
	p := netns.New(t, 1)
	c := openIn(t, p, Options{Mode: ModeXDP, Frames: 4096})
	send, _ := frames(2000)
	if _, err := netns.Send(p.NSB, p.IfB, send); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	src := c.workers()[0].(*xdpSource)
	defer src.Finish() // read without a pipeline: say when it is done, or Close leaves the socket mapped
	if src.trace != nil {
		t.Skipf("%s is set: the trace allocates", XDPTraceEnv)
	}
	checkReadAllocs(t, src)
}
