// Package fuel injects fuel metering into a WebAssembly binary module.
//
// Rewrite adds one mutable i64 global, exports it under a reserved name, and
// charges it at every function entry and every loop header: the charge is the
// number of instructions of that region (the function body, or the loop body)
// that lie outside nested loops, so every iteration and every call costs at
// least one unit and straight-line work is charged by its size. When the
// global drops below zero the function executes `unreachable`, which traps.
// The host sets the global before each call and reads it after a trap to tell
// fuel exhaustion from other traps.
//
// With Options.SegmentAbove, a loop region larger than that is charged per
// segment instead: a segment starts at the loop header and at every point inside
// the region a branch can enter (after the end of a block a branch names,
// after an if's end, at an else), and each charges the instructions up to
// the next segment. Go's wasm code puts every function's body in one such
// loop, entered again for every jump of the Go program; a charge per region
// would bill the whole function for each jump (meter.go). Off by default.
//
// Small innermost loops (no nested loop, no call, at most 96 instructions)
// are first unrolled: their body is copied k = min(8, 192/size) times, so one
// charge at the header pays for k iterations (see unroll.go). The blocks and
// branches the unrolling adds are not charged.
//
// Accounting. Within one entry of a region control only moves forward, so
// each of the region's instructions runs at most once per charge: the fuel
// charged is at least the number of the module's instructions executed, and
// a call given F units runs at most F of them before it traps. It is more
// by what the regions entered did not run: a charge counts its whole region
// (the untaken side of an if, the rest of a body left early), and an
// unrolled loop entered for m iterations is charged ceil(m/k) groups of k,
// at most k-1 iterations it did not run per entry of the loop.
//
// A function whose results fit a one-byte block type has its body wrapped in
// blocks: an inner one with the function's results, which the original
// body's labels and final end now name at the same depths, and around it one
// per charge (up to 64) whose end writes the fuel back and traps. A charge
// that runs out branches to its own trap block, so the compiled code falls
// through on the common path instead of jumping over an inline trap at every
// loop iteration, and the compare and branch stay fused (wazero does not
// fuse them on a branch to a block with several predecessors). Other
// functions get each trap as a self-contained `if` block. Appending a global
// does not shift any existing index, so no branch depth, function index or
// global index of the original code changes. The module's own code cannot
// name the new global: its index is past every global the module declares.
package fuel

import (
	"errors"
	"fmt"

	"github.com/wringcap/wring/wasm/internal/binary"
)

// ErrMalformed is wrapped by every error about a module the rewriter cannot
// decode.
var ErrMalformed = errors.New("malformed module")

// ErrReservedExport is returned when the module already exports a name the
// rewriter reserves for the globals it adds.
var ErrReservedExport = errors.New("module exports a name the rewriter reserves")

const (
	secType     = 1
	secFunction = 3
	secCustom   = 0
	secImport   = 2
	secTable    = 4
	secMemory   = 5
	secGlobal   = 6
	secExport   = 7
	secCode     = 10
	secDataCnt  = 12
	exportGlobl = 0x03
)

// order gives each known section's position in the required order.
var order = map[byte]int{1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 13: 6, 6: 7, 7: 8, 8: 9, 9: 10, 12: 11, 10: 12, 11: 13}

type section struct {
	id   byte
	body []byte
}

// Rewrite returns a metered copy of the module bin. The fuel global starts at
// initial (the budget of the start function and of instantiation) and is
// exported as exportName. Tables are capped at DefaultTableElements.
func Rewrite(bin []byte, exportName string, initial int64) ([]byte, error) {
	return rewrite(bin, exportName, initial, options{})
}

// DefaultTableElements is the cap on the summed size of a module's tables
// that Rewrite applies.
const DefaultTableElements = 1 << 20

// Options are the parameters of a rewrite beyond the fuel global.
type Options struct {
	// TableElements caps the size of the module's tables, summed: each of
	// its T tables may grow to TableElements/T elements, and a table.grow
	// past that returns -1 without growing, as a grow past a table's
	// declared maximum does. Zero means DefaultTableElements.
	TableElements uint64
	// StackExport, when not empty, adds a second mutable i64 global, the
	// call stack budget, exported under this name and starting at
	// StackSlots: every call subtracts the callee's frame estimate before
	// it is made and adds it back when it returns, and a call that would
	// take the budget below zero executes `unreachable` with the global
	// left negative. The host sets it back to StackSlots before each call
	// (a trap leaves it where it was). See stack.go.
	StackExport string
	// StackSlots is the call stack budget in 8-byte slots; zero means
	// DefaultStackSlots.
	StackSlots int64
	// SegmentAbove, when positive, charges a loop body of more
	// instructions than this per segment (at every point a branch enters
	// it) instead of once per iteration (meter.go). Zero: off.
	SegmentAbove int64
	// ReserveExport, when not empty, splits the fuel into slices of Slice
	// units (DefaultSlice when zero): a third mutable i64 global, the
	// reserve, is exported under this name, and the fuel global holds only
	// what is left of the current slice. A charge that runs out does not
	// trap at once: it calls a function the rewrite appends, which traps
	// when the fuel global is negative (the host stopped the call) or the
	// reserve cannot pay the overdraft, and otherwise moves the next slice
	// from the reserve into the fuel global and yields to the host before
	// the call goes on (slice.go). The host sets both globals before each
	// call; their sum is the call's fuel.
	ReserveExport string
	// Slice is the size of a fuel slice in units.
	Slice int64
}

