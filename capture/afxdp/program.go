//go:build linux

package afxdp

import (
	"errors"
	"fmt"
	"sync"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/features"
	"github.com/cilium/ebpf/link"
)

// Labels the filter block jumps to.
const (
	MatchLabel   = "wring_match"   // the frame matches: redirect it to its queue's socket
	NoMatchLabel = "wring_nomatch" // the frame does not match: XDP_PASS
)

// CtxReg holds the xdp_md context pointer for the whole program. A filter
// block must not write it (jit/ebpf's default registers keep the context in
// R6 too), and must keep its scratch memory below the 8 bytes under the
// frame pointer that the counters use (jit/ebpf Options.StackOffset 8).
const CtxReg = asm.R6

// Per-queue counters kept by the XDP program in a per-CPU array, indexed
// queue*counterStride + counter.
const (
	counterSeen      = 0 // frames the program ran on
	counterMatched   = 1 // frames the filter matched (redirected)
	counterUnstamped = 2 // matched frames with no room for the stamp (StampInFrame), passed to the host
	counterStride    = 3
)

// MaxQueues bounds the queue numbers the program keeps counters for and the
// XSKMAP size.
const MaxQueues = 256

// xdp_md field offsets.
const (
	xdpData         = 0
	xdpDataEnd      = 4
	xdpDataMeta     = 8
	xdpRxQueueIndex = 16
)

// ProgramSpec describes the XDP program of one interface.
type ProgramSpec struct {
	// Filter is the filter block, entered with CtxReg holding the xdp_md
	// context; it ends every path with a jump to MatchLabel or NoMatchLabel.
	// Nil matches every frame.
	Filter asm.Instructions
	// Rules, when not nil, runs before the filter (capture/rulemaps's XDP
	// block): entered with CtxReg holding the context and the stack below
	// RulesStackTop free, it ends in a jump to RulesDoneLabel for a frame
	// the filter is to decide, to RulesDropLabel for one a rule drops
	// (XDP_DROP), to RulesSkipLabel for one the rules leave to the host
	// uncaptured (XDP_PASS) and to RulesKeepLabel for one a keep rule
	// captures past the filter. The rules count what they decide.
	Rules asm.Instructions
	// StampInFrame puts the stamp in front of the frame's data
	// (bpf_xdp_adjust_head) instead of in its metadata area, for kernels
	// that refuse bpf_xdp_adjust_meta to XDP programs; the socket then
	// strips it (Socket.ReceiveStamped). LoadProgram sets it from a probe.
	StampInFrame bool
}

// Labels and stack of a Rules block.
const (
	RulesDoneLabel = "wring_rules_done"
	RulesDropLabel = "wring_rules_drop"
	RulesSkipLabel = NoMatchLabel
	RulesKeepLabel = MatchLabel
	RulesStackTop  = 8
)

// Program is the XDP program of one interface, with its XSKMAP and counters.
type Program struct {
	prog     *ebpf.Program
	xsks     *ebpf.Map
	counters *ebpf.Map
	link     link.Link
	Generic  bool // attached in generic (skb) mode
	// StampInFrame says where the program writes each frame's stamp
	// (ProgramSpec.StampInFrame).
	StampInFrame bool
}

