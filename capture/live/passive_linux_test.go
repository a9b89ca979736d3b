//go:build linux

package live

import (
	"os/exec"
	"testing"
	"time"

	"github.com/wringcap/wring/capture"

	"github.com/wringcap/wring/internal/netns"
	"github.com/wringcap/wring/verifier"
)

// TestPassiveFilter: the passive path copies exactly the matching frames,
// once each, and both halves of the books reconcile.
func TestPassiveFilter(t *testing.T) {
	p := netns.New(t, 2)
	send, matching := frames(3000)
	v := verified(t, udpDst80, verifier.Options{})
	col, st, pc, path := runCapture(t, p, Device{Name: p.IfA, Queue: -1},
		Options{Mode: ModePassive, Filters: Filters{InBand: v, Kernel: v}}, send)
	t.Logf("path: %s", path)
	checkExact(t, col, matching)
	reconcile(t, st, pc, len(send))
}

// openIn opens a capture in namespace A of p.
func openIn(t *testing.T, p *netns.Pair, opts Options) *Capture {
	t.Helper()
	opts.Log = t.Logf
	var c *Capture
	if err := netns.Do(p.NSA, func() error {
		var err error
		c, err = Open(Device{Name: p.IfA, Queue: -1}, opts)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestPassiveRingFull: with rings of one page and nobody reading, most
// frames find their ring full; the kernel counts each such drop on its
// ring, and every frame is accounted for: seen = dropped (ring full or
// left unread) + received.
func TestPassiveRingFull(t *testing.T) {
	p := netns.New(t, 2)
	c := openIn(t, p, Options{Mode: ModePassive, BufferSize: 8 << 10})
	send, _ := frames(3000)
	if _, err := netns.Send(p.NSB, p.IfB, send); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	var seen, full uint64
	for i, s := range c.Stats() {
		t.Logf("ring %d: seen %d = filtered out %d + dropped %d + received %d (%s)", s.Queue, s.Seen, s.FilteredOut, s.Dropped, s.Received, s.DropDetail)
		if !s.Reconciles() {
			t.Errorf("ring %d does not reconcile", s.Queue)
		}
		seen += s.Seen
		full += c.workers()[i].KernelDropped()
	}
	if seen != uint64(len(send)) {
		t.Errorf("the programs saw %d frames, %d were sent", seen, len(send))
	}
	// A 4 KiB ring holds about 45 records of 88 bytes.
	if full < uint64(len(send))-2*64 {
		t.Errorf("%d frames counted as dropped on a full ring, want nearly all of %d", full, len(send))
	}
}

// TestPassiveReadAllocs: reading a batch from the rings, merged in time
// order, allocates nothing once the buffers exist.
func TestPassiveReadAllocs(t *testing.T) {
	p := netns.New(t, 1)
	c := openIn(t, p, Options{Mode: ModePassive})
	send, _ := frames(2000)
	if _, err := netns.Send(p.NSB, p.IfB, send); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	src := c.workers()[0].(*mergedSource)
	defer src.Finish() // read without a pipeline: say when it is done, or Close leaves the rings mapped
	checkReadAllocs(t, src)
}

// TestPassiveLoopback: on lo the passive path sees each packet once, like
// tcpdump: 5 pings are 5 requests and 5 replies.
func TestPassiveLoopback(t *testing.T) {
	p := netns.New(t, 1)
	var c *Capture
	if err := netns.Do(p.NSA, func() error {
		var err error
		c, err = Open(Device{Name: "lo", Queue: -1}, Options{Mode: ModePassive, Log: t.Logf, Filters: compileBoth(t, "icmp")})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	log := &frameLog{}
	pl, err := capture.New(capture.Config{Sources: c.Sources(), Handlers: []capture.Handler{log}})
	if err != nil {
		t.Fatal(err)
	}
	stopPipeline := startPipeline(pl)
	defer stopPipeline() // before the capture's Close, also when the test fails
	if out, err := exec.Command("ip", "netns", "exec", p.NSA, "ping", "-c", "5", "-i", "0.05", "127.0.0.1").CombinedOutput(); err != nil {
		t.Fatalf("ping: %v: %s", err, out)
	}
	time.Sleep(100 * time.Millisecond)
	if err := stopPipeline(); err != nil {
		t.Fatal(err)
	}
	types := map[byte]int{}
	for _, f := range log.frames {
		if len(f.data) > 34 {
			types[f.data[34]]++
		}
	}
	if len(log.frames) != 10 || types[8] != 5 || types[0] != 5 {
		t.Errorf("captured %d frames, ICMP types %v: want 5 echo requests (8) and 5 replies (0)", len(log.frames), types)
	}
	reconcileKernel(t, c.Stats())
}
