//go:build linux

package passive

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
)

// Labels the filter block jumps to.
const (
	MatchLabel   = "wring_passive_match"   // copy the packet into the ring
	NoMatchLabel = "wring_passive_nomatch" // leave it alone
)

// CtxReg holds the __sk_buff context for the whole program; the filter
// block must not write it (jit/ebpf's socket filter target keeps the context
// in R6 and leaves it there).
const CtxReg = asm.R6

// StackOffset is the stack the program keeps for itself below the frame
// pointer: a filter block translated for it must place its scratch memory
// below (jit/ebpf Options.StackOffset).
const StackOffset = 16

// MaxSnaplen is the most bytes of a packet a record holds.
const MaxSnaplen = 262144

// Stack slots of the program.
const (
	slotCounters = -8  // *counters of this CPU, spilled across the filter
	slotCPU      = -16 // u32 key: this CPU's number
)

// counters, per ring: u64 each.
const (
	cntSeen    = 0
	cntMatched = 8
	cntDropped = 16
	cntSize    = 32
)

// Ring buffer flags and queries (include/uapi/linux/bpf.h).
const (
	rbNoWakeup    = 1 // BPF_RB_NO_WAKEUP
	rbForceWakeup = 2 // BPF_RB_FORCE_WAKEUP
	rbAvailData   = 0 // BPF_RB_AVAIL_DATA
)

// WakeFraction sets when the program wakes a ring's reader: when a record
// takes the unread records past 1/WakeFraction of the ring. Otherwise the
// reader is not woken; it must look at the ring on a timer of its own (a
// few milliseconds), as an AF_PACKET reader does when TPACKET_V3 retires a
// block on its timeout.
const WakeFraction = 8

// tcxNext lets the packet continue to the next tcx program, or to the
// stack when there is none (TCX_NEXT).
const tcxNext = -1

// Spec describes the programs of one interface.
type Spec struct {
	// Filter is the filter block, a classic program translated for the
	// socket filter target (it reads the packet with LD_ABS/LD_IND and the
	// metadata from the __sk_buff), entered with CtxReg holding the
	// context; every path ends in a jump to MatchLabel, with the number of
	// bytes to keep in MatchLen, or to NoMatchLabel. Nil matches every
	// packet.
	Filter asm.Instructions
	// MatchLen is the register holding the filter's return value at
	// MatchLabel (jit/ebpf's A register, R7 by default).
	MatchLen asm.Register
	// Snaplen is the most bytes of a packet copied (at most MaxSnaplen;
	// 0 means MaxSnaplen).
	Snaplen uint32
	// RingBytes is the size of each CPU's ring: a power of two and a
	// multiple of the page size.
	RingBytes uint32
	// MinLen, when not 0, sends a packet shorter than MinLen bytes to
	// NoMatchLabel without running the filter. A translated filter reads
	// the packet with LD_ABS and LD_IND, and a load past the end of the
	// packet ends the whole program with 0, which tcx reads as TCX_PASS:
	// the programs attached after wring's would not run for that packet.
	// Set it to the end of the filter's furthest absolute load, so that a
	// runt frame cannot skip them (loads at a variable offset, LD_IND, are
	// not covered).
	MinLen uint32
	// Rules, when not nil, runs before the filter (capture/rulemaps's
	// block): entered with CtxReg holding the context and the stack below
	// StackOffset free, it ends in a jump to RulesDoneLabel for a packet
	// the filter is to decide, to RulesSkipLabel for one the rules keep
	// from being copied (they count it themselves) and to RulesKeepLabel
	// for one a keep rule captures past the filter.
	Rules asm.Instructions
}

// Labels a Rules block jumps to.
const (
	RulesDoneLabel = "wring_passive_rules_done"
	RulesSkipLabel = "wring_passive_out"
	RulesKeepLabel = "wring_passive_rules_keep"
)

// Probe is the loaded programs, rings and counters of one capture.
type Probe struct {
	rings    []*ebpf.Map // one ring buffer per CPU
	outer    *ebpf.Map   // array of maps: CPU -> ring
	scratch  *ebpf.Map   // per CPU: a record being assembled
	counters *ebpf.Map   // per CPU ring: seen, matched, dropped
	progs    [2]*ebpf.Program
	links    []link.Link
	csumErr  error // why the egress program records no partial checksums
}

