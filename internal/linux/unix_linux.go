//go:build linux

package linux

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// The x/sys/unix names the capture paths and the test helpers use, under
// the same names, so that this package stays the only importer of
// x/sys/unix (as cilium/ebpf's internal/unix is).

// Constants.
const (
	AF_INET                        = unix.AF_INET
	AF_PACKET                      = unix.AF_PACKET
	AF_UNIX                        = unix.AF_UNIX
	AF_XDP                         = unix.AF_XDP
	ARPHRD_ETHER                   = unix.ARPHRD_ETHER
	ARPHRD_LOOPBACK                = unix.ARPHRD_LOOPBACK
	ARPHRD_NONE                    = unix.ARPHRD_NONE
	BPF_F_TEST_XDP_LIVE_FRAMES     = unix.BPF_F_TEST_XDP_LIVE_FRAMES
	CAP_BPF                        = unix.CAP_BPF
	CAP_NET_ADMIN                  = unix.CAP_NET_ADMIN
	CAP_NET_RAW                    = unix.CAP_NET_RAW
	CAP_PERFMON                    = unix.CAP_PERFMON
	CAP_SYS_ADMIN                  = unix.CAP_SYS_ADMIN
	CLOCK_THREAD_CPUTIME_ID        = unix.CLOCK_THREAD_CPUTIME_ID
	CLONE_NEWNET                   = unix.CLONE_NEWNET
	EACCES                         = unix.EACCES
	EAFNOSUPPORT                   = unix.EAFNOSUPPORT
	EAGAIN                         = unix.EAGAIN
	EINTR                          = unix.EINTR
	EINVAL                         = unix.EINVAL
	ENETDOWN                       = unix.ENETDOWN
	ENOBUFS                        = unix.ENOBUFS
	ENODEV                         = unix.ENODEV
	ENOMEM                         = unix.ENOMEM
	ENOPROTOOPT                    = unix.ENOPROTOOPT
	ENXIO                          = unix.ENXIO
	EOPNOTSUPP                     = unix.EOPNOTSUPP
	EPERM                          = unix.EPERM
	ETH_P_8021AD                   = unix.ETH_P_8021AD
	ETH_P_8021Q                    = unix.ETH_P_8021Q
	ETH_P_ALL                      = unix.ETH_P_ALL
	IFNAMSIZ                       = unix.IFNAMSIZ
	LINUX_CAPABILITY_VERSION_3     = unix.LINUX_CAPABILITY_VERSION_3
	MAP_ANONYMOUS                  = unix.MAP_ANONYMOUS
	MAP_LOCKED                     = unix.MAP_LOCKED
	MAP_POPULATE                   = unix.MAP_POPULATE
	MAP_PRIVATE                    = unix.MAP_PRIVATE
	MAP_SHARED                     = unix.MAP_SHARED
	MSG_DONTWAIT                   = unix.MSG_DONTWAIT
	MSG_TRUNC                      = unix.MSG_TRUNC
	PACKET_ADD_MEMBERSHIP          = unix.PACKET_ADD_MEMBERSHIP
	PACKET_FANOUT                  = unix.PACKET_FANOUT
	PACKET_FANOUT_FLAG_DEFRAG      = unix.PACKET_FANOUT_FLAG_DEFRAG
	PACKET_FANOUT_HASH             = unix.PACKET_FANOUT_HASH
	PACKET_HOST                    = unix.PACKET_HOST
	PACKET_IGNORE_OUTGOING         = unix.PACKET_IGNORE_OUTGOING
	PACKET_MR_PROMISC              = unix.PACKET_MR_PROMISC
	PACKET_OUTGOING                = unix.PACKET_OUTGOING
	PACKET_QDISC_BYPASS            = unix.PACKET_QDISC_BYPASS
	PACKET_RESERVE                 = unix.PACKET_RESERVE
	PACKET_RX_RING                 = unix.PACKET_RX_RING
	PACKET_STATISTICS              = unix.PACKET_STATISTICS
	PACKET_VERSION                 = unix.PACKET_VERSION
	POLLERR                        = unix.POLLERR
	POLLIN                         = unix.POLLIN
	PRIO_PROCESS                   = unix.PRIO_PROCESS
	PROT_READ                      = unix.PROT_READ
	PROT_WRITE                     = unix.PROT_WRITE
	SIOCETHTOOL                    = unix.SIOCETHTOOL
	SIOCGIFHWADDR                  = unix.SIOCGIFHWADDR
	SIOCGIFINDEX                   = unix.SIOCGIFINDEX
	SOCK_CLOEXEC                   = unix.SOCK_CLOEXEC
	SOCK_DGRAM                     = unix.SOCK_DGRAM
	SOCK_RAW                       = unix.SOCK_RAW
	SOL_PACKET                     = unix.SOL_PACKET
	SOL_SOCKET                     = unix.SOL_SOCKET
	SOL_XDP                        = unix.SOL_XDP
	SO_ATTACH_FILTER               = unix.SO_ATTACH_FILTER
	SO_DETACH_FILTER               = unix.SO_DETACH_FILTER
	SO_RCVBUFFORCE                 = unix.SO_RCVBUFFORCE
	SO_RCVTIMEO                    = unix.SO_RCVTIMEO
	SO_SNDBUFFORCE                 = unix.SO_SNDBUFFORCE
	SYS_GETSOCKOPT                 = unix.SYS_GETSOCKOPT
	SYS_IOCTL                      = unix.SYS_IOCTL
	SYS_SETSOCKOPT                 = unix.SYS_SETSOCKOPT
	SizeofSockaddrLinklayer        = unix.SizeofSockaddrLinklayer
	TPACKET_ALIGNMENT              = unix.TPACKET_ALIGNMENT
	TPACKET_V3                     = unix.TPACKET_V3
	TP_STATUS_KERNEL               = unix.TP_STATUS_KERNEL
	TP_STATUS_USER                 = unix.TP_STATUS_USER
	TP_STATUS_VLAN_TPID_VALID      = unix.TP_STATUS_VLAN_TPID_VALID
	TP_STATUS_VLAN_VALID           = unix.TP_STATUS_VLAN_VALID
	XDP_COPY                       = unix.XDP_COPY
	XDP_MMAP_OFFSETS               = unix.XDP_MMAP_OFFSETS
	XDP_PGOFF_RX_RING              = unix.XDP_PGOFF_RX_RING
	XDP_RING_NEED_WAKEUP           = unix.XDP_RING_NEED_WAKEUP
	XDP_RX_RING                    = unix.XDP_RX_RING
	XDP_STATISTICS                 = unix.XDP_STATISTICS
	XDP_UMEM_COMPLETION_RING       = unix.XDP_UMEM_COMPLETION_RING
	XDP_UMEM_FILL_RING             = unix.XDP_UMEM_FILL_RING
	XDP_UMEM_PGOFF_COMPLETION_RING = unix.XDP_UMEM_PGOFF_COMPLETION_RING
	XDP_UMEM_PGOFF_FILL_RING       = unix.XDP_UMEM_PGOFF_FILL_RING
	XDP_UMEM_REG                   = unix.XDP_UMEM_REG
	XDP_USE_NEED_WAKEUP            = unix.XDP_USE_NEED_WAKEUP
	XDP_ZEROCOPY                   = unix.XDP_ZEROCOPY
)