// Instructions returns the whole XDP program for spec: prologue, counters,
// filter, redirect.
func (ps ProgramSpec) Instructions(xsksFD, countersFD int) asm.Instructions {
	count := func(label string, which int32) asm.Instructions {
		// key = rx_queue_index*stride + which, looked up in the per-CPU
		// array; a missing entry (queue >= MaxQueues) is not counted.
		return asm.Instructions{
			asm.LoadMem(asm.R2, CtxReg, xdpRxQueueIndex, asm.Word).WithSymbol(label),
			asm.Mul.Imm(asm.R2, counterStride),
			asm.Add.Imm(asm.R2, which),
			asm.StoreMem(asm.RFP, -4, asm.R2, asm.Word),
			asm.Mov.Reg(asm.R2, asm.RFP),
			asm.Add.Imm(asm.R2, -4),
			asm.LoadMapPtr(asm.R1, countersFD),
			asm.FnMapLookupElem.Call(),
			asm.JEq.Imm(asm.R0, 0, label+"_done"),
			asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord),
			asm.Add.Imm(asm.R1, 1),
			asm.StoreMem(asm.R0, 0, asm.R1, asm.DWord),
			asm.Mov.Imm(asm.R0, 0).WithSymbol(label + "_done"),
		}
	}
	var insns asm.Instructions
	// The kernel wants line information on the first instruction when any
	// instruction has some (a translated filter carries its classic source).
	insns = append(insns, asm.Mov.Reg(CtxReg, asm.R1).WithSource(asm.Comment("wring capture program")))
	insns = append(insns, count("wring_count_seen", counterSeen)...)
	if ps.Rules != nil {
		insns = append(insns, ps.Rules...)
		insns = append(insns, asm.Mov.Imm(asm.R0, 0).WithSymbol(RulesDoneLabel))
	}
	match, noMatch := true, false
	if ps.Filter == nil {
		insns = append(insns, asm.Ja.Label(MatchLabel))
	} else {
		insns = append(insns, ps.Filter...)
		// The kernel rejects unreachable code: emit only the actions the
		// filter can reach (a filter may never match, or always).
		match, noMatch = references(ps.Filter, MatchLabel), references(ps.Filter, NoMatchLabel)
	}
	match = match || references(ps.Rules, RulesKeepLabel)
	if match {
		insns = append(insns, count(MatchLabel, counterMatched)...)
		if !ps.StampInFrame {
			insns = append(insns, stamp()...)
			insns = append(insns,
				asm.LoadMem(asm.R2, CtxReg, xdpRxQueueIndex, asm.Word).WithSymbol("wring_redirect"),
				asm.LoadMapPtr(asm.R1, xsksFD),
				asm.Mov.Imm(asm.R3, 2), // XDP_PASS when the queue has no socket
				asm.FnRedirectMap.Call(),
				asm.Return(),
			)
		} else {
			insns = append(insns, stampInFrame()...)
			insns = append(insns,
				asm.LoadMem(asm.R2, CtxReg, xdpRxQueueIndex, asm.Word),
				asm.LoadMapPtr(asm.R1, xsksFD),
				asm.Mov.Imm(asm.R3, 2), // XDP_PASS when the queue has no socket
				asm.FnRedirectMap.Call(),
				asm.JEq.Imm(asm.R0, 4, "wring_redirected"), // XDP_REDIRECT
				// Not redirected: take the stamp off again before the
				// host sees the frame.
				asm.Mov.Reg(asm.R7, asm.R0),
				asm.Mov.Reg(asm.R1, CtxReg),
				asm.Mov.Imm(asm.R2, MetaLen),
				asm.FnXdpAdjustHead.Call(),
				asm.Mov.Reg(asm.R0, asm.R7),
				asm.Return().WithSymbol("wring_redirected"),
			)
			insns = append(insns, unstampInFrame()...)
			insns = append(insns, count("wring_unstamped", counterUnstamped)...)
			insns = append(insns,
				asm.Mov.Imm(asm.R0, 2), // XDP_PASS
				asm.Return(),
			)
		}
	}
	if ps.Rules != nil {
		insns = append(insns,
			asm.Mov.Imm(asm.R0, 1).WithSymbol(RulesDropLabel), // XDP_DROP
			asm.Return(),
		)
		noMatch = true
	}
	if noMatch {
		insns = append(insns,
			asm.Mov.Imm(asm.R0, 2).WithSymbol(NoMatchLabel), // XDP_PASS
			asm.Return(),
		)
	}
	return insns
}

// MetaLen is the size of the metadata the program puts in front of a
// redirected frame: the kernel's TAI clock (bpf_ktime_get_tai_ns) when the
// program matched it, a u64 in the host's byte order. The socket copies it
// into the frame's headroom with the frame (copy mode) or finds it there
// (zero-copy); Socket.ReceiveStamped reads it. With StampInFrame the same
// 8 bytes lead the frame's data instead, and ReceiveStamped strips them.
const MetaLen = 8

// stamp grows the frame's metadata area by MetaLen bytes and writes the
// TAI clock there. A driver without metadata support fails the adjust; the
// frame then goes without a stamp and the socket reports 0 for it.
func stamp() asm.Instructions {
	return stampAt(asm.FnXdpAdjustMeta, xdpDataMeta, xdpData, "wring_redirect", "wring_redirect")
}

// stampInFrame grows the frame at its head by MetaLen bytes and writes
// the TAI clock there; a frame without that headroom (every XDP driver
// and generic XDP reserve 256 bytes, so it should not happen) is counted
// as unstamped and passed to the host, not captured with a stamp the
// socket could not tell from its data.
func stampInFrame() asm.Instructions {
	return stampAt(asm.FnXdpAdjustHead, xdpData, xdpDataEnd, "wring_unstamped", "wring_unstamp")
}

// stampAt grows the area that starts at xdp_md field lo by MetaLen bytes
// with adjust and stores the TAI clock in its first 8, bounded by field
// hi for the verifier; it jumps to failed when the adjust fails and to
// short when the bounds check does.
func stampAt(adjust asm.BuiltinFunc, lo, hi int16, failed, short string) asm.Instructions {
	return asm.Instructions{
		asm.Mov.Reg(asm.R1, CtxReg),
		asm.Mov.Imm(asm.R2, -MetaLen),
		adjust.Call(),
		asm.JNE.Imm(asm.R0, 0, failed),
		asm.FnKtimeGetTaiNs.Call(),
		asm.LoadMem(asm.R2, CtxReg, lo, asm.Word),
		asm.LoadMem(asm.R3, CtxReg, hi, asm.Word),
		asm.Mov.Reg(asm.R4, asm.R2),
		asm.Add.Imm(asm.R4, MetaLen),
		asm.JGT.Reg(asm.R4, asm.R3, short),
		asm.StoreMem(asm.R2, 0, asm.R0, asm.DWord),
	}
}

