package live

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Device names what to capture: an interface and one of its receive queues,
// or all of them. "eth0" is every queue of eth0; "eth0@2" is queue 2 only
// (PF_RING/TNAPI's virtual capture device).
type Device struct {
	Name  string
	Queue int // -1: all queues
}

// ParseDevice parses "IF" or "IF@Q".
func ParseDevice(s string) (Device, error) {
	name, q, hasQ := strings.Cut(s, "@")
	if name == "" {
		return Device{}, fmt.Errorf("interface %q: empty name", s)
	}
	if len(name) >= unix.IFNAMSIZ {
		return Device{}, fmt.Errorf("interface %q: name longer than %d bytes", s, unix.IFNAMSIZ-1)
	}
	d := Device{Name: name, Queue: -1}
	if hasQ {
		n, err := strconv.ParseUint(q, 10, 16)
		if err != nil {
			return Device{}, fmt.Errorf("interface %q: queue %q is not a number", s, q)
		}
		d.Queue = int(n)
	}
	return d, nil
}

func (d Device) String() string {
	if d.Queue < 0 {
		return d.Name
	}
	return fmt.Sprintf("%s@%d", d.Name, d.Queue)
}

// ethtoolChannels is struct ethtool_channels.
type ethtoolChannels struct {
	Cmd                                         uint32
	MaxRx, MaxTx, MaxOther, MaxCombined         uint32
	RxCount, TxCount, OtherCount, CombinedCount uint32
}

type ifreqData struct {
	Name [unix.IFNAMSIZ]byte
	Data uintptr
	_    [16]byte
}

const ethtoolGChannels = 0x3c

// rxQueues returns the number of receive queues of an interface in the
// calling thread's network namespace: from ethtool's channel count when the
// driver reports it, else from /sys.
func rxQueues(name string) (int, error) {
	if _, err := net.InterfaceByName(name); err != nil {
		return 0, fmt.Errorf("interface %s: %w", name, err)
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err == nil {
		defer unix.Close(fd)
		ch := ethtoolChannels{Cmd: ethtoolGChannels}
		var ifr ifreqData
		copy(ifr.Name[:], name)
		ifr.Data = uintptr(unsafe.Pointer(&ch))
		_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SIOCETHTOOL, uintptr(unsafe.Pointer(&ifr)))
		if e == 0 {
			if n := int(ch.RxCount + ch.CombinedCount); n > 0 {
				return n, nil
			}
		}
	}
	ents, err := os.ReadDir(filepath.Join("/sys/class/net", name, "queues"))
	if err != nil {
		return 1, nil // no queue information: a single-queue device
	}
	n := 0
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "rx-") {
			n++
		}
	}
	if n == 0 {
		n = 1
	}
	return n, nil
}
