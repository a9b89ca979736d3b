package live

import (
	"bytes"
	"context"
	"encoding/binary"
	"sync"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"

	"github.com/wringcap/wring/capture"
	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/internal/netns"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
)

// udpDst80 is `udp dst port 80` for untagged IPv4 without options, as
// hand-written classic BPF (the test does not depend on the compiler).
var udpDst80 = spec.Program{
	{Op: 0x28, K: 12},                  // ldh [12]
	{Op: 0x15, Jt: 0, Jf: 5, K: 0x800}, // jeq #0x800
	{Op: 0x30, K: 23},                  // ldb [23]
	{Op: 0x15, Jt: 0, Jf: 3, K: 17},    // jeq #17
	{Op: 0x28, K: 36},                  // ldh [36]
	{Op: 0x15, Jt: 0, Jf: 1, K: 80},    // jeq #80
	{Op: 0x06, K: 262144},              // ret #262144
	{Op: 0x06, K: 0},                   // ret #0
}

func frames(n int) (all [][]byte, matching map[string]bool) {
	matching = map[string]bool{}
	for i := 0; i < n; i++ {
		f := make([]byte, 64)
		copy(f, []byte{0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00})
		ip := f[14:]
		ip[0], ip[8], ip[9] = 0x45, 64, 17
		binary.BigEndian.PutUint16(ip[2:], 50)
		copy(ip[12:], []byte{198, 18, 0, 1, 198, 18, 0, 2})
		binary.BigEndian.PutUint16(f[34:], uint16(1024+i%97)) // many flows
		dport := uint16(9)
		if i%10 == 0 {
			dport = 80
		}
		binary.BigEndian.PutUint16(f[36:], dport)
		binary.BigEndian.PutUint32(f[42:], uint32(i))
		all = append(all, f)
		if dport == 80 {
			matching[string(f)] = true
		}
	}
	return all, matching
}

type collector struct {
	mu     sync.Mutex
	frames map[string]int
	queues map[int]int
}

func (c *collector) Handle(b *packet.Batch) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range b.Packets {
		c.frames[string(p.Data)]++
		c.queues[int(p.Info.Queue)]++
	}
	return nil
}

