package optimize

import "github.com/wringcap/wring/spec"

// vid numbers a value: two registers holding the same vid hold the same
// number on that run, whatever path led there. Packet loads are pure
// functions of the packet, so equal loads get equal numbers.
type vid int32

// vkind is the kind of computation a value number stands for.
type vkind uint8

const (
	vConst vkind = iota // k
	vLen                // the wire length
	vAbs                // packet load: op = size, k = offset
	vInd                // packet load: op = size, a = X, k = offset
	vMsh                // 4*(P[k]&0xf)
	vALU                // op = ALU operation, a op b (b unused for neg)
	vPhi                // a value only known to be fixed: k = serial
)

// vkey identifies a value by how it is computed.
type vkey struct {
	kind vkind
	op   uint16
	a, b vid
	k    uint32
}

// numbering hash-conses values: an open-addressing table of value numbers
// (cheaper than a map for these small keys).
type numbering struct {
	table []vid // 0: empty, else value number + 1; len is a power of two
	used  int
	keys  []vkey
}

func newNumbering() *numbering {
	return &numbering{table: make([]vid, 256), keys: make([]vkey, 0, 128)}
}

// reset forgets every value, keeping the memory.
func (n *numbering) reset() {
	if len(n.table) == 0 || len(n.table) > 1<<14 {
		n.table = make([]vid, 256)
	} else {
		clear(n.table)
	}
	n.keys = n.keys[:0]
	n.used = 0
}

func (k *vkey) hash() uint64 {
	h := uint64(k.kind)<<48 ^ uint64(k.op)<<32 ^ uint64(k.k)
	h ^= uint64(uint32(k.a))*0x9e3779b97f4a7c15 ^ uint64(uint32(k.b))*0xc2b2ae3d27d4eb4f
	h ^= h >> 29
	h *= 0xbf58476d1ce4e5b9
	return h ^ h>>32
}

func (n *numbering) get(k vkey) vid {
	mask := uint64(len(n.table) - 1)
	for i := k.hash() & mask; ; i = (i + 1) & mask {
		e := n.table[i]
		if e == 0 {
			v := vid(len(n.keys))
			n.keys = append(n.keys, k)
			n.table[i] = v + 1
			n.used++
			if 2*n.used > len(n.table) {
				n.grow()
			}
			return v
		}
		if n.keys[e-1] == k {
			return e - 1
		}
	}
}

// grow doubles the table and re-inserts the hashed values (fresh values
// are not in it).
func (n *numbering) grow() {
	old := n.table
	n.table = make([]vid, 2*len(old))
	mask := uint64(len(n.table) - 1)
	for _, e := range old {
		if e == 0 {
			continue
		}
		k := &n.keys[e-1]
		i := k.hash() & mask
		for n.table[i] != 0 {
			i = (i + 1) & mask
		}
		n.table[i] = e
	}
}

// fresh returns a value number equal to no other. It needs no entry in
// the hash table: nothing can look it up.
func (n *numbering) fresh() vid {
	v := vid(len(n.keys))
	n.keys = append(n.keys, vkey{kind: vPhi, k: uint32(v)})
	return v
}

func (n *numbering) cnst(c uint32) vid { return n.get(vkey{kind: vConst, k: c}) }

// constOf reports whether v is a constant, and which.
func (n *numbering) constOf(v vid) (uint32, bool) {
	k := n.keys[v]
	return k.k, k.kind == vConst
}

// kind returns how v was computed (vPhi for a value only known to be
// fixed).
func (n *numbering) kind(v vid) vkind { return n.keys[v].kind }

func commutative(op uint16) bool {
	switch op {
	case spec.ALUAdd, spec.ALUMul, spec.ALUAnd, spec.ALUOr, spec.ALUXor:
		return true
	}
	return false
}

// evalALU computes a op b as the VM does. ok is false for a division or
// modulo by zero, which ends the run with 0.
func evalALU(op uint16, a, b uint32) (r uint32, ok bool) {
	switch op {
	case spec.ALUAdd:
		return a + b, true
	case spec.ALUSub:
		return a - b, true
	case spec.ALUMul:
		return a * b, true
	case spec.ALUDiv:
		if b == 0 {
			return 0, false
		}
		return a / b, true
	case spec.ALUMod:
		if b == 0 {
			return 0, false
		}
		return a % b, true
	case spec.ALUOr:
		return a | b, true
	case spec.ALUAnd:
		return a & b, true
	case spec.ALUXor:
		return a ^ b, true
	case spec.ALULsh:
		if b >= 32 {
			return 0, true
		}
		return a << b, true
	case spec.ALURsh:
		if b >= 32 {
			return 0, true
		}
		return a >> b, true
	case spec.ALUNeg:
		return -a, true
	}
	return 0, false
}

// alu numbers a op b, folding constants and identities. fails is true when
// the operation always ends the run (division by a zero constant).
func (n *numbering) alu(op uint16, a, b vid) (v vid, fails bool) {
	if op == spec.ALUNeg {
		if c, ok := n.constOf(a); ok {
			return n.cnst(-c), false
		}
		return n.get(vkey{kind: vALU, op: op, a: a, b: -1}), false
	}
	ca, aok := n.constOf(a)
	cb, bok := n.constOf(b)
	if aok && bok {
		r, ok := evalALU(op, ca, cb)
		if !ok {
			return 0, true
		}
		return n.cnst(r), false
	}
	if commutative(op) && (aok || (!bok && a > b)) {
		a, b, ca, cb, aok, bok = b, a, cb, ca, bok, aok
	}
	if bok {
		switch op {
		case spec.ALUAdd, spec.ALUSub, spec.ALUOr, spec.ALUXor, spec.ALULsh, spec.ALURsh:
			if cb == 0 {
				return a, false
			}
		case spec.ALUMul, spec.ALUDiv:
			if cb == 1 {
				return a, false
			}
		case spec.ALUAnd:
			if cb == 0xffffffff {
				return a, false
			}
		}
		switch op {
		case spec.ALUMul, spec.ALUAnd:
			if cb == 0 {
				return n.cnst(0), false
			}
		case spec.ALUOr:
			if cb == 0xffffffff {
				return n.cnst(cb), false
			}
		case spec.ALULsh, spec.ALURsh:
			if cb >= 32 {
				return n.cnst(0), false
			}
		case spec.ALUMod:
			if cb == 1 {
				return n.cnst(0), false
			}
		case spec.ALUDiv:
			if cb == 0 {
				return 0, true
			}
		}
		if op == spec.ALUMod && cb == 0 {
			return 0, true
		}
		// (x + c1) + c2 = x + (c1 + c2); likewise for and, or, xor.
		if ka := n.keys[a]; ka.kind == vALU && ka.op == op {
			if c1, ok := n.constOf(ka.b); ok {
				switch op {
				case spec.ALUAdd, spec.ALUMul, spec.ALUXor, spec.ALUAnd, spec.ALUOr:
					r, _ := evalALU(op, c1, cb)
					return n.alu(op, ka.a, n.cnst(r))
				}
			}
		}
	}
	if aok && ca == 0 {
		switch op {
		case spec.ALULsh, spec.ALURsh:
			return a, false
		}
	}
	if a == b {
		switch op {
		case spec.ALUSub, spec.ALUXor:
			return n.cnst(0), false
		case spec.ALUAnd, spec.ALUOr:
			return a, false
		}
	}
	return n.get(vkey{kind: vALU, op: op, a: a, b: b}), false
}
