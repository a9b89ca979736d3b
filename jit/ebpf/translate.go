package ebpf

import (
	"fmt"

	"github.com/cilium/ebpf/asm"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
)

// maxLinear is the longest linear frame XDP's direct packet access can
// cover (the kernel verifier's MAX_PACKET_OFF): a guard or a load that
// needs more bytes than this can never succeed in XDP.
const maxLinear = 0xffff

// Translate translates a verified classic BPF program into eBPF for
// opts.Target. The code expects the context pointer in opts.Registers.Ctx
// and ends by jumping to (or running) the match or no-match action; it
// never falls off its end.
//
// Every absolute packet load is covered by the bounds guards the verifier
// hoisted (verifier.Program.Guard), so in XDP a filter such as
// `tcp port 80` checks data_end a few times, not once per load. An
// instruction the target cannot express is an *Error naming its PC; an
// instruction no path reaches is not translated.
func Translate(p *verifier.Program, opts Options) (asm.Instructions, error) {
	insns, _, err := translate(p, opts)
	return insns, err
}

// stats counts what a translation emitted; tests read it.
type stats struct {
	guards         int // absolute bounds guards placed from the verifier's facts
	extraGuards    int // absolute guards the facts did not provide (should stay 0)
	indirectGuards int // bounds checks of X+k loads (XDP: one covers later loads until X changes)
	indirectLoads  int // X+k loads translated
	translated     int // classic instructions translated (reachable ones)
}

// noMatch is the pseudo-PC of the no-match action in jump resolution.
const noMatch = -1

type translator struct {
	p  *verifier.Program
	o  Options
	r  Registers
	n  int
	st stats

	reach  []bool   // pc is translated
	target []bool   // pc starts with a label
	dead   []bool   // pc cannot succeed (a load past any packet the target can have)
	in     []uint32 // XDP: packet length checked on every path reaching pc
	inX    []uint32 // XDP: bytes past data+X checked on every path reaching pc (XPtr = data+X)
	inSet  []bool
	needX  []uint32 // XDP: bytes past X every path from pc to a non-zero return reads before X changes

	out     asm.Instructions
	pending string            // label for the next emitted instruction
	alias   map[string]string // labels that name the same instruction
	nlabels int
	refs    map[string]int // references to the match and no-match labels

	match, noMatch string
}

func translate(p *verifier.Program, opts Options) (asm.Instructions, stats, error) {
	o, err := opts.resolved()
	if err != nil {
		return nil, stats{}, err
	}
	if p == nil || p.Len() == 0 {
		return nil, stats{}, fmt.Errorf("no program: %w", ErrOptions)
	}
	n := p.Len()
	t := &translator{
		p: p, o: o, r: o.Registers, n: n,
		reach: make([]bool, n), target: make([]bool, n), dead: make([]bool, n),
		in: make([]uint32, n), inX: make([]uint32, n), inSet: make([]bool, n), needX: make([]uint32, n),
		alias: map[string]string{}, refs: map[string]int{},
	}
	t.match = o.MatchLabel
	if t.match == "" {
		t.match = o.LabelPrefix + "_match"
	}
	t.noMatch = o.NoMatchLabel
	if t.noMatch == "" {
		t.noMatch = o.LabelPrefix + "_nomatch"
	}
	t.plan()
	if err := t.emitAll(); err != nil {
		return nil, stats{}, err
	}
	return t.out, t.st, nil
}

// xdp reports whether the target is XDP.
func (t *translator) xdp() bool { return t.o.Target == XDP }

// guard returns the verifier's hoisted guard at pc for this target (the
// socket filter target checks each load in the kernel's LD_ABS and needs
// none).
func (t *translator) guard(pc int) uint32 {
	if !t.xdp() {
		return 0
	}
	return t.p.Guard(pc)
}

// packetEnd returns the end offset of an absolute packet load (ld abs or
// ldx msh below the extension ranges), and false for anything else.
func packetEnd(ins spec.Instruction) (uint32, bool) {
	switch ins.Op {
	case spec.ClassLD | spec.ModeABS | spec.SizeW:
		if ins.K < spec.RecordBase {
			return ins.K + 4, true
		}
	case spec.ClassLD | spec.ModeABS | spec.SizeH:
		if ins.K < spec.RecordBase {
			return ins.K + 2, true
		}
	case spec.ClassLD | spec.ModeABS | spec.SizeB, spec.ClassLDX | spec.ModeMSH | spec.SizeB:
		if ins.K < spec.RecordBase {
			return ins.K + 1, true
		}
	}
	return 0, false
}

