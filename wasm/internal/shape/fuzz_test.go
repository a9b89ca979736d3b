package shape

import (
	"errors"
	"reflect"
	"testing"
)

// FuzzCheck checks that Check never panics, returns nil, an *Error or a
// malformed-module error, agrees with Measure, and that a module it accepts
// has a shape within the limits.
func FuzzCheck(f *testing.F) {
	f.Add(module(funcs(nested(3, 0x02), nested(2, 0x03))))
	f.Add(module(sec(2, vec(2, []byte{1, 'e', 1, 't', 1, 0x70, 0, 1})), sec(4, vec(1, []byte{0x70, 1, 1, 2}))))
	f.Add(module(sec(9, vec(2, []byte{5, 0x70, 1, 0xd0, 0x70, 0x0b})), sec(12, leb(1)), sec(11, vec(1, []byte{0, 0x41, 0, 0x0b, 1, 'x'}))))
	f.Add(module(funcs([]byte{1, 3, 0x7f, 0x41, 0, 0x0e, 2, 0, 0, 0, 0x0b}), sec(0, []byte{1, 'n', 0})))
	small := Limits{Types: 2, Imports: 2, Functions: 2, Tables: 1, TableElements: 2, Globals: 2, Exports: 2,
		LocalsPerFunction: 2, Locals: 3, Nesting: 2, BrTableTargets: 2, BlocksPerFunction: 3, Blocks: 4,
		FunctionBodyBytes: 16, DataSegments: 1,
		DataBytes: 2, ElemSegments: 1, ElemEntries: 2, CustomSections: 1, CustomBytes: 8}
	f.Fuzz(func(t *testing.T, bin []byte) {
		s, merr := Measure(bin)
		for _, lim := range []Limits{DefaultLimits(), small} {
			err := Check(bin, lim)
			var e *Error
			switch {
			case err == nil:
				if merr != nil {
					t.Fatalf("Check accepts what Measure refuses: %v", merr)
				}
				lv, sv := reflect.ValueOf(lim.withDefaults()), reflect.ValueOf(s)
				for i := range lv.NumField() {
					if sv.Field(i).Uint() > lv.Field(i).Uint() {
						t.Fatalf("accepted with %s = %d past %d", lv.Type().Field(i).Name, sv.Field(i).Uint(), lv.Field(i).Uint())
					}
				}
			case errors.As(err, &e):
				if e.Value <= e.Max || e.Offset < 8 || e.Offset > len(bin) {
					t.Fatalf("implausible error %+v", *e)
				}
			case errors.Is(err, ErrMalformed):
				if merr == nil {
					t.Fatalf("Check finds %v, Measure accepts", err)
				}
			default:
				t.Fatalf("error of no kind: %v", err)
			}
		}
	})
}
