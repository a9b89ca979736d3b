package shape

import (
	"errors"
	"fmt"
	"math"

	"github.com/wringcap/wring/wasm/internal/binary"
)

// Section ids.
const (
	secCustom    = 0
	secType      = 1
	secImport    = 2
	secFunction  = 3
	secTable     = 4
	secMemory    = 5
	secGlobal    = 6
	secExport    = 7
	secStart     = 8
	secElement   = 9
	secCode      = 10
	secData      = 11
	secDataCount = 12
)

var sectionNames = [...]string{"custom", "type", "import", "function", "table", "memory", "global",
	"export", "start", "element", "code", "data", "data count"}

// order gives each known section's position in the required order.
var order = [...]int{0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 12, 13, 11}

// Check reads the module bin and returns an *Error (wrapping ErrLimit) for
// the first quantity past its limit in lim, an error wrapping ErrMalformed
// when the module does not decode, or nil. Zero fields of lim take their
// defaults. Check reads each byte at most once and allocates nothing that
// depends on the module.
func Check(bin []byte, lim Limits) error {
	c := checker{lim: lim.withDefaults()}
	return c.module(bin)
}

// Measure returns the shape of the module bin, with no limit applied.
func Measure(bin []byte) (Shape, error) {
	c := checker{lim: unlimited()}
	err := c.module(bin)
	return c.s, err
}

func unlimited() Limits {
	m := uint64(math.MaxUint64)
	return Limits{m, m, m, m, m, m, m, m, m, m, m, m, m, m, m, m, m, m, m, m}
}

// checker walks a module, keeping the running counts in s.
type checker struct {
	lim Limits
	s   Shape
	r   binary.Reader
	sec byte
	fn  int64 // function index being read, -1 outside code
	// importedFuncs is the number of imported functions: defined function
	// i has index importedFuncs+i.
	importedFuncs uint64
}

// exceed returns an *Error when v is past max.
func (c *checker) exceed(limit, what string, v, max uint64, at int) error {
	if v <= max {
		return nil
	}
	return &Error{Limit: limit, What: what, Value: v, Max: max, Section: sectionNames[c.sec], Func: c.fn, Offset: at}
}

// malformed wraps ErrMalformed with the section, the function and the
// offset.
func (c *checker) malformed(err error) error {
	where := sectionNames[c.sec] + " section"
	if c.fn >= 0 {
		where += fmt.Sprintf(", function %d", c.fn)
	}
	var oe *binary.OffsetError
	if errors.As(err, &oe) {
		return fmt.Errorf("%w: %s, offset %d: %w", ErrMalformed, where, oe.At, oe.Err)
	}
	return fmt.Errorf("%w: %s: %w", ErrMalformed, where, err)
}

func (c *checker) module(bin []byte) error {
	c.fn = -1
	if len(bin) < 8 || string(bin[:4]) != "\x00asm" {
		return fmt.Errorf("%w: missing \\0asm magic", ErrMalformed)
	}
	if bin[4] != 1 || bin[5] != 0 || bin[6] != 0 || bin[7] != 0 {
		return fmt.Errorf("%w: unsupported binary version %d", ErrMalformed, bin[4])
	}
	c.r = binary.Window(bin, 8, len(bin))
	last := 0
	for c.r.Pos < len(bin) {
		at := c.r.Pos
		id := c.r.Byte()
		n := c.r.U32()
		if c.r.Err != nil {
			return fmt.Errorf("%w: section header at offset %d: %w", ErrMalformed, at, c.r.Err.(*binary.OffsetError).Err)
		}
		if uint64(n) > uint64(len(bin)-c.r.Pos) {
			return fmt.Errorf("%w: section %d at offset %d: %d bytes, %d left in the module", ErrMalformed, id, at, n, len(bin)-c.r.Pos)
		}
		if int(id) >= len(order) {
			return fmt.Errorf("%w: unknown section id %d at offset %d", ErrMalformed, id, at)
		}
		if id != secCustom {
			if order[id] <= last {
				return fmt.Errorf("%w: %s section at offset %d out of order", ErrMalformed, sectionNames[id], at)
			}
			last = order[id]
		}
		c.sec = id
		end := c.r.Pos + int(n)
		c.r.End = end
		if err := c.section(at); err != nil {
			return err
		}
		if c.r.Err != nil {
			return c.malformed(c.r.Err)
		}
		if c.r.Pos != end {
			return c.malformed(&binary.OffsetError{At: c.r.Pos, Err: errors.New("trailing bytes in the section")})
		}
		c.r.End = len(bin)
	}
	return nil
}

