package shape

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// hostile are modules whose shape would cost the host far more than their
// size, each with the limit that must refuse it ("" for a refusal as
// malformed: a declared length the bytes cannot hold).
var hostile = []struct {
	name  string
	limit string
	bin   func() []byte
}{
	{"1,000 tables of 10M entries", "Tables", func() []byte {
		return module(sec(4, vec(1000, cat([]byte{0x70, 0}, leb(10_000_000)))))
	}},
	{"100k tables", "Tables", func() []byte {
		return module(sec(4, vec(100_000, []byte{0x70, 0, 1})))
	}},
	{"2 tables of 10M entries", "TableElements", func() []byte {
		return module(sec(4, vec(2, cat([]byte{0x70, 0}, leb(10_000_000)))))
	}},
	{"table of 2^32-1 entries with a maximum", "TableElements", func() []byte {
		return module(sec(4, vec(1, cat([]byte{0x70, 1}, leb(1<<32-1), leb(1<<32-1)))))
	}},
	{"1,000 imported tables of 10M entries", "TableElements", func() []byte {
		return module(sec(2, vec(1000, cat([]byte{1, 'e', 1, 't', 1, 0x70, 0}, leb(10_000_000)))))
	}},
	{"1,000 imported tables of one entry", "Tables", func() []byte {
		return module(sec(2, vec(1000, []byte{1, 'e', 1, 't', 1, 0x70, 0, 1})))
	}},
	{"imported and defined tables counted together", "Tables", func() []byte {
		return module(sec(2, vec(10, []byte{1, 'e', 1, 't', 1, 0x70, 0, 1})), sec(4, vec(7, []byte{0x70, 0, 1})))
	}},
	{"one imported table of 10M entries", "TableElements", func() []byte {
		return module(sec(2, vec(1, cat([]byte{1, 'e', 1, 't', 1, 0x70, 0}, leb(10_000_000)))))
	}},
	{"imported and defined tables summed", "TableElements", func() []byte {
		return module(sec(2, vec(1, cat([]byte{1, 'e', 1, 't', 1, 0x70, 0}, leb(600_000)))),
			sec(4, vec(1, cat([]byte{0x70, 0}, leb(600_000)))))
	}},
	{"element segment of 2M entries", "ElemEntries", func() []byte {
		return module(sec(9, vec(1, cat([]byte{0, 0x41, 0, 0x0b}, vec(2_000_000, []byte{0})))))
	}},
	{"expression element segment of 2M entries", "ElemEntries", func() []byte {
		return module(sec(9, vec(1, cat([]byte{5, 0x70}, vec(2_000_000, []byte{0xd0, 0x70, 0x0b})))))
	}},
	{"element segments summed", "ElemEntries", func() []byte {
		return module(sec(9, vec(3, cat([]byte{1, 0}, vec(400_000, []byte{0})))))
	}},
	{"20k element segments", "ElemSegments", func() []byte {
		return module(sec(9, vec(20_000, []byte{1, 0, 0})))
	}},
	{"element segment declaring 2^32-1 entries", "", func() []byte {
		return module(sec(9, cat(leb(1), []byte{0, 0x41, 0, 0x0b}, leb(1<<32-1), []byte{0, 0, 0})))
	}},
	{"1M nested blocks", "FunctionBodyBytes", func() []byte { return module(funcs(nested(1_000_000, 0x02))) }},
	{"1M nested blocks, body size unlimited", "Nesting", func() []byte { return module(funcs(nested(1_000_000, 0x02))) }},
	{"1M nested loops, body size unlimited", "Nesting", func() []byte { return module(funcs(nested(1_000_000, 0x03))) }},
	{"300k nested blocks", "Nesting", func() []byte { return module(funcs(nested(300_000, 0x02))) }},
	{"1M nested ifs, body size unlimited", "Nesting", func() []byte {
		return module(funcs(cat([]byte{0}, bytes.Repeat([]byte{0x41, 1, 0x04, 0x40}, 1_000_000), bytes.Repeat([]byte{0x0b}, 1_000_001))))
	}},
	{"br_table of 1M targets", "BrTableTargets", func() []byte {
		return module(funcs(cat([]byte{0, 0x02, 0x40, 0x41, 0, 0x0e}, vec(1_000_000, []byte{0}), []byte{0, 0x0b, 0x0b})))
	}},
	{"deep br_table: 1,400 blocks, 200k targets naming the outermost", "BrTableTargets", func() []byte {
		table := cat([]byte{0x41, 0, 0x0e}, vec(200_000, leb(1399)), leb(1399))
		deep := cat(bytes.Repeat([]byte{0x02, 0x40}, 1400), table, bytes.Repeat([]byte{0x0b}, 1400))
		return module(funcs(cat([]byte{0}, deep, []byte{0x0b})))
	}},
	{"br_table declaring 2^32-1 targets", "", func() []byte {
		return module(funcs(cat([]byte{0, 0x41, 0, 0x0e}, leb(1<<32-1), []byte{0, 0x0b})))
	}},
	{"function of 3,000 memory.fill (each a loop in wazero's compiler)", "BlocksPerFunction", func() []byte {
		fill := []byte{0x41, 0, 0x41, 0, 0x41, 64, 0xfc, 11, 0}
		return module(funcs(cat([]byte{0}, bytes.Repeat(fill, 3000), []byte{0x0b})))
	}},
	{"memory.fill with a padded sub-opcode", "BlocksPerFunction", func() []byte {
		fill := []byte{0x41, 0, 0x41, 0, 0x41, 64, 0xfc, 0x8b, 0x80, 0x00, 0}
		return module(funcs(cat([]byte{0}, bytes.Repeat(fill, 3000), []byte{0x0b})))
	}},
	{"function of 3,000 br_if", "BlocksPerFunction", func() []byte {
		return module(funcs(cat([]byte{0}, bytes.Repeat([]byte{0x41, 0, 0x0d, 0}, 3000), []byte{0x0b})))
	}},
	{"300 functions of 1,000 if/else", "Blocks", func() []byte {
		body := cat([]byte{0}, bytes.Repeat([]byte{0x41, 0, 0x04, 0x40, 0x05, 0x0b}, 500), []byte{0x0b})
		bodies := make([][]byte, 300)
		for i := range bodies {
			bodies[i] = body
		}
		return module(funcs(bodies...))
	}},
	{"function body of 2 MiB", "FunctionBodyBytes", func() []byte {
		return module(funcs(cat([]byte{0}, bytes.Repeat([]byte{0x01}, 2<<20), []byte{0x0b})))
	}},
	{"2^32-1 locals", "LocalsPerFunction", func() []byte {
		return module(funcs(cat(leb(1), leb(1<<32-1), []byte{0x7e, 0x0b})))
	}},
	{"1,000 groups of 1,000 locals", "LocalsPerFunction", func() []byte {
		return module(funcs(cat(vec(1000, cat(leb(1000), []byte{0x7f})), []byte{0x0b})))
	}},
	{"60 functions of 40k locals", "Locals", func() []byte {
		body := cat(leb(1), leb(40_000), []byte{0x7f, 0x0b})
		bodies := make([][]byte, 60)
		for i := range bodies {
			bodies[i] = body
		}
		return module(funcs(bodies...))
	}},
	{"100k globals", "Globals", func() []byte {
		return module(sec(6, vec(100_000, []byte{0x7f, 0, 0x41, 0, 0x0b})))
	}},
	{"imported and defined globals counted together", "Globals", func() []byte {
		return module(sec(2, vec(9000, []byte{1, 'e', 1, 'g', 3, 0x7f, 0})), sec(6, vec(2000, []byte{0x7f, 0, 0x41, 0, 0x0b})))
	}},
	{"200k functions", "Functions", func() []byte {
		return module(typeSec, sec(3, vec(200_000, []byte{0})))
	}},
	{"2^31 functions in 14 bytes", "", func() []byte {
		return module(sec(3, leb(1<<31)))
	}},
	{"data segment of 9 MiB", "DataBytes", func() []byte {
		return module(sec(11, vec(1, cat([]byte{1}, leb(9<<20), make([]byte, 9<<20)))))
	}},
	{"data segment declaring 4 GiB", "DataBytes", func() []byte {
		return module(sec(11, vec(1, cat([]byte{1}, leb(1<<32-1), []byte{0}))))
	}},
	{"600k data segments", "DataSegments", func() []byte {
		return module(sec(11, vec(600_000, []byte{1, 0})))
	}},
	{"data count of 2^32-1", "DataSegments", func() []byte {
		return module(sec(12, leb(1<<32-1)))
	}},
	{"custom section of 5 MiB", "CustomBytes", func() []byte {
		return module(sec(0, cat([]byte{1, 'x'}, make([]byte, 5<<20))))
	}},
	{"100 custom sections", "CustomSections", func() []byte {
		return module(bytes.Repeat(sec(0, []byte{1, 'x'}), 100))
	}},
	{"20k types", "Types", func() []byte {
		return module(sec(1, vec(20_000, []byte{0x60, 0, 0})))
	}},
	{"20k imports", "Imports", func() []byte {
		return module(typeSec, sec(2, vec(20_000, []byte{1, 'e', 1, 'f', 0, 0})))
	}},
	{"20k exports", "Exports", func() []byte {
		return module(sec(7, vec(20_000, []byte{1, 'f', 0, 0})))
	}},
}