// ErrNotSupported is returned when the kernel lacks what the passive path
// needs (tcx links, BPF ring buffers).
var ErrNotSupported = errors.New("not supported")

// Load creates the rings and counters and loads the ingress and egress
// programs; Attach puts them on an interface.
func Load(s Spec) (*Probe, error) {
	if s.Snaplen == 0 || s.Snaplen > MaxSnaplen {
		s.Snaplen = MaxSnaplen
	}
	if s.RingBytes == 0 || s.RingBytes&(s.RingBytes-1) != 0 || s.RingBytes < 4096 {
		return nil, fmt.Errorf("passive: ring of %d bytes: want a power of two of at least 4096", s.RingBytes)
	}
	if s.MatchLen == 0 && s.Filter != nil {
		return nil, errors.New("passive: a filter block needs MatchLen")
	}
	ncpu, err := ebpf.PossibleCPU()
	if err != nil {
		return nil, fmt.Errorf("passive: possible cpus: %w", err)
	}
	p := &Probe{}
	fail := func(err error) (*Probe, error) {
		p.Close()
		return nil, err
	}
	inner := &ebpf.MapSpec{Name: "wring_ring", Type: ebpf.RingBuf, MaxEntries: s.RingBytes}
	if p.outer, err = ebpf.NewMap(&ebpf.MapSpec{Name: "wring_rings", Type: ebpf.ArrayOfMaps, KeySize: 4, ValueSize: 4,
		MaxEntries: uint32(ncpu), InnerMap: inner}); err != nil {
		return fail(fmt.Errorf("passive: ring table: %w", err))
	}
	for cpu := 0; cpu < ncpu; cpu++ {
		r, err := ebpf.NewMap(inner)
		if err != nil {
			return fail(fmt.Errorf("passive: ring of %d bytes for cpu %d: %w", s.RingBytes, cpu, err))
		}
		p.rings = append(p.rings, r)
		if err := p.outer.Put(uint32(cpu), r); err != nil {
			return fail(fmt.Errorf("passive: ring table entry %d: %w", cpu, err))
		}
	}
	if p.scratch, err = ebpf.NewMap(&ebpf.MapSpec{Name: "wring_scratch", Type: ebpf.Array, KeySize: 4,
		ValueSize: (HeaderLen + s.Snaplen + TrailerLen + 7) &^ 7, MaxEntries: uint32(ncpu)}); err != nil {
		return fail(fmt.Errorf("passive: scratch: %w", err))
	}
	if p.counters, err = ebpf.NewMap(&ebpf.MapSpec{Name: "wring_pcount", Type: ebpf.Array, KeySize: 4,
		ValueSize: cntSize, MaxEntries: uint32(ncpu)}); err != nil {
		return fail(fmt.Errorf("passive: counters: %w", err))
	}
	for d, dir := range []Direction{In, Out} {
		var csum *csumLayout
		if dir == Out {
			l, err := kernelCsumLayout()
			if p.csumErr = err; err == nil {
				csum = &l
			}
		}
		insns := s.instructions(dir, p.outer.FD(), p.scratch.FD(), p.counters.FD(), csum)
		prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{Name: "wring_passive", Type: ebpf.SchedCLS,
			License: "Dual BSD/GPL", Instructions: insns})
		if err != nil && csum != nil {
			// A kernel that refuses the sk_buff reads: copy without.
			p.csumErr = fmt.Errorf("the kernel refuses the checksum reads: %w", err)
			insns = s.instructions(dir, p.outer.FD(), p.scratch.FD(), p.counters.FD(), nil)
			prog, err = ebpf.NewProgram(&ebpf.ProgramSpec{Name: "wring_passive", Type: ebpf.SchedCLS,
				License: "Dual BSD/GPL", Instructions: insns})
		}
		if err != nil {
			return fail(fmt.Errorf("passive: load %s program: %w", dir, err))
		}
		p.progs[d] = prog
	}
	return p, nil
}