func (c *checker) section(at int) error {
	r := &c.r
	l := &c.lim
	switch c.sec {
	case secCustom:
		c.s.CustomSections++
		c.s.CustomBytes += uint64(r.End - r.Pos)
		if err := c.exceed("CustomSections", "custom sections", c.s.CustomSections, l.CustomSections, at); err != nil {
			return err
		}
		if err := c.exceed("CustomBytes", "custom section bytes", c.s.CustomBytes, l.CustomBytes, at); err != nil {
			return err
		}
		r.Name()
		r.Pos = r.End
	case secType:
		n := r.Vec(3)
		c.s.Types = uint64(n)
		if err := c.exceed("Types", "types", c.s.Types, l.Types, at); err != nil {
			return err
		}
		for i := uint32(0); i < n && r.Err == nil; i++ {
			if form := r.Byte(); form != 0x60 && r.Err == nil {
				r.Fail(fmt.Errorf("type %d: form 0x%02x is not a function type", i, form))
			}
			r.Bytes(int(r.Vec(1)))
			r.Bytes(int(r.Vec(1)))
		}
	case secImport:
		n := r.Vec(4)
		c.s.Imports = uint64(n)
		if err := c.exceed("Imports", "imports", c.s.Imports, l.Imports, at); err != nil {
			return err
		}
		for i := uint32(0); i < n && r.Err == nil; i++ {
			r.Name()
			r.Name()
			start := r.Pos
			switch kind := r.Byte(); kind {
			case 0: // function
				r.U32()
				c.s.Functions++
				c.importedFuncs++
				if err := c.exceed("Functions", "functions", c.s.Functions, l.Functions, start); err != nil {
					return err
				}
			case 1: // table
				r.Byte()
				if err := c.table(start); err != nil {
					return err
				}
			case 2: // memory
				r.Limits()
			case 3: // global
				r.Byte()
				r.Byte()
				c.s.Globals++
				if err := c.exceed("Globals", "globals", c.s.Globals, l.Globals, start); err != nil {
					return err
				}
			default:
				r.Fail(fmt.Errorf("import %d: unknown kind %d", i, kind))
			}
		}
	case secFunction:
		n := r.Vec(1)
		c.s.Functions += uint64(n)
		if err := c.exceed("Functions", "functions", c.s.Functions, l.Functions, at); err != nil {
			return err
		}
		for i := uint32(0); i < n && r.Err == nil; i++ {
			r.U32()
		}
	case secTable:
		n := r.Vec(3)
		if err := c.exceed("Tables", "tables", c.s.Tables+uint64(n), l.Tables, at); err != nil {
			return err
		}
		for i := uint32(0); i < n && r.Err == nil; i++ {
			start := r.Pos
			r.Byte()
			if err := c.table(start); err != nil {
				return err
			}
		}
	case secMemory:
		n := r.Vec(2)
		for i := uint32(0); i < n && r.Err == nil; i++ {
			r.Limits()
		}
	case secGlobal:
		n := r.Vec(4)
		c.s.Globals += uint64(n)
		if err := c.exceed("Globals", "globals", c.s.Globals, l.Globals, at); err != nil {
			return err
		}
		for i := uint32(0); i < n && r.Err == nil; i++ {
			r.Byte()
			r.Byte()
			if err := c.constExpr(); err != nil {
				return err
			}
		}
	case secExport:
		n := r.Vec(3)
		c.s.Exports = uint64(n)
		if err := c.exceed("Exports", "exports", c.s.Exports, l.Exports, at); err != nil {
			return err
		}
		for i := uint32(0); i < n && r.Err == nil; i++ {
			r.Name()
			r.Byte()
			r.U32()
		}
	case secStart:
		r.U32()
	case secElement:
		return c.elements(at)
	case secDataCount:
		n := uint64(r.U32())
		if err := c.exceed("DataSegments", "data segments (data count section)", n, l.DataSegments, at); err != nil {
			return err
		}
	case secData:
		n := r.Vec(2)
		c.s.DataSegments = uint64(n)
		if err := c.exceed("DataSegments", "data segments", c.s.DataSegments, l.DataSegments, at); err != nil {
			return err
		}
		for i := uint32(0); i < n && r.Err == nil; i++ {
			start := r.Pos
			switch flags := r.U32(); flags {
			case 0:
				if err := c.constExpr(); err != nil {
					return err
				}
			case 1:
			case 2:
				r.U32()
				if err := c.constExpr(); err != nil {
					return err
				}
			default:
				r.Fail(fmt.Errorf("data segment %d: unknown flags %d", i, flags))
			}
			size := r.U32()
			c.s.DataBytes += uint64(size)
			if err := c.exceed("DataBytes", "data segment bytes", c.s.DataBytes, l.DataBytes, start); err != nil {
				return err
			}
			r.Bytes(int(size))
		}
	case secCode:
		return c.code(at)
	}
	return nil
}

// table reads a table's limits (after its reference type) and counts it.
func (c *checker) table(at int) error {
	min := c.r.Limits()
	c.s.Tables++
	c.s.TableElements += uint64(min)
	if err := c.exceed("Tables", "tables", c.s.Tables, c.lim.Tables, at); err != nil {
		return err
	}
	return c.exceed("TableElements", "table elements (declared minimums, summed)", c.s.TableElements, c.lim.TableElements, at)
}

