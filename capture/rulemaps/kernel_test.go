//go:build linux

package rulemaps

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
)

var (
	privOnce sync.Once
	privErr  error
)

// needKernel stops the test when this process cannot create BPF maps,
// load a tc program and run it with BPF_PROG_TEST_RUN: a failure in CI, a
// skip with the reason elsewhere.
func needKernel(tb testing.TB) {
	tb.Helper()
	privOnce.Do(func() {
		p, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.SchedCLS, License: "Dual BSD/GPL",
			Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()}})
		if err != nil {
			privErr = fmt.Errorf("load a tc program: %w", err)
			return
		}
		defer p.Close()
		if _, err := p.Run(&ebpf.RunOptions{Data: make([]byte, 64)}); err != nil {
			privErr = fmt.Errorf("BPF_PROG_TEST_RUN: %w", err)
		}
	})
	if privErr != nil {
		if errors.Is(privErr, linux.EPERM) || errors.Is(privErr, ebpf.ErrNotSupported) || os.Geteuid() != 0 {
			corpus.Unavailable(tb, "kernel BPF (root with CAP_BPF and CAP_NET_ADMIN): "+privErr.Error())
		}
		tb.Fatalf("kernel BPF: %v", privErr)
	}
}

// run runs the classification program on one frame.
func run(tb testing.TB, p *ebpf.Program, frame []byte) uint32 {
	tb.Helper()
	ret, err := p.Run(&ebpf.RunOptions{Data: frame})
	if err != nil {
		tb.Fatalf("test run of a %d-byte frame: %v", len(frame), err)
	}
	return ret
}
