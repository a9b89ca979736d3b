package fuel

import (
	"errors"
	"fmt"
)

// region is a stretch of code charged at one point: a function body or a loop
// body, without the loops nested in it.
type region struct {
	at   int   // offset in the body where the charge is inserted
	cost int64 // instructions in the region
}

// meterCode rewrites every function body of a code section.
func meterCode(body []byte, global uint32) ([]byte, error) {
	r := reader{b: body}
	n := r.u32()
	if r.err != nil {
		return nil, r.err
	}
	out := make([]byte, 0, len(body)+len(body)/4+16)
	out = appendU32(out, n)
	var regions []region
	var stack []int
	for i := uint32(0); i < n; i++ {
		size := r.u32()
		fn := r.bytes(int(size))
		if r.err != nil {
			return nil, fmt.Errorf("function %d: %w", i, r.err)
		}
		var err error
		regions, stack, err = scan(fn, regions[:0], stack[:0])
		if err != nil {
			return nil, fmt.Errorf("function %d: %w", i, err)
		}
		grown := len(fn) + len(regions)*24
		start := len(out)
		out = appendU32(out, uint32(grown)) // placeholder, fixed below
		bodyStart := len(out)
		prev := 0
		for _, rg := range regions {
			out = append(out, fn[prev:rg.at]...)
			out = charge(out, global, rg.cost)
			prev = rg.at
		}
		out = append(out, fn[prev:]...)
		// Re-encode the body size now that it is known.
		newSize := uint32(len(out) - bodyStart)
		sz := appendU32(nil, newSize)
		if len(sz) != bodyStart-start {
			tail := append([]byte(nil), out[bodyStart:]...)
			out = append(append(out[:start], sz...), tail...)
		} else {
			copy(out[start:], sz)
		}
	}
	if r.pos != len(body) {
		return nil, errors.New("trailing bytes after the last function")
	}
	return out, nil
}

// charge appends the metering sequence for cost units:
//
//	global.get g; i64.const cost; i64.sub; global.set g
//	global.get g; i64.const 0; i64.lt_s; if unreachable end
func charge(b []byte, g uint32, cost int64) []byte {
	b = append(b, opGlobalGet)
	b = appendU32(b, g)
	b = append(b, opI64Const)
	b = appendS64(b, cost)
	b = append(b, opI64Sub, opGlobalSet)
	b = appendU32(b, g)
	b = append(b, opGlobalGet)
	b = appendU32(b, g)
	b = append(b, opI64Const, 0, opI64LtS, opIf, blockEmpty, opUnreachable, opEnd)
	return b
}

// scan decodes one function body and returns its charge points: the end of
// the local declarations, then the end of every loop instruction, each with
// the number of instructions it covers.
func scan(fn []byte, regions []region, stack []int) ([]region, []int, error) {
	r := reader{b: fn}
	groups := r.u32()
	var locals uint64
	for g := uint32(0); g < groups && r.err == nil; g++ {
		locals += uint64(r.u32())
		r.byte()
		if locals > 50000 {
			return regions, stack, errors.New("too many locals")
		}
	}
	if r.err != nil {
		return regions, stack, r.err
	}
	regions = append(regions, region{at: r.pos})
	// stack holds, per open block, the region it charges to (loops start a
	// new region; other blocks inherit their parent's).
	stack = append(stack, 0)
	for {
		if r.pos >= len(fn) {
			return regions, stack, errors.New("body ends before its final end")
		}
		cur := stack[len(stack)-1]
		regions[cur].cost++
		op, err := r.instr()
		if err != nil {
			return regions, stack, err
		}
		switch op {
		case opBlock, opIf:
			stack = append(stack, cur)
		case opLoop:
			regions = append(regions, region{at: r.pos})
			stack = append(stack, len(regions)-1)
		case opEnd:
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				if r.pos != len(fn) {
					return regions, stack, fmt.Errorf("offset %d: code after the function's final end", r.pos)
				}
				for i := range regions {
					if regions[i].cost < 1 {
						regions[i].cost = 1
					}
				}
				return regions, stack, nil
			}
		}
	}
}
