package passive

import (
	"bytes"
	"testing"

	"github.com/cilium/ebpf/btf"
)

// builtBTF returns raw BTF, as cilium/ebpf marshals it, holding a type of
// every kind in front of an enum and an enum64 with the enumerators
// wanted, one of them twice.
func builtBTF(t testing.TB) []byte {
	t.Helper()
	i32 := &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}
	st := &btf.Struct{Name: "s", Size: 8, Members: []btf.Member{{Name: "a", Type: i32}, {Name: "b", Type: i32, Offset: 32, BitfieldSize: 3}}}
	un := &btf.Union{Name: "u", Size: 4, Members: []btf.Member{{Name: "x", Type: i32}}}
	proto := &btf.FuncProto{Return: i32, Params: []btf.FuncParam{{Name: "p", Type: &btf.Pointer{Target: st}}, {Name: "q", Type: i32}}}
	v := &btf.Var{Name: "v", Type: &btf.Volatile{Type: &btf.Const{Type: &btf.Restrict{Type: &btf.Pointer{Target: i32}}}}, Tags: []string{"tag"}}
	types := []btf.Type{
		i32, st, un, proto,
		&btf.Array{Type: i32, Index: i32, Nelems: 4},
		&btf.Fwd{Name: "f", Kind: btf.FwdStruct},
		&btf.Typedef{Name: "td", Type: un},
		&btf.Func{Name: "fn", Type: proto, Linkage: btf.GlobalFunc},
		v,
		&btf.Datasec{Name: ".data", Size: 8, Vars: []btf.VarSecinfo{{Type: v, Size: 8}}},
		&btf.Float{Name: "double", Size: 8},
		&btf.TypeTag{Type: i32, Value: "user"},
		&btf.Enum{Name: "other", Size: 4, Values: []btf.EnumValue{{Name: "A_BIT", Value: 70}, {Name: "Z", Value: 1}}},
		&btf.Enum{Size: 4, Values: []btf.EnumValue{{Name: "A_BIT", Value: 3}, {Name: "B_BIT", Value: 9}}},
		&btf.Enum{Size: 8, Values: []btf.EnumValue{{Name: "C_BIT", Value: 40}, {Name: "B_BIT", Value: 11}}},
	}
	b, err := btf.NewBuilder(types, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := b.Marshal(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestScanBTFEnums: every kind is stepped over, an enumerator of 64 or
// more is passed by, the first of two with one name is taken, and a
// scan that misses one says how many it found.
func TestScanBTFEnums(t *testing.T) {
	raw := builtBTF(t)
	var a, b, c, d uint32
	n, err := scanBTFEnums(raw, map[string]*uint32{"A_BIT": &a, "B_BIT": &b, "C_BIT": &c})
	if err != nil || n != 3 || a != 3 || b != 9 || c != 40 {
		t.Errorf("scan: %d found (%v): A %d B %d C %d, want 3 found: 3 9 40", n, err, a, b, c)
	}
	// The same through cilium/ebpf's decoder.
	spec, err := btf.LoadSpecFromReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var a2, b2, c2 uint32
	if err := enumBitsFromSpec(spec, map[string]*uint32{"A_BIT": &a2, "B_BIT": &b2, "C_BIT": &c2}); err != nil || a2 != a || b2 != b || c2 != c {
		t.Errorf("cilium/ebpf: %v: A %d B %d C %d", err, a2, b2, c2)
	}
	if n, err := scanBTFEnums(raw, map[string]*uint32{"A_BIT": &a, "D_BIT": &d}); err != nil || n != 1 {
		t.Errorf("scan for a missing name: %d found, %v; want 1, no error", n, err)
	}
	for cut := 0; cut < len(raw); cut += 7 {
		scanBTFEnums(raw[:cut], map[string]*uint32{"C_BIT": &c}) // must not panic
	}
}

// FuzzScanBTFEnums: any bytes give a count or an error, never a panic;
// raw BTF that cilium/ebpf decodes gives the values it finds.
func FuzzScanBTFEnums(f *testing.F) {
	f.Add(builtBTF(f))
	f.Fuzz(func(t *testing.T, raw []byte) {
		var a, b, c uint32
		n, err := scanBTFEnums(raw, map[string]*uint32{"A_BIT": &a, "B_BIT": &b, "C_BIT": &c})
		if err != nil || n != 3 {
			return
		}
		spec, err := btf.LoadSpecFromReader(bytes.NewReader(raw))
		if err != nil {
			return
		}
		var a2, b2, c2 uint32
		if err := enumBitsFromSpec(spec, map[string]*uint32{"A_BIT": &a2, "B_BIT": &b2, "C_BIT": &c2}); err == nil && (a2 != a || b2 != b || c2 != c) {
			t.Fatalf("scan: %d %d %d; cilium/ebpf: %d %d %d", a, b, c, a2, b2, c2)
		}
	})
}