// TestHostileShapes checks that each hostile module is refused by the
// limit it exceeds, with an error naming the limit, the section and the
// offset, without Check allocating more than a few kilobytes. It prints
// the attack, the module size, the time and the bytes allocated.
func TestHostileShapes(t *testing.T) {
	var report strings.Builder
	fmt.Fprintf(&report, "\n%-66s %10s %10s %9s  %s\n", "attack", "bytes", "time", "alloc B", "outcome")
	for _, h := range hostile {
		bin := h.bin()
		var ms0, ms1 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		t0 := time.Now()
		lim := DefaultLimits()
		if strings.HasSuffix(h.name, "body size unlimited") {
			lim.FunctionBodyBytes = 1 << 30
		}
		err := Check(bin, lim)
		d := time.Since(t0)
		runtime.ReadMemStats(&ms1)
		alloc := ms1.TotalAlloc - ms0.TotalAlloc
		fmt.Fprintf(&report, "%-66s %10d %10v %9d  %v\n", h.name, len(bin), d.Round(time.Microsecond), alloc, err)
		if alloc > 64<<10 {
			t.Errorf("%s: Check allocated %d bytes", h.name, alloc)
		}
		if h.limit == "" {
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("%s: err = %v, want ErrMalformed", h.name, err)
			}
			continue
		}
		var e *Error
		if !errors.As(err, &e) || !errors.Is(err, ErrLimit) {
			t.Errorf("%s: err = %v, want an *Error", h.name, err)
			continue
		}
		if e.Limit != h.limit || !strings.Contains(err.Error(), "Limits."+h.limit) {
			t.Errorf("%s: %v names limit %s, want %s", h.name, err, e.Limit, h.limit)
		}
		if e.Value <= e.Max || e.Offset < 8 || e.Offset >= len(bin) || e.Section == "" {
			t.Errorf("%s: implausible error fields %+v", h.name, *e)
		}
	}
	t.Log(report.String())
}

