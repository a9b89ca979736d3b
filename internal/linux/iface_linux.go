package linux

import (
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

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

// controlSocket opens the datagram socket interface ioctls are issued on.
func controlSocket() (int, error) {
	return unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
}

// EthtoolRxChannels returns the receive plus combined channel count the
// driver of ifname reports (ETHTOOL_GCHANNELS), in the calling thread's
// network namespace. Drivers without channels (lo, tun) return an error.
func EthtoolRxChannels(ifname string) (int, error) {
	fd, err := controlSocket()
	if err != nil {
		return 0, fmt.Errorf("ethtool %s: %w", ifname, err)
	}
	defer unix.Close(fd)
	ch := ethtoolChannels{Cmd: ethtoolGChannels}
	var ifr ifreqData
	copy(ifr.Name[:], ifname)
	ifr.Data = uintptr(unsafe.Pointer(&ch))
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SIOCETHTOOL, uintptr(unsafe.Pointer(&ifr))); e != 0 {
		return 0, fmt.Errorf("ethtool %s: channels: %w", ifname, e)
	}
	return int(ch.RxCount + ch.CombinedCount), nil
}

// Driver returns the kernel driver of an interface ("" when it has none
// that ethtool reports).
func Driver(ifname string) string {
	fd, err := controlSocket()
	if err != nil {
		return ""
	}
	defer unix.Close(fd)
	info, err := unix.IoctlGetEthtoolDrvinfo(fd, ifname)
	if err != nil {
		return ""
	}
	return unix.ByteSliceToString(info.Driver[:])
}

// HardwareType returns the ARPHRD_ type of an interface (SIOCGIFHWADDR's
// address family), in the calling thread's network namespace.
func HardwareType(ifname string) (uint16, error) {
	fd, err := controlSocket()
	if err != nil {
		return 0, fmt.Errorf("interface %s: %w", ifname, err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq(ifname)
	if err != nil {
		return 0, fmt.Errorf("interface %s: %w", ifname, err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFHWADDR, ifr); err != nil {
		return 0, fmt.Errorf("interface %s: hardware type: %w", ifname, err)
	}
	return ifr.Uint16(), nil
}

// tunSetIff is TUNSETIFF; iffTun and iffNoPI ask for a raw-IP tun device
// without the 4-byte packet information header.
const (
	tunSetIff = 0x400454ca
	iffTun    = 0x0001
	iffNoPI   = 0x1000
)

// OpenTun creates (or attaches to) the tun device name in the calling
// thread's network namespace and returns its file: each Read returns one
// IP packet the host sent on the device, each Write delivers one to the
// host. The device goes away when the file is closed.
func OpenTun(name string) (*os.File, error) {
	// Attach before Go's poller sees the descriptor: os.NewFile registers
	// a non-blocking descriptor with epoll, and a tun file polled before
	// TUNSETIFF reports only an error.
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("tun %s: %w", name, err)
	}
	var ifr struct {
		Name  [unix.IFNAMSIZ]byte
		Flags uint16
		_     [22]byte
	}
	copy(ifr.Name[:], name)
	ifr.Flags = iffTun | iffNoPI
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), tunSetIff, uintptr(unsafe.Pointer(&ifr))); errno != 0 {
		unix.Close(fd)
		return nil, fmt.Errorf("tun %s: TUNSETIFF: %w", name, errno)
	}
	return os.NewFile(uintptr(fd), "/dev/net/tun"), nil
}