// instructions returns the program for one direction: count the packet,
// run the filter, and on a match copy min(len, filter result, snaplen)
// bytes behind a header into this CPU's ring, counting a full ring as a
// drop. Every path returns TCX_NEXT: the packet goes on unchanged. With
// csum, a packet with a partial checksum gets a trailer (csum_linux.go).
func (s Spec) instructions(dir Direction, ringsFD, scratchFD, countersFD int, csum *csumLayout) asm.Instructions {
	const (
		keep = asm.R9 // bytes to copy
		rec  = asm.R8 // the record in the scratch map
		ring = asm.R7 // this CPU's ring (the filter's A is dead by then)
	)
	insns := asm.Instructions{
		// The kernel wants line information on the first instruction when
		// any has some (a translated filter may carry its classic source).
		asm.Mov.Reg(CtxReg, asm.R1).WithSource(asm.Comment("wring passive capture")),
		asm.FnGetSmpProcessorId.Call(),
		asm.StoreMem(asm.RFP, slotCPU, asm.R0, asm.Word),
		asm.LoadMapPtr(asm.R1, countersFD),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, slotCPU),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "wring_passive_out"),
		asm.StoreMem(asm.RFP, slotCounters, asm.R0, asm.DWord),
		asm.LoadMem(asm.R1, asm.R0, cntSeen, asm.DWord),
		asm.Add.Imm(asm.R1, 1),
		asm.StoreMem(asm.R0, cntSeen, asm.R1, asm.DWord),
	}
	if s.Rules != nil {
		insns = append(insns, s.Rules...)
		insns = append(insns, asm.Mov.Imm(asm.R0, 0).WithSymbol(RulesDoneLabel))
	}
	lenReg := s.MatchLen
	if s.Filter == nil {
		lenReg = keep
		insns = append(insns, asm.Mov.Imm32(keep, int32(s.Snaplen)), asm.Ja.Label(MatchLabel))
	} else {
		if s.MinLen > 0 {
			insns = append(insns,
				asm.LoadMem(asm.R1, CtxReg, skbLen, asm.Word),
				asm.JLT.Imm(asm.R1, int32(s.MinLen), NoMatchLabel),
			)
		}
		insns = append(insns, s.Filter...)
	}
	match, noMatch := true, false
	if s.Filter != nil {
		match = references(s.Filter, MatchLabel)
		noMatch = s.MinLen > 0 || references(s.Filter, NoMatchLabel)
	}
	if s.Rules != nil && references(s.Rules, RulesKeepLabel) {
		// keep: the whole packet (up to the snapshot length), past the filter.
		insns = append(insns,
			asm.Mov.Imm32(lenReg, int32(s.Snaplen)).WithSymbol(RulesKeepLabel),
			asm.Ja.Label(MatchLabel),
		)
		match = true
	}
	if match {
		insns = append(insns,
			// keep = min(skb->len, filter result, snaplen), at least 1.
			asm.Mov.Reg32(asm.R1, lenReg).WithSymbol(MatchLabel),
			asm.LoadMem(keep, CtxReg, skbLen, asm.Word),
			asm.JLE.Reg(keep, asm.R1, "wring_passive_k1"),
			asm.Mov.Reg(keep, asm.R1),
			asm.JLE.Imm(keep, int32(s.Snaplen), "wring_passive_k2").WithSymbol("wring_passive_k1"),
			asm.Mov.Imm(keep, int32(s.Snaplen)),
			asm.LoadMem(asm.R0, asm.RFP, slotCounters, asm.DWord).WithSymbol("wring_passive_k2"),
			asm.LoadMem(asm.R1, asm.R0, cntMatched, asm.DWord),
			asm.Add.Imm(asm.R1, 1),
			asm.StoreMem(asm.R0, cntMatched, asm.R1, asm.DWord),
			asm.JEq.Imm(keep, 0, "wring_passive_drop"),
			asm.LoadMapPtr(asm.R1, scratchFD),
			asm.Mov.Reg(asm.R2, asm.RFP),
			asm.Add.Imm(asm.R2, slotCPU),
			asm.FnMapLookupElem.Call(),
			asm.JEq.Imm(asm.R0, 0, "wring_passive_drop"),
			asm.Mov.Reg(rec, asm.R0),
		)
		insns = append(insns, stampInsns(dir, rec)...)
		insns = append(insns,
			asm.LoadMem(asm.R1, CtxReg, skbLen, asm.Word),
			asm.StoreMem(rec, offWireLen, asm.R1, asm.Word),
			asm.LoadMem(asm.R1, CtxReg, skbIfindex, asm.Word),
			asm.StoreMem(rec, offIfindex, asm.R1, asm.Word),
			asm.LoadMem(asm.R1, CtxReg, skbQueueMapping, asm.Word),
			asm.StoreMem(rec, offQueue, asm.R1, asm.Half),
			asm.StoreImm(rec, offDir, int64(dir), asm.Byte),
		)
		if csum != nil {
			insns = append(insns, csumInsns(*csum, rec)...)
		}
		insns = append(insns, copyInsns(keep, rec, s.Snaplen, csum != nil)...)
		if csum != nil {
			insns = append(insns, trailerInsns(keep, rec)...)
		}
		insns = append(insns,
			// ring = rings[cpu]; bpf_ringbuf_output(ring, rec, HeaderLen+keep, 0)
			asm.LoadMapPtr(asm.R1, ringsFD),
			asm.Mov.Reg(asm.R2, asm.RFP),
			asm.Add.Imm(asm.R2, slotCPU),
			asm.FnMapLookupElem.Call(),
			asm.JEq.Imm(asm.R0, 0, "wring_passive_drop"),
			// Wake the reader only when the ring fills up: it reads on a
			// short timer anyway, so a quiet ring costs no wakeup per
			// packet (BPF_RB_NO_WAKEUP). The record that takes the unread
			// bytes past the mark forces one; the records after it do
			// not, since a forced wakeup costs microseconds (an irq_work
			// per record) while the reader is already behind.
			asm.Mov.Reg(ring, asm.R0),
			asm.Mov.Reg(asm.R1, ring),
			asm.Mov.Imm(asm.R2, rbAvailData),
			asm.FnRingbufQuery.Call(),
			asm.Mov.Imm(asm.R4, rbNoWakeup),
			asm.JGE.Imm(asm.R0, int32(s.RingBytes/WakeFraction), "wring_passive_output"),
			asm.Add.Reg(asm.R0, keep),
			asm.Add.Imm(asm.R0, HeaderLen+8), // the kernel's record header
			asm.JLT.Imm(asm.R0, int32(s.RingBytes/WakeFraction), "wring_passive_output"),
			asm.Mov.Imm(asm.R4, rbForceWakeup),
			asm.Mov.Reg(asm.R1, ring).WithSymbol("wring_passive_output"),
			asm.Mov.Reg(asm.R2, rec),
			asm.Mov.Reg(asm.R3, keep),
			asm.Add.Imm(asm.R3, HeaderLen),
			asm.FnRingbufOutput.Call(),
			asm.JEq.Imm(asm.R0, 0, "wring_passive_out"),
			// The ring was full (or the copy failed): count the drop.
			asm.LoadMem(asm.R0, asm.RFP, slotCounters, asm.DWord).WithSymbol("wring_passive_drop"),
			asm.LoadMem(asm.R1, asm.R0, cntDropped, asm.DWord),
			asm.Add.Imm(asm.R1, 1),
			asm.StoreMem(asm.R0, cntDropped, asm.R1, asm.DWord),
			asm.Ja.Label("wring_passive_out"),
		)
	}
	if noMatch {
		insns = append(insns, asm.Ja.Label("wring_passive_out").WithSymbol(NoMatchLabel))
	}
	return append(insns,
		asm.Mov.Imm(asm.R0, tcxNext).WithSymbol("wring_passive_out"),
		asm.Return(),
	)
}

