//go:build linux

package linux

import "golang.org/x/sys/unix"

// The x/sys/unix names the passive capture path (BPF ring buffers read in
// place, kernel timestamps) and its tests use.
const (
	CLOCK_REALTIME = unix.CLOCK_REALTIME
	CLOCK_TAI      = unix.CLOCK_TAI
	EPOLLIN        = unix.EPOLLIN
	EPOLL_CLOEXEC  = unix.EPOLL_CLOEXEC
	EPOLL_CTL_ADD  = unix.EPOLL_CTL_ADD
	SO_TIMESTAMPNS = unix.SO_TIMESTAMPNS
)

// EpollEvent is unix.EpollEvent.
type EpollEvent = unix.EpollEvent

// EpollCreate1 is unix.EpollCreate1.
func EpollCreate1(flag int) (fd int, err error) { return unix.EpollCreate1(flag) }

// EpollCtl is unix.EpollCtl.
func EpollCtl(epfd int, op int, fd int, event *EpollEvent) (err error) {
	return unix.EpollCtl(epfd, op, fd, event)
}

// EpollWait is unix.EpollWait.
func EpollWait(epfd int, events []EpollEvent, msec int) (n int, err error) {
	return unix.EpollWait(epfd, events, msec)
}

// SchedGetaffinity is unix.SchedGetaffinity.
func SchedGetaffinity(pid int, set *CPUSet) error { return unix.SchedGetaffinity(pid, set) }

// Names the passive path's tests use to make a tun device.
const (
	IFF_NO_PI = unix.IFF_NO_PI
	IFF_TUN   = unix.IFF_TUN
	TUNSETIFF = unix.TUNSETIFF
)

// Read is unix.Read.
func Read(fd int, p []byte) (n int, err error) { return unix.Read(fd, p) }

// Write is unix.Write.
func Write(fd int, p []byte) (n int, err error) { return unix.Write(fd, p) }