// CPUSet is unix.CPUSet.
type CPUSet = unix.CPUSet

// CapUserData is unix.CapUserData.
type CapUserData = unix.CapUserData

// CapUserHeader is unix.CapUserHeader.
type CapUserHeader = unix.CapUserHeader

// Errno is unix.Errno.
type Errno = unix.Errno

// Ifreq is unix.Ifreq.
type Ifreq = unix.Ifreq

// PacketMreq is unix.PacketMreq.
type PacketMreq = unix.PacketMreq

// PollFd is unix.PollFd.
type PollFd = unix.PollFd

// RawSockaddrLinklayer is unix.RawSockaddrLinklayer.
type RawSockaddrLinklayer = unix.RawSockaddrLinklayer

// SockFilter is unix.SockFilter.
type SockFilter = unix.SockFilter

// SockFprog is unix.SockFprog.
type SockFprog = unix.SockFprog

// SockaddrLinklayer is unix.SockaddrLinklayer.
type SockaddrLinklayer = unix.SockaddrLinklayer

// SockaddrXDP is unix.SockaddrXDP.
type SockaddrXDP = unix.SockaddrXDP

// Stat_t is unix.Stat_t.
type Stat_t = unix.Stat_t

// Timespec is unix.Timespec.
type Timespec = unix.Timespec

