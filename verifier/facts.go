package verifier

import "github.com/wringcap/wring/spec"

// never is the length requirement of a path that can only return 0: no
// packet is long enough to make it return anything else.
const never = ^uint32(0)

// packetLoadEnd returns the end offset (k + size) of an absolute packet
// load, and false for any other instruction (including ancillary, record
// and SKF_LL_OFF/SKF_NET_OFF-relative loads, whose success does not depend
// on the packet's length in the same way). ldx 4*([k]&0xf) is an absolute
// one-byte load.
func packetLoadEnd(ins spec.Instruction) (uint32, bool) {
	switch ins.Op {
	case spec.OpLdAbsW, spec.OpLdAbsH, spec.OpLdAbsB:
		if ins.K < spec.RecordBase {
			return ins.K + spec.LoadSize(ins.Op), true
		}
	case spec.OpLdxMsh:
		if ins.K < spec.RecordBase {
			return ins.K + 1, true
		}
	}
	return 0, false
}

// computeFacts fills known, guard and maxOff. The program has passed every
// check, so every jump target is in range and the last instruction returns.
//
// need[pc] is the packet length that every path from pc to a return of a
// value other than constant 0 needs for its absolute loads (NetBSD bpfjit's
// "array bounds check elimination" and cbpfc's guaranteed guards): a packet
// shorter than need[pc] makes the run return 0 whatever happens, because a
// failed load also returns 0 and classic BPF has no side effects. ret a
// counts as possibly non-zero; indirect loads add nothing.
//
// A forward pass then places a guard wherever need exceeds the length
// already known on every incoming path, so that every absolute packet load
// is covered by a guard or an earlier load.
func (p *Program) computeFacts() {
	n := len(p.insns)
	need := make([]uint32, n)
	for pc := n - 1; pc >= 0; pc-- {
		ins := p.insns[pc]
		switch {
		case ins.Op == spec.OpRetK:
			if ins.K == 0 {
				need[pc] = never
			}
		case ins.Op == spec.OpRetA:
			need[pc] = 0
		case ins.Op == spec.OpJa:
			need[pc] = need[pc+1+int(ins.K)]
		case isCondJump(ins.Op):
			need[pc] = min(need[pc+1+int(ins.Jt)], need[pc+1+int(ins.Jf)])
		default:
			need[pc] = need[pc+1]
			if end, ok := packetLoadEnd(ins); ok {
				need[pc] = max(need[pc], end)
				p.maxOff = max(p.maxOff, end)
			}
		}
	}

	p.known = make([]uint32, n)
	p.guard = make([]uint32, n)
	in := make([]uint32, n)
	reached := make([]bool, n)
	reached[0] = true
	flow := func(to int, known uint32) {
		if !reached[to] {
			reached[to], in[to] = true, known
			return
		}
		in[to] = min(in[to], known)
	}
	for pc, ins := range p.insns {
		known := in[pc] // 0 for an unreachable instruction: assume nothing
		isRet := ins.Op == spec.OpRetK || ins.Op == spec.OpRetA
		if need[pc] > known && !isRet {
			p.guard[pc] = need[pc]
			known = need[pc]
		}
		p.known[pc] = known
		if end, ok := packetLoadEnd(ins); ok {
			known = max(known, end)
		}
		switch {
		case isRet:
		case ins.Op == spec.OpJa:
			flow(pc+1+int(ins.K), known)
		case isCondJump(ins.Op):
			flow(pc+1+int(ins.Jt), known)
			flow(pc+1+int(ins.Jf), known)
		default:
			flow(pc+1, known)
		}
	}
}
