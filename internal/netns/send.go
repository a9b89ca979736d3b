package netns

import (
	"encoding/binary"
	"fmt"
	"net"

	"golang.org/x/sys/unix"
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
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, int(htons(unix.ETH_P_ALL)))
		if err != nil {
			return fmt.Errorf("netns: packet socket: %w", err)
		}
		defer unix.Close(fd)
		// Bypass the qdisc so frames are not dropped by a full queue.
		_ = unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_QDISC_BYPASS, 1)
		sa := &unix.SockaddrLinklayer{Ifindex: ifi.Index, Protocol: htons(unix.ETH_P_ALL)}
		for _, f := range frames {
			for {
				err := unix.Sendto(fd, f, 0, sa)
				if err == unix.ENOBUFS || err == unix.EAGAIN {
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
