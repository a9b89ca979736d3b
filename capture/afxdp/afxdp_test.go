//go:build linux

package afxdp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/wringcap/wring/internal/netns"
)

// udpFrame builds an Ethernet/IPv4/UDP frame with the given source port (so
// flows, and so veth TX/RX queues, differ) and a sequence number in the
// payload.
func udpFrame(sport uint16, seq uint32) []byte {
	f := make([]byte, 60)
	copy(f, []byte{0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00})
	ip := f[14:]
	ip[0], ip[8], ip[9] = 0x45, 64, 17
	binary.BigEndian.PutUint16(ip[2:], 46)
	copy(ip[12:], []byte{198, 18, 0, 1, 198, 18, 0, 2})
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(ip[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(ip[10:], ^uint16(sum))
	udp := ip[20:]
	binary.BigEndian.PutUint16(udp[0:], sport)
	binary.BigEndian.PutUint16(udp[2:], 9)
	binary.BigEndian.PutUint16(udp[4:], 26)
	binary.BigEndian.PutUint32(udp[8:], seq)
	return f
}

// TestCaptureAllQueues attaches the program without a filter to a 4-queue
// veth, binds one socket per queue, sends frames of many flows and checks
// that every frame arrives exactly once, unchanged and stamped, and the
// counters reconcile: with the stamp in the metadata area, and in front of
// the frame (the placement for kernels that refuse bpf_xdp_adjust_meta).
func TestCaptureAllQueues(t *testing.T) {
	t.Run("meta", func(t *testing.T) {
		if !metaSupported() {
			t.Skip("this kernel refuses bpf_xdp_adjust_meta to XDP programs; the inframe case covers it")
		}
		testCaptureAllQueues(t, false)
	})
	t.Run("inframe", func(t *testing.T) { testCaptureAllQueues(t, true) })
}

func testCaptureAllQueues(t *testing.T, inFrame bool) {
	p := netns.New(t, 4)
	ifindex, err := netns.Ifindex(p.NSA, p.IfA)
	if err != nil {
		t.Fatal(err)
	}
	var prog *Program
	var socks []*Socket
	err = netns.Do(p.NSA, func() error {
		var err error
		prog, err = LoadProgram(ProgramSpec{StampInFrame: inFrame})
		if err != nil {
			return err
		}
		if prog.StampInFrame != inFrame && inFrame {
			return errors.New("the program does not put the stamp in the frame")
		}
		if err := prog.Attach(ifindex, false); err != nil {
			return err
		}
		for q := 0; q < 4; q++ {
			s, err := NewSocket(ifindex, q, Config{Frames: 4096, Mode: ModeCopy})
			if err != nil {
				return err
			}
			socks = append(socks, s)
			if err := prog.Register(s); err != nil {
				return err
			}
		}
		return nil
	})
	t.Cleanup(func() {
		for _, s := range socks {
			s.Close()
		}
		if prog != nil {
			prog.Close()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	const n = 2000
	frames := make([][]byte, n)
	for i := range frames {
		frames[i] = udpFrame(uint16(1000+i%64), uint32(i))
	}
	got := make([][]uint32, 4)
	unstamped := make([]int, 4)
	var wg sync.WaitGroup
	for q, s := range socks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bufs := make([][]byte, 64)
			stamps := make([]int64, 64)
			deadline := time.Now().Add(3 * time.Second)
			for time.Now().Before(deadline) {
				k, err := s.ReceiveStamped(bufs, stamps, 50*time.Millisecond)
				if err != nil {
					t.Error(err)
					return
				}
				for i, b := range bufs[:k] {
					if stamps[i] == 0 {
						unstamped[q]++
					}
					if len(b) != 60 {
						t.Errorf("queue %d: a frame of %d bytes, sent 60", q, len(b))
						continue
					}
					seq := binary.BigEndian.Uint32(b[42:])
					if seq >= n || !bytes.Equal(b, frames[seq]) {
						t.Errorf("queue %d: frame % x is not one sent", q, b)
						continue
					}
					got[q] = append(got[q], seq)
				}
				s.Release()
			}
		}()
	}
	time.Sleep(100 * time.Millisecond)
	sent, err := netns.Send(p.NSB, p.IfB, frames)
	if err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	seen := make(map[uint32]int)
	total := 0
	for q := range got {
		c, err := prog.Counters(q)
		if err != nil {
			t.Fatal(err)
		}
		st, _ := socks[q].Stats()
		t.Logf("queue %d: received %d, program saw %d matched %d, kernel %+v", q, len(got[q]), c.Seen, c.Matched, st)
		if c.Unstamped != 0 {
			t.Errorf("queue %d: %d frames passed unstamped", q, c.Unstamped)
		}
		for _, s := range got[q] {
			seen[s]++
		}
		total += len(got[q])
	}
	if sent != n || total != n || len(seen) != n {
		t.Fatalf("sent %d, received %d (%d distinct), want %d", sent, total, len(seen), n)
	}
	for q, u := range unstamped {
		if u != 0 {
			t.Errorf("queue %d: %d frames without the program's timestamp", q, u)
		}
	}
	used := 0
	for q := range got {
		if len(got[q]) > 0 {
			used++
		}
	}
	if used < 2 {
		t.Errorf("frames landed on %d queue(s): the flows should spread", used)
	}
}