// elements reads the element section.
func (c *checker) elements(at int) error {
	r := &c.r
	n := r.Vec(2)
	c.s.ElemSegments = uint64(n)
	if err := c.exceed("ElemSegments", "element segments", c.s.ElemSegments, c.lim.ElemSegments, at); err != nil {
		return err
	}
	for i := uint32(0); i < n && r.Err == nil; i++ {
		start := r.Pos
		flags := r.U32()
		if flags > 7 {
			r.Fail(fmt.Errorf("element segment %d: unknown flags %d", i, flags))
			break
		}
		if flags&2 != 0 && flags&1 == 0 { // explicit table index
			r.U32()
		}
		if flags&1 == 0 { // active: offset expression
			if err := c.constExpr(); err != nil {
				return err
			}
		}
		if flags&3 != 0 { // element kind or reference type
			r.Byte()
		}
		m := r.Vec(1)
		c.s.ElemEntries += uint64(m)
		if err := c.exceed("ElemEntries", "element segment entries", c.s.ElemEntries, c.lim.ElemEntries, start); err != nil {
			return err
		}
		for j := uint32(0); j < m && r.Err == nil; j++ {
			if flags&4 == 0 {
				r.U32()
			} else if err := c.constExpr(); err != nil {
				return err
			}
		}
	}
	return nil
}

// splitsBlock reports whether the 0xfc-prefixed instruction with this
// sub-opcode is a bulk memory or table operation (table.grow included).
func splitsBlock(sub uint32) bool {
	switch sub {
	case 8, 10, 11, 12, 14, 15, 17:
		return true
	}
	return false
}

// constExpr reads a constant expression up to its end.
func (c *checker) constExpr() error {
	depth := uint64(0)
	for c.r.Err == nil {
		op, err := c.instr()
		if err != nil {
			return err
		}
		switch op {
		case binary.OpBlock, binary.OpLoop, binary.OpIf:
			depth++
		case binary.OpEnd:
			if depth == 0 {
				return nil
			}
			depth--
		}
	}
	return nil
}

// code reads the code section: each body's size, locals and instructions.
func (c *checker) code(at int) error {
	r := &c.r
	l := &c.lim
	n := r.Vec(2)
	for i := uint32(0); i < n && r.Err == nil; i++ {
		c.fn = int64(c.importedFuncs) + int64(i)
		start := r.Pos
		size := r.U32()
		if err := c.exceed("FunctionBodyBytes", "function body bytes", uint64(size), l.FunctionBodyBytes, start); err != nil {
			return err
		}
		c.s.FunctionBodyBytes = max(c.s.FunctionBodyBytes, uint64(size))
		if r.Err != nil || uint64(size) > uint64(r.End-r.Pos) {
			r.Fail(fmt.Errorf("function body of %d bytes, %d left in the section", size, r.End-r.Pos))
			break
		}
		secEnd := r.End
		r.End = r.Pos + int(size)
		if err := c.body(); err != nil {
			return err
		}
		if r.Err != nil {
			return c.malformed(r.Err)
		}
		r.End = secEnd
	}
	if r.Err == nil {
		c.fn = -1
	}
	return nil
}

// body reads one function body; r.End is its end.
func (c *checker) body() error {
	r := &c.r
	l := &c.lim
	groups := r.Vec(2)
	locals := uint64(0)
	for g := uint32(0); g < groups && r.Err == nil; g++ {
		start := r.Pos
		locals += uint64(r.U32())
		r.Byte()
		if err := c.exceed("LocalsPerFunction", "locals of one function", locals, l.LocalsPerFunction, start); err != nil {
			return err
		}
		if err := c.exceed("Locals", "locals of all functions", c.s.Locals+locals, l.Locals, start); err != nil {
			return err
		}
	}
	c.s.Locals += locals
	c.s.LocalsPerFunction = max(c.s.LocalsPerFunction, locals)
	depth := uint64(1) // the function's own block
	blocks := uint64(0)
	for r.Err == nil {
		if r.Pos >= r.End {
			r.Fail(errors.New("body ends before its final end"))
			return nil
		}
		start := r.Pos
		op, err := c.instr()
		if err != nil {
			return err
		}
		switch op {
		case binary.OpBlock, binary.OpLoop, binary.OpIf, binary.OpElse, binary.OpBrIf, binary.OpBrTable, binary.OpMisc, binary.OpMemoryGrow:
			if op == binary.OpMisc {
				sub := binary.Window(r.B, start+1, r.Pos)
				if !splitsBlock(sub.U32()) {
					break
				}
			}
			blocks++
			if err := c.exceed("BlocksPerFunction", "basic-block instructions of one function", blocks, l.BlocksPerFunction, start); err != nil {
				return err
			}
			if err := c.exceed("Blocks", "basic-block instructions of all functions", c.s.Blocks+blocks, l.Blocks, start); err != nil {
				return err
			}
			c.s.BlocksPerFunction = max(c.s.BlocksPerFunction, blocks)
		}
		switch op {
		case binary.OpBlock, binary.OpLoop, binary.OpIf:
			depth++
			if err := c.exceed("Nesting", "nesting depth", depth-1, l.Nesting, start); err != nil {
				return err
			}
			c.s.Nesting = max(c.s.Nesting, depth-1)
		case binary.OpEnd:
			depth--
			if depth == 0 {
				c.s.Blocks += blocks
				if r.Pos != r.End {
					r.Fail(errors.New("code after the function's final end"))
				}
				return nil
			}
		}
	}
	return nil
}