// RewriteWithOptions is Rewrite with the parameters in o.
func RewriteWithOptions(bin []byte, exportName string, initial int64, o Options) ([]byte, error) {
	return rewrite(bin, exportName, initial, options{tableElements: o.TableElements, stackExport: o.StackExport, stackSlots: o.StackSlots,
		segmentAbove: o.SegmentAbove, reserveExport: o.ReserveExport, slice: o.Slice})
}

// options turn parts of the rewrite off, for tests and benchmarks that
// measure what each part costs, and carry Options.
type options struct {
	noUnroll      bool   // do not unroll loops
	noCharge      bool   // keep the fuel local and its syncs, but charge nothing
	tableElements uint64 // Options.TableElements
	stackExport   string // Options.StackExport
	stackSlots    int64  // Options.StackSlots
	segmentAbove  int64  // Options.SegmentAbove
	reserveExport string // Options.ReserveExport
	slice         int64  // Options.Slice
}

func rewrite(bin []byte, exportName string, initial int64, opt options) ([]byte, error) {
	secs, err := split(bin)
	if err != nil {
		return nil, err
	}
	if opt.tableElements == 0 {
		opt.tableElements = DefaultTableElements
	}
	if opt.stackSlots <= 0 {
		opt.stackSlots = DefaultStackSlots
	}
	if opt.stackExport == exportName {
		return nil, fmt.Errorf("%w: the stack global needs a name of its own", ErrReservedExport)
	}
	if opt.reserveExport != "" && (opt.reserveExport == exportName || opt.reserveExport == opt.stackExport) {
		return nil, fmt.Errorf("%w: the reserve global needs a name of its own", ErrReservedExport)
	}
	if opt.slice <= 0 {
		opt.slice = DefaultSlice
	}
	importedGlobals, importedFuncs := uint32(0), uint32(0)
	definedGlobals := uint32(0)
	tables := uint64(0)
	haveGlobal, haveExport, haveMemory := false, false, false
	var typeParams []funcType
	var ft funcTypes
	for _, s := range secs {
		switch s.id {
		case secType:
			if typeParams, err = parseTypes(s.body); err != nil {
				return nil, fmt.Errorf("%w: type section: %w", ErrMalformed, err)
			}
		case secFunction:
			if ft, err = parseFunctions(s.body, typeParams); err != nil {
				return nil, fmt.Errorf("%w: function section: %w", ErrMalformed, err)
			}
		case secImport:
			var it uint32
			var im uint32
			if importedGlobals, it, importedFuncs, im, err = countImports(s.body); err != nil {
				return nil, fmt.Errorf("%w: import section: %w", ErrMalformed, err)
			}
			tables += uint64(it)
			haveMemory = haveMemory || im > 0
		case secMemory:
			haveMemory = true
		case secTable:
			r := binary.At(s.body, 0)
			tables += uint64(r.U32())
			if r.Err != nil {
				return nil, fmt.Errorf("%w: table section: %w", ErrMalformed, r.Err)
			}
		case secGlobal:
			haveGlobal = true
			r := binary.At(s.body, 0)
			definedGlobals = r.U32()
			if r.Err != nil {
				return nil, fmt.Errorf("%w: global section: %w", ErrMalformed, r.Err)
			}
		case secExport:
			haveExport = true
		}
	}
	idx := importedGlobals + definedGlobals
	if idx < importedGlobals || idx >= ^uint32(0)-1 {
		return nil, fmt.Errorf("%w: too many globals", ErrMalformed)
	}
	// The globals the rewrite adds: the fuel, then the stack budget.
	added := []global{{exportName, initial}}
	if opt.stackExport != "" {
		added = append(added, global{opt.stackExport, opt.stackSlots})
	}
	// With slices, a refill function is appended after the defined ones
	// (its index shifts nothing) and its type after the module's types.
	refill := int64(-1)
	var sl slicing
	if opt.reserveExport != "" && len(ft.params) > 0 {
		first := min(initial, opt.slice)
		added[0].initial = first
		added = append(added, global{opt.reserveExport, initial - first})
		refill = int64(importedFuncs) + int64(len(ft.params))
		if refill >= 1<<32-1 || len(typeParams) >= 1<<32-1 {
			return nil, fmt.Errorf("%w: too many functions or types", ErrMalformed)
		}
		sl = slicing{fuel: idx, reserve: idx + uint32(len(added)) - 1, slice: opt.slice,
			typ: uint32(len(typeParams)), yield: haveMemory}
	}

	out := make([]byte, 0, len(bin)+len(bin)/4+64)
	out = append(out, bin[:8]...)
	emit := func(id byte, body []byte) {
		out = append(out, id)
		out = appendU32(out, uint32(len(body)))
		out = append(out, body...)
	}
	for _, s := range secs {
		// New sections go where the order puts them: before the first
		// section that must follow them.
		if !haveGlobal && s.id != secCustom && order[s.id] > order[secGlobal] {
			emit(secGlobal, globalSection(nil, added))
			haveGlobal = true
		}
		if !haveExport && s.id != secCustom && order[s.id] > order[secExport] {
			emit(secExport, exportSection(nil, added, idx))
			haveExport = true
		}
		switch s.id {
		case secGlobal:
			body, err := appendGlobal(s.body, added)
			if err != nil {
				return nil, fmt.Errorf("%w: global section: %w", ErrMalformed, err)
			}
			emit(s.id, body)
		case secExport:
			body, err := appendExport(s.body, added, idx)
			if err != nil {
				return nil, err
			}
			emit(s.id, body)
		case secCode:
			tc := tableCap{tables: uint32(min(tables, 1<<32-1))}
			if tables > 0 {
				tc.each = opt.tableElements / tables
			}
			st := stackCosts{global: idx + 1, imported: importedFuncs, on: opt.stackExport != ""}
			body, err := meterCode(s.body, idx, ft, tc, st, opt, refill)
			if err != nil {
				return nil, fmt.Errorf("%w: code section: %w", ErrMalformed, err)
			}
			if refill >= 0 {
				body = appendVector(body, sl.body())
			}
			emit(s.id, body)
		case secType:
			if refill >= 0 {
				emit(s.id, appendVector(s.body, refillType))
				break
			}
			emit(s.id, s.body)
		case secFunction:
			if refill >= 0 {
				emit(s.id, appendVector(s.body, appendU32(nil, sl.typ)))
				break
			}
			emit(s.id, s.body)
		default:
			emit(s.id, s.body)
		}
	}
	if !haveGlobal {
		emit(secGlobal, globalSection(nil, added))
	}
	if !haveExport {
		emit(secExport, exportSection(nil, added, idx))
	}
	return out, nil
}

