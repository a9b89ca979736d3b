package optimize

import (
	"math/bits"

	"github.com/wringcap/wring/spec"
)

// rng is what the jumps taken so far say about one value: it lies in
// [lo, hi], has the bits of one set and the bits of zero clear, differs
// from every element of ne and, when nin > 0, is one of the elements of in.
type rng struct {
	lo, hi    uint32
	one, zero uint32
	ne        [maxNe]uint32 // the first nne entries
	nne       uint8
	in        [maxIn]uint32 // the first nin entries
	nin       uint8
}

// maxIn bounds the set of possible values remembered per value.
const maxIn = 4

// set returns the values r allows, when they are few enough to list; buf
// holds a single value.
func (r *rng) set(buf *[1]uint32) ([]uint32, bool) {
	if r.nin > 0 {
		return r.in[:r.nin], true
	}
	if r.lo == r.hi {
		buf[0] = r.lo
		return buf[:], true
	}
	return nil, false
}

// excluded returns the values r is known to differ from.
func (r *rng) excluded() []uint32 { return r.ne[:r.nne] }

var anyValue = rng{lo: 0, hi: 0xffffffff}

// maxNe bounds the excluded values remembered per value.
const maxNe = 6

// fact is what is known about one value.
type fact struct {
	v vid
	r rng
}

// facts lists what is known about values, at most one entry per value. A
// facts slice is never modified after it is shared: with copies it.
type facts []fact

// get returns what is known about v.
func (f facts) get(v vid) (rng, bool) {
	for _, x := range f {
		if x.v == v {
			return x.r, true
		}
	}
	return rng{}, false
}

// normalize tightens r and reports whether it can still hold a value.
func (r *rng) normalize() bool {
	if r.one&r.zero != 0 {
		return false
	}
	if r.nin > 0 {
		var keep [maxIn]uint32
		n := uint8(0)
	members:
		for _, x := range r.in[:r.nin] {
			if x < r.lo || x > r.hi || x&r.zero != 0 || x&r.one != r.one {
				continue
			}
			for _, y := range r.excluded() {
				if x == y {
					continue members
				}
			}
			keep[n] = x
			n++
		}
		if n == 0 {
			return false
		}
		r.in, r.nin = keep, n
		r.lo, r.hi = keep[0], keep[0]
		for _, x := range keep[:n] {
			r.lo, r.hi = min(r.lo, x), max(r.hi, x)
		}
	}
	if hi := ^r.zero; r.hi > hi {
		r.hi = hi
	}
	if r.lo < r.one {
		r.lo = r.one
	}
	for changed := true; changed; {
		changed = false
		for _, x := range r.excluded() {
			if x == r.lo && r.lo < r.hi {
				r.lo++
				changed = true
			}
			if x == r.hi && r.lo < r.hi {
				r.hi--
				changed = true
			}
		}
	}
	if r.lo > r.hi {
		return false
	}
	if r.lo == r.hi {
		for _, x := range r.excluded() {
			if x == r.lo {
				return false
			}
		}
		if r.lo&r.zero != 0 || r.lo&r.one != r.one {
			return false
		}
	}
	return true
}

// assume returns r narrowed by the outcome of `j #k` (op is the jump
// operation), and false when that outcome is impossible.
func (r rng) assume(op uint16, k uint32, taken bool) (rng, bool) {
	switch op {
	case spec.JumpJEQ:
		if taken {
			if k < r.lo || k > r.hi {
				return r, false
			}
			r.lo, r.hi = k, k
		} else if r.nne < maxNe {
			r.ne[r.nne] = k
			r.nne++
		}
	case spec.JumpJGT:
		if taken {
			if k == 0xffffffff {
				return r, false
			}
			r.lo = max(r.lo, k+1)
		} else {
			r.hi = min(r.hi, k)
		}
	case spec.JumpJGE:
		if taken {
			r.lo = max(r.lo, k)
		} else {
			if k == 0 {
				return r, false
			}
			r.hi = min(r.hi, k-1)
		}
	case spec.JumpJSET:
		if taken {
			if k == 0 {
				return r, false
			}
			if bits.OnesCount32(k) == 1 {
				r.one |= k
			}
			r.lo = max(r.lo, k&-k)
		} else {
			r.zero |= k
		}
	}
	if r.nin > 0 {
		n := uint8(0)
		for _, x := range r.in[:r.nin] {
			if jumpTaken(op, x, k) == taken {
				r.in[n] = x
				n++
			}
		}
		if n == 0 {
			return r, false
		}
		r.nin = n
	}
	ok := r.normalize()
	return r, ok
}

// decide returns the outcome of `j #k` on a value known to satisfy r, if
// the facts fix it.
func (r rng) decide(op uint16, k uint32) (taken, known bool) {
	if r.lo == r.hi {
		return jumpTaken(op, r.lo, k), true
	}
	if r.nin > 0 {
		t := jumpTaken(op, r.in[0], k)
		all := true
		for _, x := range r.in[1:r.nin] {
			if jumpTaken(op, x, k) != t {
				all = false
				break
			}
		}
		if all {
			return t, true
		}
	}
	switch op {
	case spec.JumpJEQ:
		if k < r.lo || k > r.hi || k&r.zero != 0 || r.one&^k != 0 {
			return false, true
		}
		for _, x := range r.excluded() {
			if x == k {
				return false, true
			}
		}
	case spec.JumpJGT:
		if r.lo > k {
			return true, true
		}
		if r.hi <= k {
			return false, true
		}
	case spec.JumpJGE:
		if r.lo >= k {
			return true, true
		}
		if r.hi < k {
			return false, true
		}
	case spec.JumpJSET:
		if k&r.one != 0 {
			return true, true
		}
		if k&^r.zero == 0 || r.hi < k&-k {
			return false, true
		}
	}
	return false, false
}

// jumpTaken evaluates a conditional jump on known operands.
func jumpTaken(op uint16, a, k uint32) bool {
	switch op {
	case spec.JumpJEQ:
		return a == k
	case spec.JumpJGT:
		return a > k
	case spec.JumpJGE:
		return a >= k
	case spec.JumpJSET:
		return a&k != 0
	}
	return false
}

// meet returns what holds of a value known to satisfy either a or b.
func (a rng) meet(b rng) rng {
	r := rng{lo: min(a.lo, b.lo), hi: max(a.hi, b.hi), one: a.one & b.one, zero: a.zero & b.zero}
	var ba, bb [1]uint32
	if sa, ok := a.set(&ba); ok {
		if sb, ok := b.set(&bb); ok {
			var u [2 * maxIn]uint32
			n := copy(u[:], sa)
		union:
			for _, y := range sb {
				for _, x := range u[:n] {
					if x == y {
						continue union
					}
				}
				u[n] = y
				n++
			}
			if n <= maxIn {
				r.nin = uint8(copy(r.in[:], u[:n]))
			}
		}
	}
	for _, x := range a.excluded() {
		for _, y := range b.excluded() {
			if x == y {
				r.ne[r.nne] = x
				r.nne++
				break
			}
		}
	}
	return r
}
