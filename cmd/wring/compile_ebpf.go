package main

import (
	"fmt"
	"io"

	"github.com/wringcap/wring/jit/ebpf"
	"github.com/wringcap/wring/verifier"
)

// printEBPF prints the eBPF translation of a verified program for target
// ("xdp" or "socket"; empty means xdp) in cilium/ebpf's assembler syntax:
// the standalone program of ebpf.Program, each classic instruction's
// tcpdump -d line above its eBPF code. compile_cmd.go calls it for --ebpf.
func printEBPF(w io.Writer, p *verifier.Program, target string) error {
	if target == "" {
		target = "xdp"
	}
	t, err := ebpf.ParseTarget(target)
	if err != nil {
		return fmt.Errorf("compile --ebpf: %w", err)
	}
	insns, err := ebpf.Listing(p, t)
	if err != nil {
		return fmt.Errorf("compile --ebpf: %w", err)
	}
	switch t {
	case ebpf.XDP:
		fmt.Fprintf(w, "; XDP program: XDP_PASS when the filter matches, XDP_DROP otherwise\n")
	case ebpf.SocketFilter:
		fmt.Fprintf(w, "; socket filter program: returns the classic filter's value (bytes to keep, 0 drops)\n")
	}
	_, err = fmt.Fprintf(w, "%v", insns)
	return err
}