// copyInsns copies keep bytes of the packet behind the record's header.
// When the kernel holds the packet's VLAN tag in metadata (it moves it
// out of the frame before tc, as before the AF_PACKET taps), the copy puts
// it back after the MAC addresses, as libpcap does, and the record's
// lengths grow by the tag's 4 bytes (within the snapshot length), as does
// the partial checksum's start in slotCsum when csum is set.
func copyInsns(keep, rec asm.Register, snaplen uint32, csum bool) asm.Instructions {
	const tag = 4
	var shift asm.Instructions
	if csum {
		shift = asm.Instructions{
			asm.LoadMem(asm.R1, asm.RFP, slotCsum, asm.Word),
			asm.Add.Imm(asm.R1, tag),
			asm.StoreMem(asm.RFP, slotCsum, asm.R1, asm.Word),
		}
	}
	insns := asm.Instructions{
		asm.LoadMem(asm.R1, CtxReg, skbVLANPresent, asm.Word),
		asm.JEq.Imm(asm.R1, 0, "wring_passive_plain"),
		asm.JLT.Imm(keep, 2*6+1, "wring_passive_plain"),
	}
	return append(append(insns, shift...), asm.Instructions{
		// The MAC addresses.
		asm.Mov.Reg(asm.R1, CtxReg),
		asm.Mov.Imm(asm.R2, 0),
		asm.Mov.Reg(asm.R3, rec),
		asm.Add.Imm(asm.R3, HeaderLen),
		asm.Mov.Imm(asm.R4, 2*6),
		asm.FnSkbLoadBytes.Call(),
		asm.JNE.Imm(asm.R0, 0, "wring_passive_drop"),
		// The tag: TPID as the skb keeps it (network order), TCI in host
		// order turned to network order.
		asm.LoadMem(asm.R1, CtxReg, skbVLANProto, asm.Word),
		asm.StoreMem(rec, HeaderLen+12, asm.R1, asm.Half),
		asm.LoadMem(asm.R1, CtxReg, skbVLANTCI, asm.Word),
		asm.HostTo(asm.BE, asm.R1, asm.Half),
		asm.StoreMem(rec, HeaderLen+14, asm.R1, asm.Half),
		asm.LoadMem(asm.R1, rec, offWireLen, asm.Word),
		asm.Add.Imm(asm.R1, tag),
		asm.StoreMem(rec, offWireLen, asm.R1, asm.Word),
		// keep = min(keep+4, snaplen); the rest of the frame follows the
		// tag: keep-16 bytes from offset 12.
		asm.Add.Imm(keep, tag),
		asm.JLE.Imm(keep, int32(snaplen), "wring_passive_tagkeep"),
		asm.Mov.Imm(keep, int32(snaplen)),
		asm.JLT.Imm(keep, 2*6+tag+1, "wring_passive_copied").WithSymbol("wring_passive_tagkeep"),
		asm.Mov.Reg(asm.R1, CtxReg),
		asm.Mov.Imm(asm.R2, 2*6),
		asm.Mov.Reg(asm.R3, rec),
		asm.Add.Imm(asm.R3, HeaderLen+2*6+tag),
		asm.Mov.Reg(asm.R4, keep),
		asm.Add.Imm(asm.R4, -(2*6 + tag)),
		asm.FnSkbLoadBytes.Call(),
		asm.JNE.Imm(asm.R0, 0, "wring_passive_drop"),
		asm.Ja.Label("wring_passive_copied"),
		// bpf_skb_load_bytes(skb, 0, rec+HeaderLen, keep)
		asm.Mov.Reg(asm.R1, CtxReg).WithSymbol("wring_passive_plain"),
		asm.Mov.Imm(asm.R2, 0),
		asm.Mov.Reg(asm.R3, rec),
		asm.Add.Imm(asm.R3, HeaderLen),
		asm.Mov.Reg(asm.R4, keep),
		asm.FnSkbLoadBytes.Call(),
		asm.JNE.Imm(asm.R0, 0, "wring_passive_drop"),
		asm.Mov.Imm(asm.R0, 0).WithSymbol("wring_passive_copied"),
	}...)
}

