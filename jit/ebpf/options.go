package ebpf

import (
	"fmt"

	"github.com/cilium/ebpf/asm"
)

// Target is the kind of kernel program a translation runs in.
type Target int

// The targets Translate knows.
const (
	// XDP translates for an XDP program: the packet is the linear frame
	// between xdp_md.data and xdp_md.data_end, read with direct packet
	// access behind coalesced bounds checks.
	XDP Target = iota + 1
	// SocketFilter translates for a BPF_PROG_TYPE_SOCKET_FILTER program
	// (SO_ATTACH_BPF): the packet is the sk_buff, read with the legacy
	// LD_ABS/LD_IND instructions, which end the program with 0 on a load
	// past the end, exactly as classic BPF does in the kernel.
	SocketFilter
)

// String returns the target's name as the command line spells it.
func (t Target) String() string {
	switch t {
	case XDP:
		return "xdp"
	case SocketFilter:
		return "socket"
	}
	return fmt.Sprintf("Target(%d)", int(t))
}

// ParseTarget returns the Target named "xdp" or "socket".
func ParseTarget(s string) (Target, error) {
	switch s {
	case "xdp":
		return XDP, nil
	case "socket":
		return SocketFilter, nil
	}
	return 0, fmt.Errorf("target %q: %w (want xdp or socket)", s, ErrOptions)
}

// Registers names the eBPF registers the translated filter uses. The
// filter writes every one of them except Ctx, which it only reads; every
// other register and the stack outside the scratch area are left alone.
type Registers struct {
	// Ctx holds the program's context pointer (*xdp_md or *__sk_buff) when
	// the filter starts, and still holds it when the filter ends. The
	// socket filter target needs R6 here (LD_ABS and LD_IND read it).
	Ctx asm.Register
	// A and X hold classic BPF's accumulator and index register as 32-bit
	// values (the upper half is always zero). On a match A holds the
	// filter's non-zero return value.
	A, X asm.Register
	// Tmp is a scratch register for address and bounds computations.
	Tmp asm.Register
	// Data and DataEnd hold xdp_md.data and xdp_md.data_end (XDP only;
	// ignored for the socket filter target).
	Data, DataEnd asm.Register
	// XPtr holds data+X between an indirect load's bounds check and the
	// next change of X, so later X+k loads need no check of their own (XDP
	// only).
	XPtr asm.Register
}

// DefaultRegisters returns the registers Translate uses when
// Options.Registers is the zero value: Ctx R6, A R7, X R8, Tmp R9 and, for
// XDP, Data R2, DataEnd R3 and XPtr R4. A, X, Ctx and Tmp are callee-saved, so the
// socket filter target's helper calls (behind LD_ABS) keep them.
func DefaultRegisters() Registers {
	return Registers{Ctx: asm.R6, A: asm.R7, X: asm.R8, Tmp: asm.R9, Data: asm.R2, DataEnd: asm.R3, XPtr: asm.R4}
}

// Options configure a translation. The caller fills in what it needs; the
// zero value of every field but Target means the documented default.
type Options struct {
	// Target selects XDP or SocketFilter. Required.
	Target Target
	// Registers used by the filter; the zero value means DefaultRegisters.
	Registers Registers
	// StackOffset moves the scratch memory down the stack: M[k] lives at
	// R10 - StackOffset - 4*(k+1). The filter uses at most 64 bytes below
	// R10 - StackOffset.
	StackOffset int16
	// MatchLabel, when set, is the label the filter jumps to when it
	// matches (returns non-zero); the caller places it after the filter.
	// Otherwise OnMatch is placed at the end of the filter and run on a
	// match. One of the two is required.
	MatchLabel string
	// OnMatch is the code run on a match when MatchLabel is empty. It must
	// not fall through past its end (end it with an exit or a jump).
	OnMatch asm.Instructions
	// NoMatchLabel, when set, is the label the filter jumps to when it
	// does not match (returns 0 or reads past the packet). Otherwise
	// OnNoMatch runs; if it is empty too, the program returns XDP_PASS
	// (XDP) or 0 (socket filter). For the socket filter target a load past
	// the end of the packet ends the whole program with 0 (the kernel's
	// LD_ABS semantics) without reaching this code.
	NoMatchLabel string
	// OnNoMatch is the code run on no match when NoMatchLabel is empty. It
	// must not fall through past its end.
	OnNoMatch asm.Instructions
	// Annotate attaches each classic instruction's tcpdump -d line to the
	// first eBPF instruction of its code (asm.Instruction.Source), so
	// formatting the instructions shows both. cilium/ebpf turns sources
	// into BTF line information, which the kernel accepts only if the
	// program's first instruction has a source too: leave it off for code
	// that is loaded, unless the caller annotates its own code as well.
	Annotate bool
	// LabelPrefix starts every label the filter defines, so two filters
	// can share one program. The default is "wring".
	LabelPrefix string
}

