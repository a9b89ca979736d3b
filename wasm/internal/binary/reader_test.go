package binary

import (
	"errors"
	"testing"
)

// leb appends v as unsigned LEB128, padded to at least width bytes (a
// valid, non-minimal encoding when width exceeds the minimum).
func leb(b []byte, v uint32, width int) []byte {
	for i := 0; ; i++ {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 || i+1 < width {
			b = append(b, c|0x80)
			continue
		}
		return append(b, c)
	}
}

func TestU32(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		want uint32
		err  string // "" when the read succeeds
	}{
		{"zero", []byte{0}, 0, ""},
		{"one byte", []byte{0x7f}, 127, ""},
		{"two bytes", []byte{0x80, 0x01}, 128, ""},
		{"max", []byte{0xff, 0xff, 0xff, 0xff, 0x0f}, 0xffffffff, ""},
		{"padded zero", []byte{0x80, 0x80, 0x80, 0x80, 0x00}, 0, ""},
		{"overflow", []byte{0xff, 0xff, 0xff, 0xff, 0x7f}, 0, "offset 5: u32 overflows 32 bits"},
		{"six bytes", []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, 0, "offset 5: u32 longer than 5 bytes"},
		{"short", []byte{0x80}, 0, "offset 1: unexpected end"},
		{"empty", nil, 0, "offset 0: unexpected end"},
	} {
		r := At(tc.in, 0)
		got := r.U32()
		switch {
		case tc.err == "" && (r.Err != nil || got != tc.want):
			t.Errorf("%s: %d, %v; want %d", tc.name, got, r.Err, tc.want)
		case tc.err != "" && (r.Err == nil || r.Err.Error() != tc.err):
			t.Errorf("%s: error %v, want %q", tc.name, r.Err, tc.err)
		}
	}
}

func TestVecBoundedByBytes(t *testing.T) {
	r := At([]byte{0x05, 1, 2, 3, 4}, 0)
	if n := r.Vec(1); r.Err == nil {
		t.Fatalf("a vector of 5 one-byte elements in 4 bytes: got %d and no error", n)
	}
	var oe *OffsetError
	if !errors.As(r.Err, &oe) || oe.At != 0 {
		t.Fatalf("error %v, want an *OffsetError at the length's offset 0", r.Err)
	}
	r = At([]byte{0x02, 1, 2}, 0)
	if n := r.Vec(1); r.Err != nil || n != 2 {
		t.Fatalf("a vector of 2 in 2 bytes: %d, %v", n, r.Err)
	}
}

func TestErrorSticks(t *testing.T) {
	r := Window([]byte{1, 2, 3}, 0, 1)
	r.Bytes(2)
	first := r.Err
	if !errors.Is(first, ErrShort) {
		t.Fatalf("reading past the window: %v, want ErrShort", first)
	}
	if r.Byte() != 0 || r.U32() != 0 || r.Bytes(0) != nil || r.Err != first {
		t.Fatal("reads after an error must return zero values and keep the first error")
	}
}

