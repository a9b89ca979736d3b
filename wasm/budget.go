package wasm

import (
	"errors"
	"fmt"
)

// The load memory budget: what loading a module makes the host allocate,
// computed from the module's bytes before anything of its size is
// allocated. It counts what the module declares and the host cannot refuse
// once it compiles and instantiates it:
//   - the linear memory's declared minimum (capped by the memory limit,
//     which wazero enforces; a larger minimum fails to compile),
//   - every table's declared minimum elements, defined or imported, at
//     tableElemBytes each (wazero allocates them at instantiation),
//   - the code, at codeBytesPerByte per byte of module (the rewrite, the
//     compiler's intermediate forms, the native code, garbage not yet
//     collected).
// table.grow and element segments are bounded by the fuel package's module
// shape limits and instrumentation.

const (
	tableElemBytes   = 8  // one reference
	codeBytesPerByte = 32 // measured: see RATIONALE.md, "Why a load memory budget?"
	pageBytes        = 65536
	maxCounted       = 1 << 32 // elements or pages counted per declaration: no overflow
)

var errBudgetParse = errors.New("cannot read the module's sections")

// checkBudget computes the budget of the module bin and refuses it when it
// is over budget bytes. A module it cannot parse passes: the rewriter and
// the compiler refuse it with a better error.
func checkBudget(bin []byte, memoryPages uint32, budget int64) error {
	d, err := demand(bin, memoryPages)
	if err != nil {
		return nil
	}
	if total := d.total(); total > budget {
		return fmt.Errorf("loading it needs about %d bytes (memory %d, tables %d in %d elements, code %d), the budget is %d",
			total, d.memory, d.tables, d.tables/tableElemBytes, d.code, budget)
	}
	return nil
}

type loadDemand struct{ memory, tables, code int64 }

func (d loadDemand) total() int64 { return d.memory + d.tables + d.code }

// demand reads the sections of bin that the budget counts.
func demand(bin []byte, memoryPages uint32) (loadDemand, error) {
	d := loadDemand{code: int64(len(bin)) * codeBytesPerByte}
	if len(bin) < 8 {
		return d, errBudgetParse
	}
	r := budgetReader{b: bin, pos: 8}
	for r.pos < len(r.b) && r.err == nil {
		id := r.byte()
		size := r.u32()
		body := r.bytes(int(size))
		if r.err != nil {
			break
		}
		sr := budgetReader{b: body}
		switch id {
		case 2: // imports: tables and memories
			n := sr.u32()
			for i := uint32(0); i < n && sr.err == nil; i++ {
				sr.bytes(int(sr.u32())) // module
				sr.bytes(int(sr.u32())) // name
				switch sr.byte() {
				case 0x00: // function
					sr.u32()
				case 0x01: // table
					sr.byte()
					lo, _ := sr.limits()
					d.tables += int64(min(lo, maxCounted)) * tableElemBytes
				case 0x02: // memory
					lo, _ := sr.limits()
					d.memory += int64(min(lo, maxCounted)) * pageBytes
				case 0x03: // global
					sr.byte()
					sr.byte()
				case 0x04: // tag
					sr.byte()
					sr.u32()
				default:
					return d, errBudgetParse
				}
			}
		case 4: // tables
			n := sr.u32()
			for i := uint32(0); i < n && sr.err == nil; i++ {
				sr.byte()
				lo, _ := sr.limits()
				d.tables += int64(min(lo, maxCounted)) * tableElemBytes
			}
		case 5: // memories
			n := sr.u32()
			for i := uint32(0); i < n && sr.err == nil; i++ {
				lo, _ := sr.limits()
				d.memory += int64(min(lo, maxCounted)) * pageBytes
			}
		}
		if sr.err != nil {
			return d, sr.err
		}
	}
	d.memory = min(d.memory, int64(memoryPages)*pageBytes)
	return d, r.err
}

// budgetReader decodes the parts of a module the budget needs.
type budgetReader struct {
	b   []byte
	pos int
	err error
}

func (r *budgetReader) byte() byte {
	if r.err != nil || r.pos >= len(r.b) {
		r.err = errBudgetParse
		return 0
	}
	c := r.b[r.pos]
	r.pos++
	return c
}

func (r *budgetReader) u32() uint32 {
	var v uint64
	for shift := 0; shift < 35; shift += 7 {
		c := r.byte()
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			if v > 1<<32-1 {
				r.err = errBudgetParse
			}
			return uint32(v)
		}
	}
	r.err = errBudgetParse
	return 0
}

func (r *budgetReader) u64() uint64 {
	var v uint64
	for shift := 0; shift < 70; shift += 7 {
		c := r.byte()
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return v
		}
	}
	r.err = errBudgetParse
	return 0
}

func (r *budgetReader) bytes(n int) []byte {
	if r.err != nil || n < 0 || n > len(r.b)-r.pos {
		r.err = errBudgetParse
		return nil
	}
	b := r.b[r.pos : r.pos+n]
	r.pos += n
	return b
}

// limits reads a limits structure (flags, minimum, optional maximum; the
// 64-bit forms of memory64 and table64 included).
func (r *budgetReader) limits() (lo, hi uint64) {
	flags := r.byte()
	read := r.u64
	if flags&0x04 == 0 {
		read = func() uint64 { return uint64(r.u32()) }
	}
	lo = read()
	hi = lo
	if flags&0x01 != 0 {
		hi = read()
	}
	if flags > 0x07 {
		r.err = errBudgetParse
	}
	return lo, hi
}