// split checks the header and cuts the module into sections, checking their
// order.
func split(bin []byte) ([]section, error) {
	if len(bin) < 8 || string(bin[:4]) != "\x00asm" {
		return nil, fmt.Errorf("%w: missing \\0asm magic", ErrMalformed)
	}
	if bin[4] != 1 || bin[5] != 0 || bin[6] != 0 || bin[7] != 0 {
		return nil, fmt.Errorf("%w: unsupported binary version %d", ErrMalformed, bin[4])
	}
	r := binary.At(bin, 8)
	var secs []section
	last := 0
	for !r.Done() {
		id := r.Byte()
		n := r.U32()
		body := r.Bytes(int(n))
		if r.Err != nil {
			return nil, fmt.Errorf("%w: section %d: %w", ErrMalformed, id, r.Err)
		}
		if id != secCustom {
			o, ok := order[id]
			if !ok {
				return nil, fmt.Errorf("%w: unknown section id %d", ErrMalformed, id)
			}
			if o <= last {
				return nil, fmt.Errorf("%w: section %d out of order", ErrMalformed, id)
			}
			last = o
		}
		secs = append(secs, section{id: id, body: body})
	}
	return secs, nil
}

// countImports returns the number of imported globals, tables and
// functions.
func countImports(b []byte) (globals, tables, funcs, memories uint32, err error) {
	r := binary.At(b, 0)
	n := r.U32()
	for i := uint32(0); i < n && r.Err == nil; i++ {
		r.Name()
		r.Name()
		switch kind := r.Byte(); kind {
		case 0: // function
			r.U32()
			funcs++
		case 1: // table
			r.Byte()
			r.Limits()
			tables++
		case 2: // memory
			r.Limits()
			memories++
		case 3: // global
			r.Byte()
			r.Byte()
			globals++
		default:
			if r.Err == nil {
				r.Fail(fmt.Errorf("import %d: unknown kind %d", i, kind))
			}
		}
	}
	if r.Err == nil && r.Pos != len(r.B) {
		r.Fail(errors.New("trailing bytes"))
	}
	return globals, tables, funcs, memories, r.Err
}