// runCapture opens dev in namespace A, runs its sources through the
// capture pipeline, sends the frames from B meanwhile, and returns what
// arrived with both sides' counters.
func runCapture(t *testing.T, p *netns.Pair, dev Device, opts Options, send [][]byte) (*collector, []QueueStats, []capture.Snapshot, string) {
	t.Helper()
	opts.Log = t.Logf
	opts.Frames = 4096
	var c *Capture
	if err := netns.Do(p.NSA, func() error {
		var err error
		c, err = Open(dev, opts)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !c.FilterInKernel() {
		t.Fatalf("path %q: the filter should run in the kernel", c.Path())
	}
	col := &collector{frames: map[string]int{}, queues: map[int]int{}}
	pl, err := capture.New(capture.Config{Sources: c.Sources(), Handlers: []capture.Handler{col}})
	if err != nil {
		t.Fatal(err)
	}
	stopPipeline := startPipeline(pl)
	defer stopPipeline() // before the capture's Close, also when the test fails
	time.Sleep(100 * time.Millisecond)
	if _, err := netns.Send(p.NSB, p.IfB, send); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	if err := stopPipeline(); err != nil {
		t.Fatal(err)
	}
	return col, c.Stats(), pl.Counters(), c.Path()
}

func verified(t *testing.T, prog spec.Program, opts verifier.Options) *verifier.Program {
	t.Helper()
	v, err := verifier.Verify(prog, opts)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func checkExact(t *testing.T, col *collector, matching map[string]bool) {
	t.Helper()
	for f, n := range col.frames {
		if !matching[f] {
			t.Errorf("captured a frame the filter rejects: % x", []byte(f)[:44])
		} else if n != 1 {
			t.Errorf("captured a frame %d times", n)
		}
	}
	if len(col.frames) != len(matching) {
		t.Errorf("captured %d distinct frames, %d match", len(col.frames), len(matching))
	}
}

// reconcile checks both halves of the books: in the kernel, seen =
// filtered out + dropped + received; in the pipeline, received = filtered
// out + dropped + delivered; and the two agree on received.
func reconcile(t *testing.T, st []QueueStats, pc []capture.Snapshot, sent int) {
	t.Helper()
	var seen, recv uint64
	for _, s := range st {
		t.Logf("queue %d: seen %d = filtered out in kernel %d + dropped %d + received %d (%s)", s.Queue, s.Seen, s.FilteredOut, s.Dropped, s.Received, s.DropDetail)
		if !s.Reconciles() {
			t.Errorf("queue %d does not reconcile: %+v", s.Queue, s)
		}
		seen += s.Seen
		recv += s.Received
	}
	if seen != uint64(sent) {
		t.Errorf("the queues saw %d frames, %d were sent", seen, sent)
	}
	tot := capture.Sum(pc)
	if !tot.Reconciles() || tot.Received != recv {
		t.Errorf("pipeline %v does not match the sources' %d received", tot, recv)
	}
}

// TestXDPAllQueues: the filter runs in the XDP program, matching frames
// arrive exactly once on the queues' sockets, the rest are counted as
// filtered out in the kernel.
func TestXDPAllQueues(t *testing.T) {
	p := netns.New(t, 4)
	send, matching := frames(3000)
	col, st, pc, path := runCapture(t, p, Device{Name: p.IfA, Queue: -1},
		Options{Mode: ModeXDP, Filters: Filters{InBand: verified(t, udpDst80, verifier.Options{})}}, send)
	t.Logf("path: %s; frames per queue: %v", path, col.queues)
	checkExact(t, col, matching)
	reconcile(t, st, pc, len(send))
	if len(col.queues) < 2 {
		t.Errorf("matching frames arrived on %d queue(s); the flows should spread", len(col.queues))
	}
}

// TestXDPOneQueue: eth@q captures queue q only; the other queues' frames
// pass to the host untouched.
func TestXDPOneQueue(t *testing.T) {
	p := netns.New(t, 4)
	send, matching := frames(3000)
	col, st, _, _ := runCapture(t, p, Device{Name: p.IfA, Queue: 2},
		Options{Mode: ModeXDP, Filters: Filters{InBand: verified(t, udpDst80, verifier.Options{})}}, send)
	if len(st) != 1 || st[0].Queue != 2 {
		t.Fatalf("stats for %+v, want queue 2 only", st)
	}
	for q := range col.queues {
		if q != 2 {
			t.Errorf("captured frames from queue %d", q)
		}
	}
	s := st[0]
	if !s.Reconciles() {
		t.Errorf("queue 2 does not reconcile: %+v", s)
	}
	if s.Received == 0 || int(s.Received) >= len(matching) || int(s.Received) != len(col.frames) {
		t.Errorf("queue 2 received %d (collected %d) of %d matching frames: expected a share", s.Received, len(col.frames), len(matching))
	}
	for f := range col.frames {
		if !matching[f] {
			t.Errorf("captured a non-matching frame")
		}
	}
}

// TestPacketMode: AF_PACKET with the classic filter in the kernel.
func TestPacketMode(t *testing.T) {
	p := netns.New(t, 2)
	send, matching := frames(3000)
	v := verified(t, udpDst80, verifier.Options{})
	col, st, pc, path := runCapture(t, p, Device{Name: p.IfA, Queue: -1},
		Options{Mode: ModePacket, Filters: Filters{InBand: v, Kernel: v}}, send)
	t.Logf("path: %s", path)
	checkExact(t, col, matching)
	reconcile(t, st, pc, len(send))
}

// TestFallbackWhenXDPBusy: another XDP program already holds the interface;
// auto mode, which is passive and uses tc rather than XDP, still captures
// exactly.
func TestFallbackWhenXDPBusy(t *testing.T) {
	p := netns.New(t, 2)
	if err := netns.Do(p.NSA, func() error {
		idx, err := netns.Ifindex(p.NSA, p.IfA)
		if err != nil {
			return err
		}
		prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.XDP, License: "Dual BSD/GPL",
			Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 2), asm.Return()}})
		if err != nil {
			return err
		}
		l, err := link.AttachXDP(link.XDPOptions{Program: prog, Interface: idx})
		if err != nil {
			return err
		}
		t.Cleanup(func() { l.Close(); prog.Close() })
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	send, matching := frames(2000)
	v := verified(t, udpDst80, verifier.Options{})
	col, st, pc, path := runCapture(t, p, Device{Name: p.IfA, Queue: -1},
		Options{Mode: ModeAuto, Filters: Filters{InBand: v, Kernel: v}}, send)
	if !bytes.HasPrefix([]byte(path), []byte("passive")) {
		t.Fatalf("path %q: want the passive path", path)
	}
	checkExact(t, col, matching)
	reconcile(t, st, pc, len(send))
}

// TestPacketModeOneQueue: in AF_PACKET mode eth@q keeps queue q's frames
// with a queue check in the kernel filter.
func TestPacketModeOneQueue(t *testing.T) {
	p := netns.New(t, 4)
	send, matching := frames(3000)
	v := verified(t, udpDst80, verifier.Options{})
	col, st, pc, path := runCapture(t, p, Device{Name: p.IfA, Queue: 1},
		Options{Mode: ModePacket, Filters: Filters{InBand: v, Kernel: v}}, send)
	t.Logf("path: %s", path)
	reconcile(t, st, pc, len(send))
	if len(col.frames) == 0 || len(col.frames) >= len(matching) {
		t.Fatalf("queue 1 captured %d of %d matching frames: expected a share", len(col.frames), len(matching))
	}
	for f := range col.frames {
		if !matching[f] {
			t.Errorf("captured a non-matching frame")
		}
	}
}

// startPipeline runs pl until stop is called; stop cancels it and returns
// Run's error, and may be called again (it returns the same error). A test
// defers stop after deferring (or registering) its capture's Close, so
// that a test which fails early stops its pipeline before the capture
// closes, as a program would.
func startPipeline(pl *capture.Pipeline) (stop func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- pl.Run(ctx) }()
	var once sync.Once
	var err error
	return func() error {
		once.Do(func() { cancel(); err = <-done })
		return err
	}
}
