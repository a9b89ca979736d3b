// Package ebpf translates verified classic BPF programs into eBPF
// (github.com/cilium/ebpf/asm) for two kernel targets: XDP, where the
// filter reads the frame directly between xdp_md.data and data_end behind
// bounds checks coalesced from the verifier's facts, and socket filters
// (SO_ATTACH_BPF), where it reads the sk_buff through LD_ABS and LD_IND.
//
// Translate takes only a *verifier.Program and an Options struct the
// caller fills in: which registers to use, where the scratch memory lives
// on the stack, and where to go on a match and on no match, so the filter
// can be spliced in front of the caller's own code (for example an XDP
// program's redirect to an AF_XDP socket). Program builds a standalone
// program for tests and the command line.
//
// The translation keeps classic BPF's semantics as wring's vm defines
// them: a load past the packet, or a division or modulo by X = 0, means no
// match; a shift by X of 32 or more gives 0; arithmetic is unsigned 32-bit.
// In XDP, len is the linear frame length (data_end - data). Each target
// sees only some of Linux's ancillary loads; the others are an *Error
// naming the instruction (see DESIGN.md beside this file).
package ebpf
