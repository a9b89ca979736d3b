//go:build linux

package afxdp

import (
	"bytes"
	"encoding/binary"
	"sync"
	"testing"
	"time"

	"github.com/wringcap/wring/internal/linux"
	"github.com/wringcap/wring/internal/netns"
)

// TestInFrameStampLeavesHostFramesIntact: with the stamp in front of the
// frame, a matched frame that cannot be redirected (its queue has no
// socket) reaches the host without the stamp: the program takes it off
// again. Only queue 0 of a 4-queue veth has a socket; every frame sent is
// either captured there or received unchanged by a packet socket on the
// host, never both, never altered.
func TestInFrameStampLeavesHostFramesIntact(t *testing.T) {
	p := netns.New(t, 4)
	ifindex, err := netns.Ifindex(p.NSA, p.IfA)
	if err != nil {
		t.Fatal(err)
	}
	var prog *Program
	var sock *Socket
	host := -1
	err = netns.Do(p.NSA, func() error {
		var err error
		if host, err = linux.Socket(linux.AF_PACKET, linux.SOCK_RAW, int(htons(linux.ETH_P_ALL))); err != nil {
			return err
		}
		if err := linux.Bind(host, &linux.SockaddrLinklayer{Ifindex: ifindex, Protocol: htons(linux.ETH_P_ALL)}); err != nil {
			return err
		}
		// Room for every frame sent, however late the reader runs.
		if err := linux.SetsockoptInt(host, linux.SOL_SOCKET, linux.SO_RCVBUFFORCE, 32<<20); err != nil {
			return err
		}
		tv := linux.NsecToTimeval(int64(200 * time.Millisecond))
		if err := linux.SetsockoptTimeval(host, linux.SOL_SOCKET, linux.SO_RCVTIMEO, &tv); err != nil {
			return err
		}
		if prog, err = LoadProgram(ProgramSpec{StampInFrame: true}); err != nil {
			return err
		}
		if err := prog.Attach(ifindex, false); err != nil {
			return err
		}
		if sock, err = NewSocket(ifindex, 0, Config{Frames: 4096, Mode: ModeCopy}); err != nil {
			return err
		}
		return prog.Register(sock)
	})
	t.Cleanup(func() {
		if sock != nil {
			sock.Close()
		}
		if prog != nil {
			prog.Close()
		}
		if host >= 0 {
			linux.Close(host)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	const n = 1000
	frames := make([][]byte, n)
	for i := range frames {
		frames[i] = udpFrame(uint16(1000+i%64), uint32(i))
	}
	ours := func(b []byte) (uint32, bool) {
		if len(b) < 46 || !bytes.Equal(b[26:34], []byte{198, 18, 0, 1, 198, 18, 0, 2}) {
			return 0, false
		}
		return binary.BigEndian.Uint32(b[42:]), true
	}
	var captured, hostGot []uint32
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		bufs, stamps := make([][]byte, 64), make([]int64, 64)
		for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); {
			k, err := sock.ReceiveStamped(bufs, stamps, 50*time.Millisecond)
			if err != nil {
				t.Error(err)
				return
			}
			for i, b := range bufs[:k] {
				seq, ok := ours(b)
				if !ok || seq >= n || !bytes.Equal(b, frames[seq]) || stamps[i] == 0 {
					t.Errorf("captured % x (stamp %d): not a frame sent, or unstamped", b, stamps[i])
					continue
				}
				captured = append(captured, seq)
			}
			sock.Release()
		}
	}()
	go func() {
		defer wg.Done()
		buf := make([]byte, 2048)
		for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); {
			k, _, err := linux.Recvfrom(host, buf, 0)
			if err != nil {
				continue // the receive timeout
			}
			b := buf[:k]
			seq, ok := ours(b)
			if !ok {
				continue
			}
			if seq >= n || !bytes.Equal(b, frames[seq]) {
				t.Errorf("the host received % x: not a frame sent", b)
				continue
			}
			hostGot = append(hostGot, seq)
		}
	}()
	time.Sleep(100 * time.Millisecond)
	if sent, err := netns.Send(p.NSB, p.IfB, frames); err != nil || sent != n {
		t.Fatalf("sent %d of %d: %v", sent, n, err)
	}
	wg.Wait()
	seen := map[uint32]int{}
	for _, s := range captured {
		seen[s]++
	}
	for _, s := range hostGot {
		seen[s]++
	}
	c, err := prog.Counters(0)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("captured on queue 0: %d; received by the host from queues 1-3: %d; queue 0 counters %+v", len(captured), len(hostGot), c)
	if len(seen) != n || len(captured)+len(hostGot) != n {
		t.Fatalf("%d distinct frames of %d, %d captured + %d to the host", len(seen), n, len(captured), len(hostGot))
	}
	// After Close, Stats returns the counts as the socket closed, without
	// its descriptor.
	before, err := sock.Stats()
	if err != nil {
		t.Fatal(err)
	}
	sock.Close()
	if after, err := sock.Stats(); err != nil || after != before {
		t.Errorf("stats after Close %+v (%v), before %+v", after, err, before)
	}
	if len(captured) == 0 || len(hostGot) == 0 {
		t.Fatalf("captured %d, host %d: the flows should spread over the queues", len(captured), len(hostGot))
	}
}

// htons is the protocol number in network order, as packet sockets take it.
func htons(v uint16) uint16 {
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], v)
	return binary.NativeEndian.Uint16(b[:])
}
