package netns

import (
	"encoding/binary"
	"fmt"
	"net"

	"github.com/wringcap/wring/internal/linux"
)

func netInterfaceIndex(name string) (int, error) {
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		return 0, err
	}
	return ifi.Index, nil
}

// Send transmits raw Ethernet frames on interface ifname inside namespace ns
// through an AF_PACKET socket, one sendto per frame, and returns how many
// the kernel accepted.
func Send(ns, ifname string, frames [][]byte) (int, error) {
	sent := 0
	err := Do(ns, func() error {
		ifi, err := net.InterfaceByName(ifname)
		if err != nil {
			return fmt.Errorf("netns: %s in %s: %w", ifname, ns, err)
		}
		fd, err := linux.Socket(linux.AF_PACKET, linux.SOCK_RAW, int(htons(linux.ETH_P_ALL)))
		if err != nil {
			return fmt.Errorf("netns: packet socket: %w", err)
		}
		defer linux.Close(fd)
		// Bypass the qdisc so frames are not dropped by a full queue.
		_ = linux.SetsockoptInt(fd, linux.SOL_PACKET, linux.PACKET_QDISC_BYPASS, 1)
		sa := &linux.SockaddrLinklayer{Ifindex: ifi.Index, Protocol: htons(linux.ETH_P_ALL)}
		for _, f := range frames {
			for {
				err := linux.Sendto(fd, f, 0, sa)
				if err == linux.ENOBUFS || err == linux.EAGAIN {
					continue
				}
				if err != nil {
					return fmt.Errorf("netns: send frame %d: %w", sent, err)
				}
				break
			}
			sent++
		}
		return nil
	})
	return sent, err
}

func htons(v uint16) uint16 {
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], v)
	return binary.NativeEndian.Uint16(b[:])
}
