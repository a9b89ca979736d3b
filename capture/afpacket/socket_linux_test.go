package afpacket

import (
	"encoding/binary"
	"sync"
	"testing"
	"time"

	"github.com/wringcap/wring/internal/netns"
	"github.com/wringcap/wring/spec"
)

func frame(vlan bool, sport uint16, seq uint32) []byte {
	f := []byte{0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1}
	if vlan {
		f = append(f, 0x81, 0x00, 0x00, 0x2a) // VLAN 42
	}
	f = append(f, 0x08, 0x00)
	ip := make([]byte, 20+8+8)
	ip[0], ip[8], ip[9] = 0x45, 64, 17
	binary.BigEndian.PutUint16(ip[2:], uint16(len(ip)))
	copy(ip[12:], []byte{198, 18, 0, 1, 198, 18, 0, 2})
	binary.BigEndian.PutUint16(ip[20:], sport)
	binary.BigEndian.PutUint16(ip[22:], 9)
	binary.BigEndian.PutUint16(ip[24:], 16)
	binary.BigEndian.PutUint32(ip[28:], seq)
	return append(f, ip...)
}

// udpOnly accepts untagged IPv4/UDP frames, keeping the whole frame. The
// kernel has already moved a VLAN tag into metadata, so the program asks
// for it with the vlan_avail ancillary load, as libpcap does on Linux.
var udpOnly = spec.Program{
	{Op: 0x20, K: spec.AncillaryBase + spec.AncVLANTagPresent},
	{Op: 0x15, Jt: 0, Jf: 5, K: 0},
	{Op: 0x28, K: 12},
	{Op: 0x15, Jt: 0, Jf: 3, K: 0x0800},
	{Op: 0x30, K: 23},
	{Op: 0x15, Jt: 0, Jf: 1, K: 17},
	{Op: 0x06, K: 262144},
	{Op: 0x06, K: 0},
}

func open(t *testing.T, p *netns.Pair, filter spec.Program, cfg Config) *Socket {
	t.Helper()
	idx, err := netns.Ifindex(p.NSA, p.IfA)
	if err != nil {
		t.Fatal(err)
	}
	var s *Socket
	if err := netns.Do(p.NSA, func() error {
		var err error
		s, err = Open(idx, filter, cfg)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func drain(t *testing.T, s *Socket, want int) []Frame {
	t.Helper()
	var got []Frame
	deadline := time.Now().Add(3 * time.Second)
	var batch []Frame
	idle := time.Now()
	for len(got) < want && time.Now().Before(deadline) {
		if len(got) > 0 && time.Since(idle) > 300*time.Millisecond {
			break // the rest went elsewhere (fanout)
		}
		var err error
		batch, err = s.Receive(batch[:0], 50*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		if len(batch) > 0 {
			idle = time.Now()
		}
		for _, f := range batch {
			f.Data = append([]byte(nil), f.Data...)
			got = append(got, f)
		}
		s.Release()
	}
	return got
}

// TestFilterAndVLAN sends untagged and tagged UDP frames; the kernel filter
// keeps the untagged ones (the tag is metadata to the kernel: only the
// ancillary load sees it), and without a filter the tagged frames come back
// with their tag restored in-band.
func TestFilterAndVLAN(t *testing.T) {
	p := netns.New(t, 1)
	filtered := open(t, p, udpOnly, Config{Blocks: 4, BlockSize: 1 << 16})
	all := open(t, p, nil, Config{Blocks: 4, BlockSize: 1 << 16})
	var frames [][]byte
	for i := 0; i < 100; i++ {
		frames = append(frames, frame(i%2 == 1, 1000, uint32(i)))
	}
	if _, err := netns.Send(p.NSB, p.IfB, frames); err != nil {
		t.Fatal(err)
	}
	got := drain(t, all, 100)
	if len(got) != 100 {
		t.Fatalf("unfiltered socket got %d frames, want 100", len(got))
	}
	for i, f := range got {
		if string(f.Data) != string(frames[i]) || f.WireLen != uint32(len(frames[i])) {
			t.Fatalf("frame %d:\n got % x (wire %d)\nwant % x", i, f.Data, f.WireLen, frames[i])
		}
	}
	fgot := drain(t, filtered, 50)
	if len(fgot) != 50 {
		t.Fatalf("filtered socket got %d frames, want 50", len(fgot))
	}
	for _, f := range fgot {
		if f.Data[12] != 0x08 {
			t.Fatalf("filter let a tagged frame through: % x", f.Data[:16])
		}
	}
	st, err := filtered.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Packets != 50 || st.Drops != 0 {
		t.Fatalf("kernel stats %+v, want 50 packets, 0 drops", st)
	}
	// After Close the counts stay as they were, without the descriptor,
	// even when another socket now has its number.
	fd := filtered.fd
	if err := filtered.Close(); err != nil {
		t.Fatal(err)
	}
	other := open(t, p, nil, Config{Blocks: 4, BlockSize: 1 << 16})
	if _, err := netns.Send(p.NSB, p.IfB, frames); err != nil {
		t.Fatal(err)
	}
	drain(t, other, 100)
	if st2, err := filtered.Stats(); err != nil || st2 != st {
		t.Fatalf("stats after Close %+v (%v), want %+v (the socket now on fd %d: %d, closed one: %d)", st2, err, st, fd, other.fd, fd)
	}
}

// TestFanout spreads flows over two sockets in one fanout group: every frame
// arrives once, and each flow stays on one socket.
func TestFanout(t *testing.T) {
	p := netns.New(t, 2)
	cfg := Config{Blocks: 4, BlockSize: 1 << 16, Fanout: true, FanoutID: 4242}
	socks := []*Socket{open(t, p, nil, cfg), open(t, p, nil, cfg)}
	var frames [][]byte
	for i := 0; i < 400; i++ {
		frames = append(frames, frame(false, uint16(2000+i%16), uint32(i)))
	}
	if _, err := netns.Send(p.NSB, p.IfB, frames); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	owner := map[uint16]int{}
	total := 0
	var wg sync.WaitGroup
	counts := make([]int, 2)
	for i, s := range socks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got := drain(t, s, 400)
			mu.Lock()
			defer mu.Unlock()
			for _, f := range got {
				sport := binary.BigEndian.Uint16(f.Data[34:])
				if o, ok := owner[sport]; ok && o != i {
					t.Errorf("flow %d on both sockets", sport)
				}
				owner[sport] = i
				total++
				counts[i]++
			}
		}()
	}
	wg.Wait()
	if total != 400 {
		t.Fatalf("received %d frames, want 400", total)
	}
	if counts[0] == 0 || counts[1] == 0 {
		t.Fatalf("fanout did not spread: %v", counts)
	}
}