// unreachableLoad reports whether an instruction is a packet load that can
// never succeed on the target, so that it always ends the run with 0: in
// XDP an absolute or link-layer-relative load past maxLinear, or one at an
// offset in the upper half of the 32-bit space that Linux gives no
// meaning; on both targets an indirect load whose constant alone is past
// the largest packet (X+k does not wrap, as in libpcap and the vm).
func unreachableLoad(ins spec.Instruction, target Target) bool {
	limit := uint64(maxLinear)
	if target == SocketFilter {
		limit = 0x7fffffff
	}
	switch {
	case ins.Class() == spec.ClassLD && ins.Mode() == spec.ModeIND:
		return uint64(ins.K)+uint64(spec.LoadSize(ins.Op)) > limit
	case target == SocketFilter:
		return false
	case ins.Op == opLdxMsh, ins.Class() == spec.ClassLD && ins.Mode() == spec.ModeABS:
	default:
		return false
	}
	k := uint64(ins.K)
	switch {
	case ins.K >= spec.NetOff:
		return false // network-header relative or ancillary: not packet bytes here
	case spec.IsRecordLoad(ins.K) && ins.Op != opLdxMsh:
		return false // a record load: Translate refuses it
	case ins.K >= spec.LLOff:
		k = uint64(ins.K - spec.LLOff)
	case ins.K >= spec.RecordBase:
		return true
	}
	return k+uint64(spec.LoadSize(ins.Op)) > limit
}

func isCond(op uint16) bool {
	return op&0x07 == spec.ClassJMP && op&0xf0 != spec.JumpJA
}

const (
	opJa   = spec.ClassJMP | spec.JumpJA
	opRetK = spec.ClassRET | spec.RetK
	opRetA = spec.ClassRET | spec.RetA
)

// resolve follows unconditional jumps from pc (jump threading) and returns
// the instruction control really reaches, or noMatch for `ret #0`. A jump
// that carries a guard is not skipped.
func (t *translator) resolve(pc int) int {
	for {
		ins := t.p.At(pc)
		if t.guard(pc) != 0 {
			return pc
		}
		switch {
		case ins.Op == opJa:
			pc += 1 + int(ins.K)
			continue
		case isCond(ins.Op) && ins.Jt == ins.Jf:
			pc += 1 + int(ins.Jt)
			continue
		case ins.Op == opRetK && ins.K == 0:
			return noMatch
		}
		return pc
	}
}

// edges returns where control goes after pc: the fall-through successor
// (or -2 for none) and the jump targets (resolved) the code for pc names.
// Both plan and emit use it so they agree on the edges.
func (t *translator) edges(pc int) (fall int, jumps []int) {
	ins := t.p.At(pc)
	if t.dead[pc] {
		return -2, []int{noMatch}
	}
	switch {
	case ins.Op == opRetK || ins.Op == opRetA:
		return -2, nil
	case ins.Op == opJa:
		to := t.resolve(pc + 1 + int(ins.K))
		if to == pc+1 {
			return pc + 1, nil
		}
		return -2, []int{to}
	case isCond(ins.Op):
		tt, tf := t.resolve(pc+1+int(ins.Jt)), t.resolve(pc+1+int(ins.Jf))
		switch {
		case tt == tf && tt == pc+1:
			return pc + 1, nil
		case tt == tf:
			return -2, []int{tt}
		case tt == pc+1:
			return pc + 1, []int{tf}
		case tf == pc+1:
			return pc + 1, []int{tt}
		}
		return -2, []int{tt, tf}
	}
	return pc + 1, nil
}