// stampInsns writes the record's timestamp and flags. On ingress it takes
// the kernel's receive stamp (skb->tstamp, on the realtime clock: the
// stamp tcpdump reports) when the kernel took one; otherwise, and always
// on egress, where skb->tstamp may hold a departure time on another clock,
// it reads the TAI clock.
func stampInsns(dir Direction, rec asm.Register) asm.Instructions {
	var insns asm.Instructions
	if dir == In {
		// At ingress the kernel reads a delivery time (monotonic) as 0
		// for a program that does not ask for tstamp_type.
		insns = append(insns,
			asm.LoadMem(asm.R1, CtxReg, skbTstamp, asm.DWord),
			asm.JEq.Imm(asm.R1, 0, "wring_passive_tai"),
			asm.StoreMem(rec, offTime, asm.R1, asm.DWord),
			asm.StoreImm(rec, offFlags, FlagRealtime, asm.Byte),
			asm.Ja.Label("wring_passive_stamped"),
		)
	}
	return append(insns,
		asm.FnKtimeGetTaiNs.Call().WithSymbol("wring_passive_tai"),
		asm.StoreMem(rec, offTime, asm.R0, asm.DWord),
		asm.StoreImm(rec, offFlags, 0, asm.Byte),
		asm.Mov.Imm(asm.R0, 0).WithSymbol("wring_passive_stamped"),
	)
}

