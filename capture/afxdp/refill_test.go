//go:build linux

package afxdp

import (
	"testing"
	"time"

	"github.com/wringcap/wring/internal/netns"
)

// TestReleaseRefillsFillRing: the kernel can use every frame the fill
// ring holds and no more, so the socket gives it RingSize frames at the
// start, keeps the rest of the UMEM in userspace, and after each Release
// the fill ring is full again: frames come back one batch after Receive
// handed them out, never later, and the frames in userspace never exceed
// what the fill ring has no room for plus the batch being read.
func TestReleaseRefillsFillRing(t *testing.T) {
	p := netns.New(t, 1)
	ifindex, err := netns.Ifindex(p.NSA, p.IfA)
	if err != nil {
		t.Fatal(err)
	}
	const frames, ring = 1024, 512
	var prog *Program
	var s *Socket
	err = netns.Do(p.NSA, func() error {
		var err error
		if prog, err = LoadProgram(ProgramSpec{}); err != nil {
			return err
		}
		if err := prog.Attach(ifindex, false); err != nil {
			return err
		}
		if s, err = NewSocket(ifindex, 0, Config{Frames: frames, RingSize: ring, Mode: ModeCopy}); err != nil {
			return err
		}
		return prog.Register(s)
	})
	t.Cleanup(func() {
		if s != nil {
			s.Close()
		}
		if prog != nil {
			prog.Close()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if fill, held := s.Level(); fill != ring || held != frames-ring {
		t.Fatalf("at the start: fill ring %d, held %d; want %d and %d", fill, held, ring, frames-ring)
	}
	// Six chunks of half a ring: three times as many frames as the fill
	// ring holds, so they must cycle. Each chunk is read to the end before
	// the next is sent: then no frame is in flight and the levels are exact.
	const chunk, chunks = ring / 2, 6
	bufs := make([][]byte, 64)
	got, batches := 0, 0
	for c := 0; c < chunks; c++ {
		send := make([][]byte, chunk)
		for i := range send {
			send[i] = udpFrame(1000, uint32(c*chunk+i))
		}
		if _, err := netns.Send(p.NSB, p.IfB, send); err != nil {
			t.Fatal(err)
		}
		want := got + chunk
		deadline := time.Now().Add(5 * time.Second)
		for got < want && time.Now().Before(deadline) {
			k, err := s.Receive(bufs, 50*time.Millisecond)
			if err != nil {
				t.Fatal(err)
			}
			if k == 0 {
				continue
			}
			got += k
			batches++
			s.Release()
		}
		// The kernel published its consumer index when it flushed the
		// chunk's last frames to the RX ring, so every frame fits back.
		if fill, held := s.Level(); fill != ring || held != frames-ring {
			t.Errorf("after chunk %d: fill ring %d and %d frames held; want %d and %d", c, fill, held, ring, frames-ring)
		}
	}
	const n = chunk * chunks
	st, err := s.Stats()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d frames in %d batches, kernel %+v", got, batches, st)
	if got != n || st.Lost() != 0 {
		t.Errorf("received %d of %d frames, the kernel lost %d", got, n, st.Lost())
	}
}

// TestRingHoldsEveryFrame: by default the fill ring has room for every
// UMEM frame, whatever the frame count (-B divides memory into counts that
// are not powers of two), so the kernel can receive into all of them.
func TestRingHoldsEveryFrame(t *testing.T) {
	for _, c := range []struct{ frames, ring uint32 }{
		{64, 64}, {3000, 4096}, {16384, 16384}, {40000, 65536}, {65536, 65536}, {131072, 131072},
	} {
		if got := (Config{Frames: c.frames}).withDefaults().RingSize; got != c.ring {
			t.Errorf("%d frames: ring of %d, want %d", c.frames, got, c.ring)
		}
	}
	p := netns.New(t, 1)
	ifindex, err := netns.Ifindex(p.NSA, p.IfA)
	if err != nil {
		t.Fatal(err)
	}
	const frames = 3000
	var s *Socket
	if err := netns.Do(p.NSA, func() error {
		var err error
		s, err = NewSocket(ifindex, 0, Config{Frames: frames, Mode: ModeCopy})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if fill, held := s.Level(); fill != frames || held != 0 {
		t.Errorf("%d frames: %d in the fill ring, %d held back; want all in the ring", frames, fill, held)
	}
}
