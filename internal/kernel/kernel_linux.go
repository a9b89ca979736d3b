package kernel

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"unsafe"

	"github.com/wringcap/wring/internal/linux"

	"github.com/wringcap/wring/spec"
)

// sockFprog converts prog for setsockopt(SO_ATTACH_FILTER). spec.Instruction
// has the layout of struct sock_filter, so the slice is passed as is. An
// empty program is passed with a valid pointer, so that the kernel judges
// its length rather than the address.
func sockFprog(prog spec.Program) *linux.SockFprog {
	var dummy [1]spec.Instruction
	p := &dummy[0]
	if len(prog) > 0 {
		p = &prog[0]
	}
	return &linux.SockFprog{Len: uint16(len(prog)), Filter: (*linux.SockFilter)(unsafe.Pointer(p))}
}

// Checker attaches programs to one socket to ask the kernel whether it
// accepts them. It is not safe for concurrent use.
type Checker struct {
	fd      int
	private bool
}

// checkerOptMem is the option memory (net.core.optmem_max) of a Checker's
// private network namespace: enough for the eBPF conversion of any program
// of 4096 instructions.
const checkerOptMem = 16 << 20

// NewChecker opens the socket a Checker attaches to. When the process may
// (CAP_SYS_ADMIN), the socket lives in a private network namespace whose
// net.core.optmem_max is raised to 16 MiB, so that the kernel's answer
// depends on its rules and not on the host's option-memory limit (a long
// program converts to more eBPF than the default 128 KiB allows: ENOMEM).
// Otherwise it lives in the caller's namespace and Private returns false.
func NewChecker() (*Checker, error) {
	type result struct {
		c   *Checker
		err error
	}
	done := make(chan result)
	go func() {
		// The thread is never unlocked once it has left the namespace:
		// the runtime then ends it with this goroutine.
		runtime.LockOSThread()
		private := linux.Unshare(linux.CLONE_NEWNET) == nil
		if private {
			if err := os.WriteFile("/proc/sys/net/core/optmem_max", []byte(strconv.Itoa(checkerOptMem)), 0); err != nil {
				private = false // still isolated, but with the default limit
			}
		} else {
			runtime.UnlockOSThread()
		}
		fd, err := linux.Socket(linux.AF_UNIX, linux.SOCK_DGRAM|linux.SOCK_CLOEXEC, 0)
		if err != nil {
			done <- result{err: fmt.Errorf("kernel: socket: %w", err)}
			return
		}
		done <- result{c: &Checker{fd: fd, private: private}}
	}()
	r := <-done
	return r.c, r.err
}

// Private reports whether the Checker's socket has the raised option-memory
// limit of its own network namespace.
func (c *Checker) Private() bool { return c.private }

// Attach attaches prog with SO_ATTACH_FILTER and detaches it again. It
// returns nil when the kernel accepts the program, or the kernel's errno
// (linux.EINVAL for a rejected program, linux.ENOMEM when the converted
// program exceeds the socket's option memory, net.core.optmem_max). A
// program longer than 65535 instructions cannot be expressed and is
// reported as EINVAL without asking.
func (c *Checker) Attach(prog spec.Program) error {
	if len(prog) > 0xffff {
		return fmt.Errorf("kernel: %d instructions: %w", len(prog), linux.EINVAL)
	}
	if err := linux.SetsockoptSockFprog(c.fd, linux.SOL_SOCKET, linux.SO_ATTACH_FILTER, sockFprog(prog)); err != nil {
		return fmt.Errorf("kernel: SO_ATTACH_FILTER: %w", err)
	}
	if err := linux.SetsockoptInt(c.fd, linux.SOL_SOCKET, linux.SO_DETACH_FILTER, 0); err != nil {
		return fmt.Errorf("kernel: SO_DETACH_FILTER: %w", err)
	}
	return nil
}

// Close closes the socket.
func (c *Checker) Close() error { return linux.Close(c.fd) }

// Attach reports whether the kernel accepts prog as a classic socket
// filter: nil, or the kernel's errno wrapped (see Checker.Attach).
func Attach(prog spec.Program) error {
	c, err := NewChecker()
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Attach(prog)
}

// maxDatagram is the largest packet a Runner sends.
const maxDatagram = 1 << 20

// Runner makes the kernel run a classic BPF filter on packets. It is not
// safe for concurrent use.
type Runner struct {
	send, recv int
	buf        []byte
}

// NewRunner opens an AF_UNIX datagram socket pair with buffers large enough
// for packets of up to 1 MiB.
func NewRunner() (*Runner, error) {
	fds, err := linux.Socketpair(linux.AF_UNIX, linux.SOCK_DGRAM|linux.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("kernel: socketpair: %w", err)
	}
	r := &Runner{send: fds[0], recv: fds[1], buf: make([]byte, 1)}
	// Without CAP_NET_ADMIN these fail and the default buffers still carry
	// ordinary packets; a larger one fails in Run with EMSGSIZE.
	_ = linux.SetsockoptInt(r.send, linux.SOL_SOCKET, linux.SO_SNDBUFFORCE, 4*maxDatagram)
	_ = linux.SetsockoptInt(r.recv, linux.SOL_SOCKET, linux.SO_RCVBUFFORCE, 4*maxDatagram)
	return r, nil
}

// SetFilter attaches prog to the receiving socket, replacing any earlier
// filter.
func (r *Runner) SetFilter(prog spec.Program) error {
	if err := linux.SetsockoptSockFprog(r.recv, linux.SOL_SOCKET, linux.SO_ATTACH_FILTER, sockFprog(prog)); err != nil {
		return fmt.Errorf("kernel: SO_ATTACH_FILTER: %w", err)
	}
	return nil
}

// Run sends pkt through the filter. kept is false when the filter returned
// 0; otherwise n is the number of bytes the kernel kept: min(v, len(pkt))
// for the filter's return value v.
func (r *Runner) Run(pkt []byte) (n int, kept bool, err error) {
	if len(pkt) > maxDatagram {
		return 0, false, fmt.Errorf("kernel: %d-byte packet is larger than %d", len(pkt), maxDatagram)
	}
	if err := linux.Send(r.send, pkt, 0); err != nil {
		return 0, false, fmt.Errorf("kernel: send: %w", err)
	}
	n, _, err = linux.Recvfrom(r.recv, r.buf, linux.MSG_DONTWAIT|linux.MSG_TRUNC)
	if errors.Is(err, linux.EAGAIN) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("kernel: recv: %w", err)
	}
	return n, true, nil
}

// Close closes the socket pair.
func (r *Runner) Close() error {
	return errors.Join(linux.Close(r.send), linux.Close(r.recv))
}
