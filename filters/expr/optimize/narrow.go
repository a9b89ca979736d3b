package optimize

import (
	"math"

	"github.com/wringcap/wring/spec"
)

// narrow replaces a load, a mask that keeps whole bytes of it, and a
// comparison by a narrower load of those bytes and the comparison scaled
// to them, when A is not read afterwards: `ld [26]; and #0xffff0000; jeq
// #0xc0a80000` becomes `ldh [26]; jeq #0xc0a8`, and `ld [k]; and
// #0xffff` becomes `ldh [k+2]`. The narrower load must end the run on the
// same packets: it ends where the wide one did, or the packet is known to
// be long enough already, or every path from the jump to a non-zero
// return loads that far anyway (so a packet too short for the wide load
// still returns 0). Each run narrows one load.
func narrow(g *graph) bool {
	if !hasMaskedLoad(g) {
		return false // the common case: no analysis needed
	}
	fl := analyze(g)
	lv := computeLiveness(g)
	var ant []uint64 // by block position, computed on first need
	for _, b := range g.order {
		n := len(b.stmts)
		if b.kind != termCond || n < 2 || b.term.Src() != spec.SrcK {
			continue
		}
		op := b.term.Operation()
		if op != spec.JumpJEQ && op != spec.JumpJGT && op != spec.JumpJGE {
			continue
		}
		if (lv[b.succ[0].pos]|lv[b.succ[1].pos])&(1<<slotA) != 0 {
			continue
		}
		ld, and := b.stmts[n-2], b.stmts[n-1]
		if !isPacketAbs(ld) || and.Op != spec.ClassALU|spec.ALUAnd|spec.SrcK {
			continue
		}
		var size uint32
		switch ld.Size() {
		case spec.SizeW:
			size = 4
		case spec.SizeH:
			size = 2
		default:
			continue
		}
		off, w, ok := byteWindow(and.K, size)
		if !ok {
			continue
		}
		shift := 8 * (size - off - w)
		k, ok := scaledCompare(op, b.term.K, shift, and.K)
		if !ok {
			continue
		}
		end := uint64(ld.K) + uint64(size)
		if newEnd := uint64(ld.K) + uint64(off+w); newEnd != end {
			known := uint64(0)
			if st := fl.entry(b); st != nil {
				known = st.known
			}
			for _, s := range b.stmts[:n-2] {
				if isPacketAbs(s) {
					known = max(known, loadEnd(s))
				}
			}
			if known < end {
				if ant == nil {
					ant = anticipatedLoads(g)
				}
				if min(ant[b.succ[0].pos], ant[b.succ[1].pos]) < end {
					continue
				}
			}
		}
		sz := uint16(spec.SizeB)
		if w == 2 {
			sz = spec.SizeH
		}
		b.stmts = append(b.stmts[:n-2:n-2], spec.Stmt(spec.ClassLD|sz|spec.ModeABS, ld.K+off))
		b.term.K = k
		// One change per run: the analysis that justified it is now
		// stale, and two narrowings must not justify each other (each
		// by the other's wide load, before or after it).
		g.refresh()
		return true
	}
	return false
}

// hasMaskedLoad reports whether some block ends in a packet load and a
// mask of whole bytes before a conditional jump.
func hasMaskedLoad(g *graph) bool {
	for _, b := range g.order {
		n := len(b.stmts)
		if b.kind != termCond || n < 2 || !isPacketAbs(b.stmts[n-2]) || b.stmts[n-1].Op != spec.ClassALU|spec.ALUAnd|spec.SrcK {
			continue
		}
		size := uint32(4)
		switch b.stmts[n-2].Size() {
		case spec.SizeH:
			size = 2
		case spec.SizeB:
			continue
		}
		if _, _, ok := byteWindow(b.stmts[n-1].K, size); ok {
			return true
		}
	}
	return false
}

// byteWindow returns the byte offset and width (1 or 2) of the bytes of a
// size-byte value that mask keeps, when it keeps exactly those bytes,
// fully, and fewer than all of them.
func byteWindow(mask, size uint32) (off, w uint32, ok bool) {
	for _, w := range []uint32{1, 2} {
		if w >= size {
			break
		}
		for off := uint32(0); off+w <= size; off++ {
			shift := 8 * (size - off - w)
			if mask == (uint32(1)<<(8*w)-1)<<shift {
				return off, w, true
			}
		}
	}
	return 0, 0, false
}

// scaledCompare returns the constant k' such that `op #k'` on the masked
// bytes shifted down by shift decides as `op #k` on the masked value.
func scaledCompare(op uint16, k, shift, mask uint32) (uint32, bool) {
	switch op {
	case spec.JumpJEQ:
		if k&^mask != 0 {
			return 0, false // never equal: fold decides it
		}
		return k >> shift, true
	case spec.JumpJGT:
		// v<<shift > k  <=>  v > k>>shift
		return k >> shift, true
	case spec.JumpJGE:
		// v<<shift >= k  <=>  v >= ceil(k / 2^shift)
		c := (uint64(k) + (uint64(1)<<shift - 1)) >> shift
		if c > uint64(mask>>shift) {
			return 0, false // never taken: fold decides it
		}
		return uint32(c), true
	}
	return 0, false
}

// loadEnd returns the packet length an absolute load needs.
func loadEnd(ins spec.Instruction) uint64 {
	n := uint64(1)
	switch ins.Size() {
	case spec.SizeW:
		n = 4
	case spec.SizeH:
		n = 2
	}
	return uint64(ins.K) + n
}

// anticipatedLoads returns, by block position, a packet length that every
// path from the block's entry to a non-zero return needs for its absolute
// loads (the least, over those paths, of the farthest load on each):
// shorter packets return 0 from there. It is MaxUint64 for blocks from
// which every run returns 0.
func anticipatedLoads(g *graph) []uint64 {
	ant := make([]uint64, len(g.order))
	for i := len(g.order) - 1; i >= 0; i-- {
		b := g.order[i]
		var a uint64
		switch b.kind {
		case termRet:
			if b.term.Op == spec.ClassRET|spec.RetK && b.term.K == 0 {
				a = math.MaxUint64
			}
		default:
			a = math.MaxUint64
			for j := 0; j < b.nsucc(); j++ {
				a = min(a, ant[b.succ[j].pos])
			}
		}
		for _, s := range b.stmts {
			if isPacketAbs(s) {
				a = max(a, loadEnd(s))
			}
		}
		ant[i] = a
	}
	return ant
}