// Tpacket3Hdr is unix.Tpacket3Hdr.
type Tpacket3Hdr = unix.Tpacket3Hdr

// TpacketBlockDesc is unix.TpacketBlockDesc.
type TpacketBlockDesc = unix.TpacketBlockDesc

// TpacketHdrV1 is unix.TpacketHdrV1.
type TpacketHdrV1 = unix.TpacketHdrV1

// TpacketReq3 is unix.TpacketReq3.
type TpacketReq3 = unix.TpacketReq3

// TpacketStatsV3 is unix.TpacketStatsV3.
type TpacketStatsV3 = unix.TpacketStatsV3

// XDPDesc is unix.XDPDesc.
type XDPDesc = unix.XDPDesc

// XDPMmapOffsets is unix.XDPMmapOffsets.
type XDPMmapOffsets = unix.XDPMmapOffsets

// XDPRingOffset is unix.XDPRingOffset.
type XDPRingOffset = unix.XDPRingOffset

// XDPStatistics is unix.XDPStatistics.
type XDPStatistics = unix.XDPStatistics

// XDPUmemReg is unix.XDPUmemReg.
type XDPUmemReg = unix.XDPUmemReg

// Bind is unix.Bind.
func Bind(fd int, sa unix.Sockaddr) (err error) { return unix.Bind(fd, sa) }

// ByteSliceToString is unix.ByteSliceToString.
func ByteSliceToString(s []byte) string { return unix.ByteSliceToString(s) }

// Capget is unix.Capget.
func Capget(hdr *unix.CapUserHeader, data *unix.CapUserData) (err error) {
	return unix.Capget(hdr, data)
}

// ClockGettime is unix.ClockGettime.
func ClockGettime(clockid int32, time *unix.Timespec) (err error) {
	return unix.ClockGettime(clockid, time)
}

// Close is unix.Close.
func Close(fd int) (err error) { return unix.Close(fd) }

// Getpagesize is unix.Getpagesize.
func Getpagesize() int { return unix.Getpagesize() }

// Gettid is unix.Gettid.
func Gettid() (tid int) { return unix.Gettid() }

// IoctlGetEthtoolDrvinfo is unix.IoctlGetEthtoolDrvinfo.
func IoctlGetEthtoolDrvinfo(fd int, ifname string) (*unix.EthtoolDrvinfo, error) {
	return unix.IoctlGetEthtoolDrvinfo(fd, ifname)
}

// IoctlGetUint32 is unix.IoctlGetUint32.
func IoctlGetUint32(fd int, req uint) (uint32, error) { return unix.IoctlGetUint32(fd, req) }

// IoctlIfreq is unix.IoctlIfreq.
func IoctlIfreq(fd int, req uint, value *unix.Ifreq) error { return unix.IoctlIfreq(fd, req, value) }

// Mmap is unix.Mmap.
func Mmap(fd int, offset int64, length int, prot int, flags int) (data []byte, err error) {
	return unix.Mmap(fd, offset, length, prot, flags)
}

// Munmap is unix.Munmap.
func Munmap(b []byte) (err error) { return unix.Munmap(b) }

// NewIfreq is unix.NewIfreq.
func NewIfreq(name string) (*unix.Ifreq, error) { return unix.NewIfreq(name) }

// Nanosleep is unix.Nanosleep.
func Nanosleep(time *unix.Timespec, leftover *unix.Timespec) (err error) {
	return unix.Nanosleep(time, leftover)
}

// NsecToTimespec is unix.NsecToTimespec.
func NsecToTimespec(nsec int64) unix.Timespec { return unix.NsecToTimespec(nsec) }

// Prctl is unix.Prctl.
func Prctl(option int, arg2 uintptr, arg3 uintptr, arg4 uintptr, arg5 uintptr) (err error) {
	return unix.Prctl(option, arg2, arg3, arg4, arg5)
}