func TestInstr(t *testing.T) {
	for _, tc := range []struct {
		name   string
		in     []byte
		op     byte
		labels uint64
		max    uint64
		next   int // Pos after the instruction, -1 for an error
	}{
		{"nop", []byte{0x01}, 0x01, 0, AnyLabels, 1},
		{"block with a type index", []byte{0x02, 0x80, 0x01}, 0x02, 0, AnyLabels, 3},
		{"i64.const", []byte{0x42, 0xff, 0xff, 0x7f}, 0x42, 0, AnyLabels, 4},
		{"load with memarg", []byte{0x28, 0x02, 0x10}, 0x28, 0, AnyLabels, 3},
		{"multi-memory memarg", []byte{0x28, 0x42, 0x01, 0x10}, 0x28, 0, AnyLabels, 4},
		{"br_table", []byte{0x0e, 0x02, 0x00, 0x01, 0x02}, 0x0e, 3, AnyLabels, 5},
		{"br_table past the bound", []byte{0x0e, 0x02, 0x00, 0x01, 0x02}, 0x0e, 3, 2, 2},
		{"br_table longer than its bytes", []byte{0x0e, 0x09, 0x00}, 0x0e, 1, AnyLabels, -1},
		{"memory.copy", []byte{0xfc, 10, 0, 0}, 0xfc, 0, AnyLabels, 4},
		{"v128.const", append([]byte{0xfd, 12}, make([]byte, 16)...), 0xfd, 0, AnyLabels, 18},
		{"unknown", []byte{0xff}, 0xff, 0, AnyLabels, -1},
		{"unknown 0xfc", []byte{0xfc, 99}, 0xfc, 0, AnyLabels, -1},
		{"cut f64.const", []byte{0x44, 0, 0}, 0x44, 0, AnyLabels, -1},
	} {
		r := At(tc.in, 0)
		op, labels := r.Instr(tc.max)
		if op != tc.op || labels != tc.labels {
			t.Errorf("%s: op %#x labels %d, want %#x %d", tc.name, op, labels, tc.op, tc.labels)
		}
		switch {
		case tc.next < 0 && r.Err == nil:
			t.Errorf("%s: no error", tc.name)
		case tc.next >= 0 && (r.Err != nil || r.Pos != tc.next):
			t.Errorf("%s: pos %d, error %v; want pos %d", tc.name, r.Pos, r.Err, tc.next)
		}
	}
}

// FuzzReader decodes arbitrary bytes as a code body: instructions until
// the window ends or an error. It must never panic or read outside the
// window, every instruction must move forward, and every error must be an
// *OffsetError inside the window.
func FuzzReader(f *testing.F) {
	f.Add([]byte{0x02, 0x40, 0x41, 0x01, 0x0d, 0x00, 0x0b, 0x0b}, uint16(100))
	f.Add([]byte{0x0e, 0x03, 0x00, 0x01, 0x02, 0x00}, uint16(2))
	f.Add([]byte{0xfd, 0x54, 0x02, 0x10, 0x01, 0xfc, 0x0a, 0x00, 0x00}, uint16(1))
	f.Add([]byte{0x28, 0xc2, 0x80, 0x80, 0x80, 0x00, 0x01, 0x10, 0x44, 0, 0, 0, 0, 0, 0, 0, 0}, uint16(0))
	f.Add(leb([]byte{0x20}, 0xffffffff, 5), uint16(7))
	f.Fuzz(func(t *testing.T, b []byte, maxLabels uint16) {
		end := len(b) - len(b)/8 // a window shorter than the bytes
		r := Window(b, 0, end)
		for !r.Done() {
			start := r.Pos
			_, labels := r.Instr(uint64(maxLabels))
			if r.Pos > end || r.Pos < start {
				t.Fatalf("pos %d outside [%d, %d]", r.Pos, start, end)
			}
			if r.Err == nil && r.Pos == start && labels <= uint64(maxLabels) {
				t.Fatalf("an instruction at %d that reads nothing", start)
			}
			if labels > uint64(maxLabels) {
				break // the caller reports it
			}
		}
		if r.Err != nil {
			var oe *OffsetError
			if !errors.As(r.Err, &oe) || oe.At < 0 || oe.At > end {
				t.Fatalf("error %v is not an *OffsetError inside [0, %d]", r.Err, end)
			}
		}
	})
}

// FuzzU32 checks U32 against the encoder for every value and width the
// format allows (1 to 5 bytes).
func FuzzU32(f *testing.F) {
	f.Add(uint32(0), uint8(1))
	f.Add(uint32(0xffffffff), uint8(5))
	f.Add(uint32(624485), uint8(4))
	f.Fuzz(func(t *testing.T, v uint32, width uint8) {
		w := int(width%5) + 1
		enc := leb(nil, v, w)
		if len(enc) > 5 {
			return // wider than the format allows for this value: not a case
		}
		r := At(enc, 0)
		if got := r.U32(); r.Err != nil || got != v || r.Pos != len(enc) {
			t.Fatalf("%x: %d at %d, %v; want %d at %d", enc, got, r.Pos, r.Err, v, len(enc))
		}
	})
}
