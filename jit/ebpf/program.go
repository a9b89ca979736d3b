package ebpf

import (
	"encoding/binary"
	"fmt"
	"io"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/wringcap/wring/verifier"
)

// Program builds a standalone kernel program around the translated filter,
// ready for ebpf.NewProgram:
//
//   - XDP: returns XDP_PASS when the filter matches (returns non-zero) and
//     XDP_DROP when it does not, like a socket filter that keeps or drops
//     the packet;
//   - SocketFilter: returns the classic program's return value (the number
//     of bytes to keep, 0 to drop), as the kernel does for classic BPF.
//
// It uses DefaultRegisters and moves the context from R1 into R6 first.
func Program(p *verifier.Program, target Target) (*ebpf.ProgramSpec, error) {
	insns, err := ProgramInstructions(p, target)
	if err != nil {
		return nil, err
	}
	typ := ebpf.XDP
	if target == SocketFilter {
		typ = ebpf.SocketFilter
	}
	return &ebpf.ProgramSpec{
		Name:         "wring_filter",
		Type:         typ,
		Instructions: insns,
		License:      "Dual MIT/GPL",
	}, nil
}

// ProgramInstructions returns the instructions of Program.
func ProgramInstructions(p *verifier.Program, target Target) (asm.Instructions, error) {
	return standalone(p, target, false)
}

// Listing returns the instructions of Program with each classic
// instruction's tcpdump -d line attached as its source, for display
// (fmt's %v on asm.Instructions prints both). Load Program, not this.
// Jump offsets are resolved, so the listing shows them.
func Listing(p *verifier.Program, target Target) (asm.Instructions, error) {
	insns, err := standalone(p, target, true)
	if err != nil {
		return nil, err
	}
	if err := insns.Marshal(io.Discard, binary.LittleEndian); err != nil {
		return nil, fmt.Errorf("resolve jumps: %w", err)
	}
	return insns, nil
}

func standalone(p *verifier.Program, target Target, annotate bool) (asm.Instructions, error) {
	regs := DefaultRegisters()
	opts := Options{Target: target, Registers: regs, Annotate: annotate}
	switch target {
	case XDP:
		opts.OnMatch = asm.Instructions{asm.Mov.Imm(asm.R0, XDPPass), asm.Return()}
		opts.OnNoMatch = asm.Instructions{asm.Mov.Imm(asm.R0, XDPDrop), asm.Return()}
	default:
		opts.OnMatch = asm.Instructions{asm.Mov.Reg32(asm.R0, regs.A), asm.Return()}
		opts.OnNoMatch = asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()}
	}
	body, err := Translate(p, opts)
	if err != nil {
		return nil, err
	}
	entry := asm.Mov.Reg(regs.Ctx, asm.R1)
	if annotate {
		entry = entry.WithSource(asm.Comment("entry: the context pointer to R6"))
	}
	return append(asm.Instructions{entry}, body...), nil
}
