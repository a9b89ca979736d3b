package live

import (
	"fmt"

	"github.com/wringcap/wring/internal/linux"
)

// Capabilities returns the capabilities the path of mode m needs, in the
// order they are checked: AF_PACKET needs CAP_NET_RAW only; AF_XDP also
// loads a BPF program and its maps (CAP_BPF) and attaches it to the
// interface (CAP_NET_ADMIN), and its UMEM needs CAP_IPC_LOCK when the
// memlock limit is smaller (Open checks that too), and CAP_SYS_NICE, not
// required, lets its queue workers take XDPWorkerNice; the passive path loads
// its programs and rings (CAP_BPF) and attaches them to tc (CAP_NET_ADMIN).
// ModeAuto needs what its least path needs.
func Capabilities(m Mode) []linux.Capability {
	switch m {
	case ModeXDP:
		return []linux.Capability{linux.CapNetRaw, linux.CapBPF, linux.CapNetAdmin}
	case ModePassive:
		// Load the programs and rings; attach them with tcx links.
		return []linux.Capability{linux.CapBPF, linux.CapNetAdmin}
	}
	return []linux.Capability{linux.CapNetRaw}
}

// missing returns a one-line error naming the first capability mode m
// needs that the calling thread lacks, or nil. CAP_SYS_ADMIN stands in
// for CAP_BPF and CAP_PERFMON, as it does in the kernel. For AF_XDP,
// lockBytes is the UMEM memory the kernel charges to RLIMIT_MEMLOCK
// unless the process holds CAP_IPC_LOCK.
func missing(m Mode, lockBytes uint64) error {
	if err := missingCaps(m); err != nil {
		return err
	}
	if m != ModeXDP {
		return nil
	}
	if _, lacks := linux.Missing(linux.CapIPCLock); !lacks {
		return nil
	}
	if limit, err := linux.MemlockLimit(); err == nil && limit < lockBytes {
		return fmt.Errorf("AF_XDP capture locks %d MiB of UMEM, over the %d KiB memlock limit, and needs %v, which this process lacks (run as root, grant it, or raise the limit: ulimit -l): %w",
			lockBytes>>20, limit>>10, linux.CapIPCLock, ErrPermission)
	}
	return nil
}

func missingCaps(m Mode) error {
	for _, c := range Capabilities(m) {
		alt := []linux.Capability{c}
		if c == linux.CapBPF || c == linux.CapPerfmon {
			alt = append(alt, linux.CapSysAdmin)
		}
		if _, lacks := linux.Missing(alt[0]); !lacks {
			continue
		}
		if len(alt) > 1 {
			if _, lacks := linux.Missing(alt[1]); !lacks {
				continue
			}
		}
		return fmt.Errorf("%s needs %v, which this process lacks (run as root or grant it, e.g. setcap %s+ep on the binary): %w",
			pathName(m), c, capName(c), ErrPermission)
	}
	return nil
}

func pathName(m Mode) string {
	switch m {
	case ModeXDP:
		return "AF_XDP capture"
	case ModePassive:
		return "passive capture"
	}
	return "AF_PACKET capture"
}
