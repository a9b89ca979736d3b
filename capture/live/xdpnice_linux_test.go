//go:build linux

package live

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/internal/netns"
)

// threadNice returns the nice value of the calling thread
// (/proc/thread-self/stat, field 19).
func threadNice(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 17 {
		t.Fatalf("%s: %q", path, s)
	}
	n, err := strconv.Atoi(f[16])
	if err != nil {
		t.Fatalf("%s: nice %q: %v", path, f[16], err)
	}
	return n
}

// TestXDPWorkerPriority: each AF_XDP queue worker's thread runs at
// XDPWorkerNice from its first ReadBatch (only the worker gives UMEM frames
// back to the kernel, so it must win a busy CPU), and the priority stays
// on the workers' threads: the process's other threads keep theirs.
func TestXDPWorkerPriority(t *testing.T) {
	p := netns.New(t, 2)
	base := threadNice(t, "/proc/self/stat")
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
	if n := threadNice(t, "/proc/self/stat"); n != base {
		t.Errorf("the main thread went from nice %d to %d", base, n)
	}
}
