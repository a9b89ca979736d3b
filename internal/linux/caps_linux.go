package linux

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Capability is a Linux capability number (capabilities(7)).
type Capability int

// The capabilities wring's capture modes use.
const (
	CapNetAdmin Capability = unix.CAP_NET_ADMIN // attach XDP and tc programs, set link flags
	CapNetRaw   Capability = unix.CAP_NET_RAW   // open AF_PACKET and AF_XDP sockets
	CapSysAdmin Capability = unix.CAP_SYS_ADMIN // implies CapBPF and CapPerfmon on older kernels
	CapPerfmon  Capability = unix.CAP_PERFMON   // BPF programs that the verifier checks as trusted (pointer arithmetic without masking)
	CapBPF      Capability = unix.CAP_BPF       // load BPF programs and create maps
)

func (c Capability) String() string {
	switch c {
	case CapNetAdmin:
		return "CAP_NET_ADMIN"
	case CapNetRaw:
		return "CAP_NET_RAW"
	case CapSysAdmin:
		return "CAP_SYS_ADMIN"
	case CapPerfmon:
		return "CAP_PERFMON"
	case CapBPF:
		return "CAP_BPF"
	}
	return fmt.Sprintf("capability %d", int(c))
}

// EffectiveCapabilities returns the calling thread's effective capability
// set as a bit mask indexed by Capability.
func EffectiveCapabilities() (uint64, error) {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return 0, fmt.Errorf("capget: %w", err)
	}
	return uint64(data[0].Effective) | uint64(data[1].Effective)<<32, nil
}

// Missing returns the first of caps that the calling thread does not hold
// in its effective set, and false when it holds them all (or the set
// cannot be read: the system call that needs the capability will then say
// so itself).
func Missing(caps ...Capability) (Capability, bool) {
	set, err := EffectiveCapabilities()
	if err != nil {
		return 0, false
	}
	for _, c := range caps {
		if set&(1<<uint(c)) == 0 {
			return c, true
		}
	}
	return 0, false
}
