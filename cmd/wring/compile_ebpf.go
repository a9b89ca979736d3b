package main

import (
	"errors"
	"io"

	"github.com/wringcap/wring/verifier"
)

// printEBPF prints the eBPF translation of a verified program for target
// ("xdp" or "socket") in cilium/ebpf's assembler syntax. It belongs to the
// jit/ebpf work; compile_cmd.go calls it for --ebpf.
func printEBPF(w io.Writer, p *verifier.Program, target string) error {
	return errors.New("compile --ebpf: not available in this build yet")
}