// __sk_buff field offsets (include/uapi/linux/bpf.h).
const (
	skbLen          = 0
	skbQueueMapping = 12
	skbVLANPresent  = 20
	skbVLANTCI      = 24
	skbVLANProto    = 28
	skbIfindex      = 40
	skbTstamp       = 152
)

func references(insns asm.Instructions, label string) bool {
	for _, ins := range insns {
		if ins.Reference() == label {
			return true
		}
	}
	return false
}

// Rings returns the number of rings (one per possible CPU).
func (p *Probe) Rings() int { return len(p.rings) }

// Ring returns ring i, for a ringbuf.Reader.
func (p *Probe) Ring(i int) *ebpf.Map { return p.rings[i] }

// Attach attaches the ingress and egress programs to the interface with
// tcx links: the ingress program before any program already there and the
// egress program after them, so that wring sees each packet where
// tcpdump's taps do (before tc on ingress, after it on egress). Both
// return TCX_NEXT: the other programs run and keep their verdicts. A tc
// egress program before wring's that ends the chain (TCX_PASS) hides its
// packets from it. in and out select the directions.
func (p *Probe) Attach(ifindex int, in, out bool) error {
	for d, at := range []ebpf.AttachType{ebpf.AttachTCXIngress, ebpf.AttachTCXEgress} {
		if (d == 0 && !in) || (d == 1 && !out) {
			continue
		}
		// Ingress first, where tcpdump's taps run before tc; egress
		// last, where they run after it.
		anchor := link.Head()
		if d == 1 {
			anchor = link.Tail()
		}
		l, err := link.AttachTCX(link.TCXOptions{Interface: ifindex, Program: p.progs[d], Attach: at, Anchor: anchor})
		if err != nil {
			if errors.Is(err, ebpf.ErrNotSupported) {
				err = fmt.Errorf("%w: %w", ErrNotSupported, err)
			}
			return fmt.Errorf("passive: attach %s program to ifindex %d: %w", Direction(d), ifindex, err)
		}
		p.links = append(p.links, l)
	}
	return nil
}

// Detach removes the programs from every interface; the rings stay
// readable.
func (p *Probe) Detach() error {
	var errs []error
	for _, l := range p.links {
		errs = append(errs, l.Close())
	}
	p.links = nil
	return errors.Join(errs...)
}

// Counters are one ring's counts, kept by the kernel.
type Counters struct {
	Seen    uint64 // packets the programs ran on, on this CPU
	Matched uint64 // packets the filter matched
	Dropped uint64 // of Matched: not copied because the ring was full
}

// Counters reads ring i's counters.
func (p *Probe) Counters(i int) (Counters, error) {
	var v [cntSize / 8]uint64
	if err := p.counters.Lookup(uint32(i), &v); err != nil {
		return Counters{}, fmt.Errorf("passive: counters of ring %d: %w", i, err)
	}
	return Counters{Seen: v[cntSeen/8], Matched: v[cntMatched/8], Dropped: v[cntDropped/8]}, nil
}

// Close detaches the programs and frees the rings and maps.
func (p *Probe) Close() error {
	errs := []error{p.Detach()}
	for _, pr := range p.progs {
		if pr != nil {
			errs = append(errs, pr.Close())
		}
	}
	for _, m := range append([]*ebpf.Map{p.outer, p.scratch, p.counters}, p.rings...) {
		if m != nil {
			errs = append(errs, m.Close())
		}
	}
	return errors.Join(errs...)
}

// ChecksumErr returns why the egress program does not record the position
// of partial checksums (no kernel BTF, or a kernel that refuses the
// sk_buff reads), or nil when it does: without it, packets the host sends
// with a partial checksum on a device that does not checksum in hardware
// are copied with the partial checksum, where tcpdump shows it completed.
func (p *Probe) ChecksumErr() error { return p.csumErr }
