//go:build !cgo

package pcaporacle

import "github.com/wringcap/wring/spec"

// Native is true when Run calls libpcap's C bpf_filter.
const Native = false

// Program is a classic BPF program ready for Interpret.
type Program struct{ prog spec.Program }

// New wraps prog.
func New(prog spec.Program) *Program {
	return &Program{prog: append(spec.Program(nil), prog...)}
}

// Run returns Interpret's result for a packet of wirelen bytes on the wire
// whose captured bytes are pkt.
func (p *Program) Run(pkt []byte, wirelen uint32) uint32 {
	return Interpret(p.prog, pkt, wirelen)
}