// PR_SET_TIMERSLACK is unix.PR_SET_TIMERSLACK.
const PR_SET_TIMERSLACK = unix.PR_SET_TIMERSLACK

// NsecToTimeval is unix.NsecToTimeval.
func NsecToTimeval(nsec int64) unix.Timeval { return unix.NsecToTimeval(nsec) }

// Poll is unix.Poll.
func Poll(fds []unix.PollFd, timeout int) (n int, err error) { return unix.Poll(fds, timeout) }

// Recvfrom is unix.Recvfrom.
func Recvfrom(fd int, p []byte, flags int) (n int, from unix.Sockaddr, err error) {
	return unix.Recvfrom(fd, p, flags)
}

// SchedSetaffinity is unix.SchedSetaffinity.
func SchedSetaffinity(pid int, set *unix.CPUSet) error { return unix.SchedSetaffinity(pid, set) }

// Send is unix.Send.
func Send(s int, buf []byte, flags int) (err error) { return unix.Send(s, buf, flags) }

// Sendto is unix.Sendto.
func Sendto(fd int, p []byte, flags int, to unix.Sockaddr) (err error) {
	return unix.Sendto(fd, p, flags, to)
}

// Setns is unix.Setns.
func Setns(fd int, nstype int) (err error) { return unix.Setns(fd, nstype) }

// Setpriority is unix.Setpriority.
func Setpriority(which int, who int, prio int) (err error) { return unix.Setpriority(which, who, prio) }

// SetsockoptInt is unix.SetsockoptInt.
func SetsockoptInt(fd, level, opt int, value int) (err error) {
	return unix.SetsockoptInt(fd, level, opt, value)
}

// SetsockoptPacketMreq is unix.SetsockoptPacketMreq.
func SetsockoptPacketMreq(fd, level, opt int, mreq *unix.PacketMreq) error {
	return unix.SetsockoptPacketMreq(fd, level, opt, mreq)
}

// SetsockoptSockFprog is unix.SetsockoptSockFprog.
func SetsockoptSockFprog(fd, level, opt int, fprog *unix.SockFprog) error {
	return unix.SetsockoptSockFprog(fd, level, opt, fprog)
}

// SetsockoptTimeval is unix.SetsockoptTimeval.
func SetsockoptTimeval(fd, level, opt int, tv *unix.Timeval) (err error) {
	return unix.SetsockoptTimeval(fd, level, opt, tv)
}

// Socket is unix.Socket.
func Socket(domain, typ, proto int) (fd int, err error) { return unix.Socket(domain, typ, proto) }

// Socketpair is unix.Socketpair.
func Socketpair(domain, typ, proto int) (fd [2]int, err error) {
	return unix.Socketpair(domain, typ, proto)
}

// Stat is unix.Stat.
func Stat(path string, stat *unix.Stat_t) (err error) { return unix.Stat(path, stat) }

// Syscall is unix.Syscall.
func Syscall(trap, a1, a2, a3 uintptr) (r1, r2 uintptr, err syscall.Errno) {
	return unix.Syscall(trap, a1, a2, a3)
}

// Syscall6 is unix.Syscall6.
func Syscall6(trap, a1, a2, a3, a4, a5, a6 uintptr) (r1, r2 uintptr, err syscall.Errno) {
	return unix.Syscall6(trap, a1, a2, a3, a4, a5, a6)
}

// Unshare is unix.Unshare.
func Unshare(flags int) (err error) { return unix.Unshare(flags) }

// SetsockoptTpacketReq3 is unix.SetsockoptTpacketReq3.
func SetsockoptTpacketReq3(fd, level, opt int, tp *unix.TpacketReq3) error {
	return unix.SetsockoptTpacketReq3(fd, level, opt, tp)
}

// GetsockoptTpacketStatsV3 is unix.GetsockoptTpacketStatsV3.
func GetsockoptTpacketStatsV3(fd, level, opt int) (*unix.TpacketStatsV3, error) {
	return unix.GetsockoptTpacketStatsV3(fd, level, opt)
}
