//go:build linux

package live

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wringcap/wring/capture"
	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/internal/netns"
)

// countHandler counts the packets it sees and touches every byte of them,
// so that a batch read from unmapped memory would fault.
type countHandler struct{ n, sum atomic.Uint64 }

func (h *countHandler) Handle(b *packet.Batch) error {
	var s uint64
	for i := range b.Packets {
		for _, x := range b.Packets[i].Data {
			s += uint64(x)
		}
	}
	h.n.Add(uint64(len(b.Packets)))
	h.sum.Add(s)
	return nil
}

// TestCloseUnderRunningPipeline: Capture.Close while a pipeline is reading
// the capture's sources and frames keep arriving ends the pipeline's reads
// (io.EOF) instead of unmapping the rings under them, in every mode; the
// pipeline then returns without an error and the capture stays closed.
func TestCloseUnderRunningPipeline(t *testing.T) {
	for _, mode := range []Mode{ModePassive, ModeXDP, ModePacket} {
		t.Run(mode.String(), func(t *testing.T) {
			p := netns.New(t, 2)
			c := openIn(t, p, Options{Mode: mode, Frames: 4096})
			h := &countHandler{}
			pl, err := capture.New(capture.Config{Sources: c.Sources(), Handlers: []capture.Handler{h}})
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- pl.Run(context.Background()) }()
			sent, stop := make(chan struct{}), make(chan struct{})
			go func() {
				defer close(sent)
				send, _ := frames(200)
				for {
					select {
					case <-stop:
						return
					default:
					}
					if _, err := netns.Send(p.NSB, p.IfB, send); err != nil {
						t.Error(err)
						return
					}
				}
			}()
			// Stats from another goroutine all along, as SIGUSR1 does,
			// also while Close frees the sockets on the reader's side.
			statsDone := make(chan struct{})
			go func() {
				defer close(statsDone)
				for {
					select {
					case <-stop:
						return
					default:
						c.Stats()
					}
				}
			}()
			defer func() { close(stop); <-sent; <-statsDone }()
			for deadline := time.Now().Add(5 * time.Second); h.n.Load() < 2000; {
				if time.Now().After(deadline) {
					t.Fatalf("only %d packets captured in 5 s", h.n.Load())
				}
				time.Sleep(10 * time.Millisecond)
			}
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("pipeline after Close: %v", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("the pipeline still runs 5 s after Close")
			}
			t.Logf("%s: %d packets handled before Close ended the pipeline", mode, h.n.Load())
			for _, src := range c.Sources() {
				if n, err := src.ReadBatch(&packet.Batch{Packets: make([]packet.Packet, 8)}, 8); n != 0 || err == nil {
					t.Errorf("ReadBatch after Close: %d packets, error %v; want 0 and io.EOF", n, err)
				}
			}
		})
	}
}

// TestPacketReadAllocs: reading a batch from an AF_PACKET socket through
// its read gate allocates nothing once the buffers exist.
func TestPacketReadAllocs(t *testing.T) {
	p := netns.New(t, 1)
	c := openIn(t, p, Options{Mode: ModePacket})
	send, _ := frames(2000)
	if _, err := netns.Send(p.NSB, p.IfB, send); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	src := c.workers()[0].(*packetSource)
	defer src.Finish() // read without a pipeline: say when it is done
	checkReadAllocs(t, src)
}

// checkReadAllocs reads 11 batches of 64 frames from src (AllocsPerRun's
// warm-up and 10 runs) and fails if they allocate or fall short. It reads
// on a goroutine of its own: ReadBatch locks its goroutine to a thread
// (at nice -10 on the AF_XDP path), which the test's goroutine must not
// keep.
func checkReadAllocs(t *testing.T, src capture.Source) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		b := &packet.Batch{Packets: make([]packet.Packet, 64)}
		got := 0
		allocs := testing.AllocsPerRun(10, func() {
			n, err := src.ReadBatch(b, 64)
			if err != nil {
				t.Error(err)
			}
			got += n
		})
		if got != 11*64 {
			t.Errorf("read %d frames in 11 batches of 64", got)
		}
		if allocs != 0 {
			t.Errorf("ReadBatch allocates %.1f times per batch", allocs)
		}
	}()
	<-done
}