// xdp_md and __sk_buff field offsets (include/uapi/linux/bpf.h).
const (
	xdpData           = 0
	xdpDataEnd        = 4
	xdpIngressIfindex = 12
	xdpRxQueueIndex   = 16

	skbLen         = 0
	skbPktType     = 4
	skbMark        = 8
	skbQueueMap    = 12
	skbProtocol    = 16
	skbVLANPresent = 20
	skbVLANTCI     = 24
	skbVLANProto   = 28
	skbIfindex     = 40
	skbHash        = 68
)

// XDP verdicts (enum xdp_action).
const (
	XDPAborted  = 0
	XDPDrop     = 1
	XDPPass     = 2
	XDPTx       = 3
	XDPRedirect = 4
)

// resolved returns the options with defaults filled in, or an error naming
// what is wrong.
func (o Options) resolved() (Options, error) {
	if o.Target != XDP && o.Target != SocketFilter {
		return o, fmt.Errorf("target %d: %w", int(o.Target), ErrOptions)
	}
	if o.Registers == (Registers{}) {
		o.Registers = DefaultRegisters()
	}
	if o.LabelPrefix == "" {
		o.LabelPrefix = "wring"
	}
	if o.MatchLabel == "" && len(o.OnMatch) == 0 {
		return o, fmt.Errorf("no match action (set MatchLabel or OnMatch): %w", ErrOptions)
	}
	if o.MatchLabel != "" && len(o.OnMatch) > 0 {
		return o, fmt.Errorf("both MatchLabel and OnMatch are set: %w", ErrOptions)
	}
	if o.NoMatchLabel != "" && len(o.OnNoMatch) > 0 {
		return o, fmt.Errorf("both NoMatchLabel and OnNoMatch are set: %w", ErrOptions)
	}
	if o.StackOffset < 0 || int(o.StackOffset)+4*16 > 512 {
		return o, fmt.Errorf("stack offset %d: scratch must fit in the 512-byte stack: %w", o.StackOffset, ErrOptions)
	}
	r := o.Registers
	named := []struct {
		name string
		reg  asm.Register
	}{{"Ctx", r.Ctx}, {"A", r.A}, {"X", r.X}, {"Tmp", r.Tmp}}
	if o.Target == XDP {
		named = append(named, struct {
			name string
			reg  asm.Register
		}{"Data", r.Data}, struct {
			name string
			reg  asm.Register
		}{"DataEnd", r.DataEnd}, struct {
			name string
			reg  asm.Register
		}{"XPtr", r.XPtr})
	}
	seen := map[asm.Register]string{}
	for _, n := range named {
		if n.reg > asm.R9 {
			return o, fmt.Errorf("register %s is %v: want R0 to R9: %w", n.name, n.reg, ErrOptions)
		}
		if prev, dup := seen[n.reg]; dup {
			return o, fmt.Errorf("registers %s and %s are both %v: %w", prev, n.name, n.reg, ErrOptions)
		}
		seen[n.reg] = n.name
	}
	if o.Target == SocketFilter {
		if r.Ctx != asm.R6 {
			return o, fmt.Errorf("socket filter target: Ctx is %v, LD_ABS needs R6: %w", r.Ctx, ErrOptions)
		}
		for _, n := range named[1:] {
			if n.reg < asm.R6 {
				return o, fmt.Errorf("socket filter target: %s is %v, which helper calls clobber (use R7 to R9): %w", n.name, n.reg, ErrOptions)
			}
		}
	}
	return o, nil
}