// unstampInFrame takes the head stampInFrame added off again, for the one
// path on which the frame then goes to the host (the verifier's bounds
// check, which cannot fail after a successful adjust).
func unstampInFrame() asm.Instructions {
	return asm.Instructions{
		asm.Mov.Reg(asm.R1, CtxReg).WithSymbol("wring_unstamp"),
		asm.Mov.Imm(asm.R2, MetaLen),
		asm.FnXdpAdjustHead.Call(),
	}
}

// metaSupported probes once whether the kernel lets XDP programs call
// bpf_xdp_adjust_meta (some builds refuse it).
var metaSupported = sync.OnceValue(func() bool {
	return !errors.Is(features.HaveProgramHelper(ebpf.XDP, asm.FnXdpAdjustMeta), ebpf.ErrNotSupported)
})

func references(insns asm.Instructions, label string) bool {
	for _, ins := range insns {
		if ins.Reference() == label {
			return true
		}
	}
	return false
}

// LoadProgram creates the maps and loads the program into the kernel; it is
// not attached yet.
func LoadProgram(ps ProgramSpec) (*Program, error) {
	if !ps.StampInFrame && !metaSupported() {
		ps.StampInFrame = true
	}
	xsks, err := ebpf.NewMap(&ebpf.MapSpec{Name: "wring_xsks", Type: ebpf.XSKMap, KeySize: 4, ValueSize: 4, MaxEntries: MaxQueues})
	if err != nil {
		return nil, fmt.Errorf("afxdp: create xskmap: %w", err)
	}
	counters, err := ebpf.NewMap(&ebpf.MapSpec{Name: "wring_counts", Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: 8, MaxEntries: MaxQueues * counterStride})
	if err != nil {
		xsks.Close()
		return nil, fmt.Errorf("afxdp: create counters: %w", err)
	}
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Name:         "wring_xdp",
		Type:         ebpf.XDP,
		License:      "Dual BSD/GPL",
		Instructions: ps.Instructions(xsks.FD(), counters.FD()),
	})
	if err != nil {
		xsks.Close()
		counters.Close()
		return nil, fmt.Errorf("afxdp: load xdp program: %w", err)
	}
	return &Program{prog: prog, xsks: xsks, counters: counters, StampInFrame: ps.StampInFrame}, nil
}

// Attach attaches the program to the interface: natively when the driver
// supports XDP, else in generic mode when allowGeneric is set.
func (p *Program) Attach(ifindex int, allowGeneric bool) error {
	l, err := link.AttachXDP(link.XDPOptions{Program: p.prog, Interface: ifindex, Flags: link.XDPDriverMode})
	if err == nil {
		p.link = l
		return nil
	}
	if !allowGeneric {
		return fmt.Errorf("afxdp: attach native xdp to ifindex %d: %w", ifindex, err)
	}
	l, gerr := link.AttachXDP(link.XDPOptions{Program: p.prog, Interface: ifindex, Flags: link.XDPGenericMode})
	if gerr != nil {
		return fmt.Errorf("afxdp: attach xdp to ifindex %d: native: %v; generic: %w", ifindex, err, gerr)
	}
	p.link = l
	p.Generic = true
	return nil
}

// Register puts a socket in the XSKMAP entry of its queue, so the program
// redirects that queue's matching frames to it.
func (p *Program) Register(s *Socket) error {
	if s.queue >= MaxQueues {
		return fmt.Errorf("afxdp: queue %d: at most %d queues", s.queue, MaxQueues)
	}
	s.stampInFrame = p.StampInFrame
	if err := p.xsks.Put(uint32(s.queue), uint32(s.fd)); err != nil {
		return fmt.Errorf("afxdp: register queue %d socket: %w", s.queue, err)
	}
	return nil
}

// QueueCounters are the XDP program's counts for one queue, summed over CPUs.
type QueueCounters struct {
	Seen    uint64 // frames the program ran on
	Matched uint64 // frames the filter matched and the program redirected
	// Unstamped are matched frames passed to the host uncaptured: no
	// headroom for the stamp (StampInFrame only).
	Unstamped uint64
}

// Counters reads the program's counters for a queue.
func (p *Program) Counters(queue int) (QueueCounters, error) {
	var c QueueCounters
	// The program counts a frame as seen before it counts it as matched,
	// and as matched before unstamped: reading them in the opposite order
	// while frames arrive keeps Seen >= Matched >= Unstamped.
	for which := counterUnstamped; which >= counterSeen; which-- {
		dst := []*uint64{&c.Seen, &c.Matched, &c.Unstamped}[which]
		var per []uint64
		if err := p.counters.Lookup(uint32(queue*counterStride+which), &per); err != nil {
			return c, fmt.Errorf("afxdp: read counters of queue %d: %w", queue, err)
		}
		for _, v := range per {
			*dst += v
		}
	}
	return c, nil
}

// Close detaches the program and frees its maps.
func (p *Program) Close() error {
	var errs []error
	if p.link != nil {
		errs = append(errs, p.link.Close())
	}
	errs = append(errs, p.prog.Close(), p.xsks.Close(), p.counters.Close())
	return errors.Join(errs...)
}