// global is one mutable i64 global the rewrite adds, with its export name
// and initial value.
type global struct {
	name    string
	initial int64
}

// mutI64 is the encoding of `(global (mut i64) (i64.const initial))`.
func mutI64(b []byte, initial int64) []byte {
	b = append(b, 0x7e, 0x01, binary.OpI64Const)
	b = appendS64(b, initial)
	return append(b, binary.OpEnd)
}

func globalSection(b []byte, gs []global) []byte {
	b = appendU32(b, uint32(len(gs)))
	for _, g := range gs {
		b = mutI64(b, g.initial)
	}
	return b
}

func appendGlobal(body []byte, gs []global) ([]byte, error) {
	r := binary.At(body, 0)
	n := r.U32()
	if r.Err != nil {
		return nil, r.Err
	}
	if uint64(n)+uint64(len(gs)) > uint64(^uint32(0)) {
		return nil, errors.New("too many globals")
	}
	out := appendU32(nil, n+uint32(len(gs)))
	out = append(out, body[r.Pos:]...)
	for _, g := range gs {
		out = mutI64(out, g.initial)
	}
	return out, nil
}

func exportSection(b []byte, gs []global, idx uint32) []byte {
	b = appendU32(b, uint32(len(gs)))
	for i, g := range gs {
		b = exportEntry(b, g.name, idx+uint32(i))
	}
	return b
}

func exportEntry(b []byte, name string, idx uint32) []byte {
	b = appendU32(b, uint32(len(name)))
	b = append(b, name...)
	b = append(b, exportGlobl)
	return appendU32(b, idx)
}

func appendExport(body []byte, gs []global, idx uint32) ([]byte, error) {
	r := binary.At(body, 0)
	n := r.U32()
	for i := uint32(0); i < n && r.Err == nil; i++ {
		name := string(r.Name())
		for _, g := range gs {
			if name == g.name {
				return nil, fmt.Errorf("%w: %q", ErrReservedExport, name)
			}
		}
		r.Byte()
		r.U32()
	}
	if r.Err != nil {
		return nil, fmt.Errorf("%w: export section: %w", ErrMalformed, r.Err)
	}
	if uint64(n)+uint64(len(gs)) > uint64(^uint32(0)) {
		return nil, fmt.Errorf("%w: too many exports", ErrMalformed)
	}
	if r.Pos != len(body) {
		return nil, fmt.Errorf("%w: export section: trailing bytes", ErrMalformed)
	}
	hdr := binary.At(body, 0)
	hdr.U32()
	out := appendU32(nil, n+uint32(len(gs)))
	out = append(out, body[hdr.Pos:]...)
	for i, g := range gs {
		out = exportEntry(out, g.name, idx+uint32(i))
	}
	return out, nil
}

// funcType is what the metering needs of a function type.
type funcType struct {
	params uint32
	// body is the block type that can wrap the function's body: the empty
	// type or its single result's value type; 0 when no one-byte block type
	// fits (several results, or a value type of more than one byte).
	body byte
}

// parseTypes returns the parameter count and body block type of each
// function type.
func parseTypes(b []byte) ([]funcType, error) {
	r := binary.At(b, 0)
	n := r.U32()
	var out []funcType
	for i := uint32(0); i < n && r.Err == nil; i++ {
		if form := r.Byte(); form != 0x60 && r.Err == nil {
			return nil, fmt.Errorf("type %d: form 0x%02x is not a function type", i, form)
		}
		params := r.U32()
		r.Bytes(int(params))
		results := r.U32()
		res := r.Bytes(int(results))
		t := funcType{params: params}
		switch {
		case len(res) == 0:
			t.body = binary.BlockEmpty
		case len(res) == 1 && isValType(res[0]):
			t.body = res[0]
		}
		out = append(out, t)
	}
	if r.Err == nil && r.Pos != len(b) {
		r.Fail(errors.New("trailing bytes"))
	}
	return out, r.Err
}

// parseFunctions maps each defined function to its parameter count and
// body block type.
func parseFunctions(b []byte, types []funcType) (funcTypes, error) {
	r := binary.At(b, 0)
	n := r.U32()
	var ft funcTypes
	for i := uint32(0); i < n && r.Err == nil; i++ {
		t := r.U32()
		if r.Err == nil && int(t) >= len(types) {
			return ft, fmt.Errorf("function %d: type %d out of range", i, t)
		}
		if r.Err == nil {
			ft.params = append(ft.params, types[t].params)
			ft.body = append(ft.body, types[t].body)
		}
	}
	if r.Err == nil && r.Pos != len(b) {
		r.Fail(errors.New("trailing bytes"))
	}
	return ft, r.Err
}
