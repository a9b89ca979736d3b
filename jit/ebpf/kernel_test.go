//go:build linux

package ebpf

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/internal/linux"
	"github.com/wringcap/wring/verifier"
	"github.com/wringcap/wring/vm"
)

// The kernel runs test packets for a socket filter after pulling an
// Ethernet header off the front (bpf_prog_test_run_skb calls
// eth_type_trans), so the filter sees the bytes after it from offset 0: a
// real AF_PACKET socket filter sees the frame from its first byte. Every
// packet goes to the socket filter behind this header. Its EtherType is a
// local experimental one, so the kernel attaches no meaning to the bytes
// that follow, and its destination is the loopback device's address, so
// the packet type is PACKET_HOST.
var socketPrefix = []byte{
	0, 0, 0, 0, 0, 0, // destination: lo's all-zero address
	0, 0, 0, 0, 0, 0, // source
	0x88, 0xb5, // EtherType: local experimental
}

// socketMeta is what the socket filter's ancillary loads see in a test run:
// skb->protocol from the header above, PACKET_HOST, the loopback device
// (ifindex 1), queue 0, no mark, hash or VLAN tag.
var socketMeta = vm.Meta{Protocol: 0x88b5, PktType: 0, Ifindex: 1}

// xdpMeta is what XDP's ancillary loads see in a test run without a
// context: the loopback device and its queue 0.
var xdpMeta = vm.Meta{Ifindex: 1}

// Test-run input limits. The kernel refuses XDP frames shorter than an
// Ethernet header, even behind test-run metadata (socket filters get
// socketPrefix in front, so any length runs there); a longer one than fits in a page (less headroom and
// the shared info) is either refused or split into fragments the filter
// does not see as linear data.
const (
	minTestRun = 14
	maxTestRun = 3500
)

var (
	privOnce sync.Once
	privErr  error
)

// needKernel stops the test when this process cannot load BPF programs or
// run them with BPF_PROG_TEST_RUN: a failure in CI, a skip elsewhere.
func needKernel(tb testing.TB) {
	tb.Helper()
	privOnce.Do(func() {
		spec := &ebpf.ProgramSpec{Type: ebpf.XDP, License: "Dual MIT/GPL"}
		spec.Instructions = append(spec.Instructions, xdpPassInsns()...)
		p, err := ebpf.NewProgram(spec)
		if err != nil {
			privErr = fmt.Errorf("load an XDP program: %w", err)
			return
		}
		defer p.Close()
		if _, err := p.Run(&ebpf.RunOptions{Data: make([]byte, 64)}); err != nil {
			privErr = fmt.Errorf("BPF_PROG_TEST_RUN: %w", err)
		}
	})
	if privErr != nil {
		if errors.Is(privErr, linux.EPERM) || errors.Is(privErr, ebpf.ErrNotSupported) || os.Geteuid() != 0 {
			corpus.Unavailable(tb, "kernel BPF (root with CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON): "+privErr.Error())
		}
		tb.Fatalf("kernel BPF: %v", privErr)
	}
}

// kernelFilter is one verified program translated and loaded for both
// targets.
type kernelFilter struct {
	p         *verifier.Program
	xdp, sock *ebpf.Program
	xdpErr    error // translation error (ErrUnsupported) for XDP
	sockErr   error
}

func (k *kernelFilter) Close() {
	if k.xdp != nil {
		k.xdp.Close()
	}
	if k.sock != nil {
		k.sock.Close()
	}
}

// errRejected marks a program the kernel's verifier refused.
var errRejected = errors.New("kernel verifier rejected the program")

// load translates p for target and loads it. A translation error is
// returned as is (wrapping ErrUnsupported when the target cannot express
// the program); a load failure wraps errRejected and carries the kernel's
// verifier log.
func load(p *verifier.Program, target Target) (*ebpf.Program, error) {
	spec, err := Program(p, target)
	if err != nil {
		return nil, err
	}
	prog, err := ebpf.NewProgramWithOptions(spec, ebpf.ProgramOptions{LogLevel: ebpf.LogLevelBranch, LogSizeStart: 1 << 20})
	if err != nil {
		var ve *ebpf.VerifierError
		if errors.As(err, &ve) {
			return nil, fmt.Errorf("%w: %+v\nprogram:\n%v", errRejected, ve, spec.Instructions)
		}
		return nil, fmt.Errorf("%w: %v", errRejected, err)
	}
	return prog, nil
}

// runXDP runs the XDP program on pkt: true for a match (XDP_PASS).
func runXDP(prog *ebpf.Program, pkt []byte) (bool, error) {
	ret, err := prog.Run(&ebpf.RunOptions{Data: pkt})
	if err != nil {
		return false, err
	}
	switch ret {
	case XDPPass:
		return true, nil
	case XDPDrop:
		return false, nil
	}
	return false, fmt.Errorf("XDP program returned %d", ret)
}

// runSocket runs the socket filter on pkt (behind socketPrefix) and
// returns its return value. buf is reused between calls.
func runSocket(prog *ebpf.Program, pkt []byte, buf *[]byte) (uint32, error) {
	*buf = append(append((*buf)[:0], socketPrefix...), pkt...)
	return prog.Run(&ebpf.RunOptions{Data: *buf})
}

// xdpRunnable reports whether the kernel can test-run pkt through XDP with
// the whole packet in the linear area.
func xdpRunnable(pkt []byte) bool { return len(pkt) >= minTestRun && len(pkt) <= maxTestRun }

// socketRunnable reports whether pkt fits a socket filter test run.
func socketRunnable(pkt []byte) bool { return len(pkt)+len(socketPrefix) <= maxTestRun }

func xdpPassInsns() asm.Instructions {
	return asm.Instructions{asm.Mov.Imm(asm.R0, XDPPass), asm.Return()}
}