// TestHostileUnderLimit checks the other side of each limit: the same
// shapes at the limit are accepted, so the limits are where they say.
func TestHostileUnderLimit(t *testing.T) {
	l := DefaultLimits()
	for name, bin := range map[string][]byte{
		"16 tables":                     module(sec(4, vec(16, []byte{0x70, 0, 1}))),
		"tables of 2^20 entries summed": module(sec(4, vec(2, cat([]byte{0x70, 0}, leb(1<<19))))),
		"nesting at the limit":          module(funcs(nested(int(l.Nesting), 0x02))),
		"br_table at the limit":         module(funcs(cat([]byte{0, 0x41, 0, 0x0e}, vec(int(l.BrTableTargets)-1, []byte{0}), []byte{0, 0x0b}))),
		"locals at the limit":           module(funcs(cat(leb(1), leb(l.LocalsPerFunction), []byte{0x7e, 0x0b}))),
		"body at the limit":             module(funcs(cat([]byte{0}, bytes.Repeat([]byte{0x01}, int(l.FunctionBodyBytes)-2), []byte{0x0b}))),
		"data at the limit":             module(sec(11, vec(1, cat([]byte{1}, leb(l.DataBytes), make([]byte, l.DataBytes))))),
		"custom sections at the limit":  module(bytes.Repeat(sec(0, []byte{1, 'x'}), int(l.CustomSections))),
	} {
		if err := Check(bin, l); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestErrorNamesFunction checks the function index (imports first) and the
// offset an error reports, and that a zero field takes its default while a
// set one overrides it.
func TestErrorNamesFunction(t *testing.T) {
	imports := sec(2, vec(2, []byte{1, 'e', 1, 'f', 0, 0}))
	code := cat(leb(3), leb(3), []byte{0, 0x01, 0x0b}, leb(3), []byte{0, 0x01, 0x0b})
	deep := nested(11, 0x03)
	code = cat(code, leb(uint64(len(deep))), deep)
	bin := module(typeSec, imports, sec(3, vec(3, []byte{0})), sec(10, code))
	if err := Check(bin, Limits{}); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	if err := Check(bin, Limits{Nesting: 11}); err != nil {
		t.Fatalf("nesting 11 allowed: %v", err)
	}
	err := Check(bin, Limits{Nesting: 10})
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v, want *Error", err)
	}
	// The 11th loop of the third defined function (index 4).
	at := len(bin) - len(deep) + 1 + 2*10
	if e.Func != 4 || e.Section != "code" || e.Offset != at || e.Value != 11 || e.Max != 10 || e.Limit != "Nesting" {
		t.Fatalf("error %+v, want function 4, offset %d", *e, at)
	}
	want := fmt.Sprintf("code section, function 4, offset %d: nesting depth 11 exceeds the limit of 10 (Limits.Nesting)", at)
	if err.Error() != want {
		t.Fatalf("message %q, want %q", err, want)
	}
}

// TestMalformed checks that modules that do not decode are refused as
// malformed, with where.
func TestMalformed(t *testing.T) {
	for name, c := range map[string]struct {
		bin  []byte
		want string
	}{
		"empty":            {nil, "magic"},
		"version 2":        {[]byte("\x00asm\x02\x00\x00\x00"), "version"},
		"section too long": {module([]byte{1, 10, 0}), "section 1 at offset 8"},
		"unknown section":  {module(sec(13, nil)), "unknown section id 13"},
		"out of order":     {module(sec(3, leb(0)), sec(1, leb(0))), "out of order"},
		"trailing bytes":   {module(sec(1, []byte{0, 0})), "trailing bytes"},
		"unknown opcode":   {module(funcs([]byte{0, 0xff, 0x0b})), "code section, function 0, offset 23: unsupported opcode 0xff"},
		"no final end":     {module(funcs([]byte{0, 0x02, 0x40, 0x0b})), "ends before its final end"},
		"code after end":   {module(funcs([]byte{0, 0x0b, 0x01})), "after the function's final end"},
		"body too long":    {module(typeSec, sec(3, vec(1, []byte{0})), sec(10, []byte{1, 9, 0, 0x0b})), "function body of 9 bytes"},
		"bad limits":       {module(sec(4, vec(1, []byte{0x70, 9, 0}))), "limits flags 0x09"},
		"bad import kind":  {module(sec(2, vec(1, []byte{1, 'e', 1, 'f', 7, 0}))), "unknown kind 7"},
		"bad elem flags":   {module(sec(9, vec(1, []byte{9, 0}))), "unknown flags 9"},
		"bad data flags":   {module(sec(11, vec(1, []byte{3, 0}))), "unknown flags 3"},
		"long u32":         {module(sec(3, []byte{0xff, 0xff, 0xff, 0xff, 0x7f})), "overflows 32 bits"},
	} {
		err := Check(c.bin, DefaultLimits())
		if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want ErrMalformed mentioning %q", name, err, c.want)
		}
	}
}
