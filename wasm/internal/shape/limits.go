// Package shape checks the shape of a WebAssembly binary module against
// limits before anything is allocated for it: before the fuel rewrite, and
// before wazero decodes, validates, compiles or instantiates it.
//
// wazero sizes its structures from what a module declares: a table section
// of a few bytes declaring 1,000 tables of 10M entries, or a local
// declaration of 2^32-1 locals, costs gigabytes before any code runs, and
// nesting depth, br_table targets and body sizes drive the cost of
// validation and compilation. Check reads the module once, front to back,
// allocates nothing that depends on it, and stops at the first quantity past
// its limit with an *Error that names the limit, the value and where it was
// found (section, function index, byte offset).
//
// A vector whose declared length exceeds the bytes left in its section is
// refused at once as malformed: every element takes at least one byte, so a
// 14-byte module declaring 2^31 functions is refused without counting them.
//
// The limits are the first line; run-time growth is bounded elsewhere: the
// memory by wazero's page limit, tables by the fuel rewrite, which makes
// table.grow fail (return -1) past Limits.TableElements.
package shape

// Limits bound the shape of a module. A zero field takes its value from
// DefaultLimits.
type Limits struct {
	Types     uint64 // entries of the type section
	Imports   uint64 // entries of the import section
	Functions uint64 // functions, imported and defined
	Tables    uint64 // tables, imported and defined
	// TableElements bounds the elements of all tables together: the sum of
	// their declared minimums at load, and their sizes at run time (the
	// fuel rewrite makes table.grow past it return -1).
	TableElements     uint64
	Globals           uint64 // globals, imported and defined
	Exports           uint64 // entries of the export section
	LocalsPerFunction uint64 // locals declared by one function (parameters not counted)
	Locals            uint64 // locals declared by all functions together
	Nesting           uint64 // depth of nested blocks, loops and ifs in a function body
	BrTableTargets    uint64 // labels of one br_table, the default included
	// BlocksPerFunction bounds the instructions of one function that start
	// or split a basic block in wazero's compiler (block, loop, if, else,
	// br_if, br_table, the bulk memory and table operations, which it
	// compiles to loops, and memory.grow, whose fuel charge is an if):
	// its compile time grows faster than linearly with their number.
	BlocksPerFunction uint64
	Blocks            uint64 // the same instructions in all functions together
	FunctionBodyBytes uint64 // bytes of one function body, local declarations included
	DataSegments      uint64 // data segments (and the data count section's value)
	DataBytes         uint64 // bytes of all data segments together
	ElemSegments      uint64 // element segments
	ElemEntries       uint64 // entries of all element segments together
	CustomSections    uint64 // custom sections
	CustomBytes       uint64 // bytes of all custom sections together
}

// DefaultLimits returns the limits the host applies unless told otherwise.
// Each is far above what the bundled analyzers (Go, wasip1) and the C SDK's
// examples use; RATIONALE.md ("Why these module shape limits?") gives the
// measurements, and spec/LIMITS.md lists them.
func DefaultLimits() Limits {
	return Limits{
		Types:             10_000,
		Imports:           10_000,
		Functions:         100_000,
		Tables:            16,
		TableElements:     1 << 20,
		Globals:           10_000,
		Exports:           10_000,
		LocalsPerFunction: 50_000,
		Locals:            2_000_000,
		Nesting:           2_000,
		BrTableTargets:    100_000,
		BlocksPerFunction: 2_900,
		Blocks:            250_000,
		FunctionBodyBytes: 1 << 20,
		DataSegments:      500_000,
		DataBytes:         8 << 20,
		ElemSegments:      10_000,
		ElemEntries:       1 << 20,
		CustomSections:    64,
		CustomBytes:       4 << 20,
	}
}

// withDefaults returns l with every zero field set to its default.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	set := func(v *uint64, def uint64) {
		if *v == 0 {
			*v = def
		}
	}
	set(&l.Types, d.Types)
	set(&l.Imports, d.Imports)
	set(&l.Functions, d.Functions)
	set(&l.Tables, d.Tables)
	set(&l.TableElements, d.TableElements)
	set(&l.Globals, d.Globals)
	set(&l.Exports, d.Exports)
	set(&l.LocalsPerFunction, d.LocalsPerFunction)
	set(&l.Locals, d.Locals)
	set(&l.Nesting, d.Nesting)
	set(&l.BrTableTargets, d.BrTableTargets)
	set(&l.BlocksPerFunction, d.BlocksPerFunction)
	set(&l.Blocks, d.Blocks)
	set(&l.FunctionBodyBytes, d.FunctionBodyBytes)
	set(&l.DataSegments, d.DataSegments)
	set(&l.DataBytes, d.DataBytes)
	set(&l.ElemSegments, d.ElemSegments)
	set(&l.ElemEntries, d.ElemEntries)
	set(&l.CustomSections, d.CustomSections)
	set(&l.CustomBytes, d.CustomBytes)
	return l
}

// Shape holds the quantities Limits bound, as measured on one module: the
// counts and sums, and the largest per-function values.
type Shape Limits