// plan marks the instructions that can run, those that can only fail in
// XDP, and those that start with a label.
func (t *translator) plan() {
	if t.xdp() {
		t.computeNeedX()
	}
	for pc := 0; pc < t.n; pc++ {
		ins := t.p.At(pc)
		t.dead[pc] = t.guard(pc) > maxLinear || unreachableLoad(ins, t.o.Target) ||
			t.xdp() && isIndirect(ins) && t.needX[pc] > maxLinear
	}
	t.reach[0] = true
	for pc := 0; pc < t.n; pc++ {
		if !t.reach[pc] {
			continue
		}
		fall, jumps := t.edges(pc)
		if fall >= 0 {
			t.reach[fall] = true
		}
		for _, j := range jumps {
			if j >= 0 {
				t.reach[j] = true
				t.target[j] = true
			}
		}
	}
}

// pcLabel returns the label of the code for pc (or the no-match label).
func (t *translator) pcLabel(pc int) string {
	if pc == noMatch {
		return t.noMatch
	}
	return fmt.Sprintf("%s_pc%d", t.o.LabelPrefix, pc)
}

// newLabel returns a fresh internal label.
func (t *translator) newLabel() string {
	t.nlabels++
	return fmt.Sprintf("%s_l%d", t.o.LabelPrefix, t.nlabels)
}

// label makes name the label of the next emitted instruction.
func (t *translator) label(name string) {
	if t.pending != "" {
		t.alias[t.pending] = name
	}
	t.pending = name
}

// emit appends instructions, attaching a pending label to the first.
func (t *translator) emit(insns ...asm.Instruction) {
	for _, ins := range insns {
		if t.pending != "" {
			if sym := ins.Symbol(); sym != "" {
				t.alias[t.pending] = sym
			} else {
				ins = ins.WithSymbol(t.pending)
			}
			t.pending = ""
		}
		t.out = append(t.out, ins)
	}
}

// ref returns label, counting the references to it (the match and
// no-match actions are emitted only when referenced).
func (t *translator) ref(label string) string {
	t.refs[label]++
	return label
}

// isIndirect reports whether ins is an X+k packet load.
func isIndirect(ins spec.Instruction) bool {
	return ins.Class() == spec.ClassLD && ins.Mode() == spec.ModeIND
}

// writesX reports whether ins changes X.
func writesX(ins spec.Instruction) bool {
	return ins.Class() == spec.ClassLDX || ins.Op == opTax
}

// never is the need of a path that can only return 0.
const never = ^uint32(0)

// computeNeedX is the verifier's guard analysis for indirect loads: for
// every pc, the number of bytes past X that every path from pc to a return
// other than `ret #0` reads with X unchanged (the largest k+size of its
// X+k loads). A packet shorter than X+needX makes every such path fail a
// load, so one check of X+needX at the first indirect load covers the
// later ones, as cbpfc's indirect guards do. Writing X starts over.
func (t *translator) computeNeedX() {
	for pc := t.n - 1; pc >= 0; pc-- {
		ins := t.p.At(pc)
		switch {
		case ins.Op == opRetK && ins.K == 0:
			t.needX[pc] = never
		case ins.Op == opRetK || ins.Op == opRetA:
			t.needX[pc] = 0
		case ins.Op == opJa:
			t.needX[pc] = t.needX[pc+1+int(ins.K)]
		case isCond(ins.Op):
			t.needX[pc] = min(t.needX[pc+1+int(ins.Jt)], t.needX[pc+1+int(ins.Jf)])
		case writesX(ins):
			t.needX[pc] = 0
		case isIndirect(ins):
			end := uint64(ins.K) + uint64(spec.LoadSize(ins.Op))
			t.needX[pc] = t.needX[pc+1]
			if end > uint64(maxLinear) {
				t.needX[pc] = never
			} else {
				t.needX[pc] = max(t.needX[pc], uint32(end))
			}
		default:
			t.needX[pc] = t.needX[pc+1]
		}
	}
}

// flow records that every path from the current instruction to pc has
// checked at least known bytes (XDP).
func (t *translator) flow(pc int, known, knownX uint32) {
	if pc < 0 {
		return
	}
	if !t.inSet[pc] {
		t.in[pc], t.inX[pc], t.inSet[pc] = known, knownX, true
		return
	}
	t.in[pc] = min(t.in[pc], known)
	t.inX[pc] = min(t.inX[pc], knownX)
}
