package netns

import (
	"net"
	"testing"
	"time"

	"github.com/wringcap/wring/internal/linux"
)

// TestPairCarriesFrames sends frames from B and receives them on A with a
// plain AF_PACKET socket: the harness itself works.
func TestPairCarriesFrames(t *testing.T) {
	p := New(t, 4)
	var fd int
	err := Do(p.NSA, func() error {
		ifi, err := net.InterfaceByName(p.IfA)
		if err != nil {
			return err
		}
		fd, err = linux.Socket(linux.AF_PACKET, linux.SOCK_RAW, int(htons(linux.ETH_P_ALL)))
		if err != nil {
			return err
		}
		return linux.Bind(fd, &linux.SockaddrLinklayer{Ifindex: ifi.Index, Protocol: htons(linux.ETH_P_ALL)})
	})
	if err != nil {
		t.Fatal(err)
	}
	defer linux.Close(fd)
	frame := make([]byte, 60)
	copy(frame, []byte{0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x88, 0xb5}) // local experimental EtherType
	for i := range frame[14:] {
		frame[14+i] = byte(i)
	}
	n, err := Send(p.NSB, p.IfB, [][]byte{frame, frame, frame})
	if err != nil || n != 3 {
		t.Fatalf("sent %d: %v", n, err)
	}
	tv := linux.NsecToTimeval(int64(2 * time.Second))
	_ = linux.SetsockoptTimeval(fd, linux.SOL_SOCKET, linux.SO_RCVTIMEO, &tv)
	got := 0
	buf := make([]byte, 2048)
	for got < 3 {
		m, _, err := linux.Recvfrom(fd, buf, 0)
		if err != nil {
			t.Fatalf("received %d of 3 frames: %v", got, err)
		}
		if m == len(frame) && buf[12] == 0x88 && buf[13] == 0xb5 {
			got++
		}
	}
}
