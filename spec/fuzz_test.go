package spec_test

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/wringcap/wring/spec"
)

// The fuzz targets feed arbitrary text to each parser. Seeds are committed
// under testdata/fuzz/<target>/ (tcpdump output, bpf_asm sources, the
// syntax error cases). Properties: no panic; a failure is a *SyntaxError
// with a position inside the text; a success prints in every format and
// reads back to the same instructions (the listing and assembly to the
// forms they can express).

func FuzzParseListing(f *testing.F) { fuzzFormat(f, spec.TextListing) }
func FuzzParseC(f *testing.F)       { fuzzFormat(f, spec.TextC) }
func FuzzParseDecimal(f *testing.F) { fuzzFormat(f, spec.TextDecimal) }
func FuzzParseAsm(f *testing.F)     { fuzzFormat(f, spec.TextAsm) }
func FuzzParseAuto(f *testing.F)    { fuzzFormat(f, spec.TextAuto) }

func fuzzFormat(f *testing.F, format spec.Format) {
	f.Fuzz(func(t *testing.T, src []byte) {
		p, err := spec.ParseText(src, format)
		if err != nil {
			var se *spec.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %v (%T) is not a *SyntaxError", err, err)
			}
			lines := bytes.Count(src, []byte("\n")) + 1
			if se.Line < 1 || se.Line > lines || se.Col < 1 || se.Msg == "" {
				t.Fatalf("bad position in %v (text has %d lines)", err, lines)
			}
			return
		}
		checkRoundTrips(t, p)
	})
}

// checkRoundTrips prints p in every format and reads it back.
func checkRoundTrips(t *testing.T, p spec.Program) {
	t.Helper()
	for _, f := range []spec.Format{spec.TextC, spec.TextDecimal, spec.TextListing, spec.TextAsm} {
		var b bytes.Buffer
		if err := spec.WriteText(&b, p, f); err != nil {
			if f == spec.TextAsm {
				continue // jump targets outside the program, opcodes bpf_asm cannot name
			}
			t.Fatalf("write %v: %v", f, err)
		}
		back, err := spec.ParseText(b.Bytes(), f)
		if err != nil {
			t.Fatalf("reparse %v: %v\n%s", f, err, b.Bytes())
		}
		want := p
		switch f {
		case spec.TextListing:
			want = listingForm(p)
		case spec.TextAsm:
			want = p.Canonical()
		}
		if !slices.Equal(back, want) {
			t.Fatalf("%v round trip:\n- want: %v\n-  got: %v\n%s", f, want, back, b.Bytes())
		}
	}
}

// listingForm is what a listing keeps of p: canonical known instructions;
// for unknown opcodes only the opcode, and jt/jf when libpcap prints them
// (jump class, not ja).
func listingForm(p spec.Program) spec.Program {
	out := make(spec.Program, len(p))
	for i, ins := range p {
		if ins.Known() {
			out[i] = ins.Canonical()
			continue
		}
		out[i] = spec.Instruction{Op: ins.Op}
		if ins.Class() == spec.ClassJMP && ins.Operation() != spec.JumpJA {
			out[i].Jt, out[i].Jf = ins.Jt, ins.Jf
		}
	}
	return out
}

// TestRoundTripRandom drives checkRoundTrips with random raw programs,
// including unknown opcodes and stray fields, beyond what the corpus has.
func TestRoundTripRandom(t *testing.T) {
	seed := uint32(1)
	next := func() uint32 { seed ^= seed << 13; seed ^= seed >> 17; seed ^= seed << 5; return seed }
	ops := []uint16{0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x0c, 0x0e, 0x15, 0x16, 0x1d, 0x20, 0x28, 0x30,
		0x35, 0x40, 0x45, 0x48, 0x50, 0x55, 0x60, 0x61, 0x64, 0x80, 0x81, 0x84, 0x87, 0x8c, 0x94, 0xa4, 0xb1, 0xff, 0x1234}
	for range 2000 {
		n := 1 + int(next()%40)
		p := make(spec.Program, n)
		for i := range p {
			k := next()
			switch next() % 4 {
			case 0:
				k %= 64
			case 1:
				k = spec.AncillaryBase + k%80
			}
			p[i] = spec.Instruction{Op: ops[next()%uint32(len(ops))], Jt: uint8(next() % 8), Jf: uint8(next() % 8), K: k}
		}
		checkRoundTrips(t, p)
	}
}

// FuzzDisassemble checks that every raw instruction decodes to a typed
// form that assembles back to it (its canonical form), or stays raw.
func FuzzDisassemble(f *testing.F) {
	f.Fuzz(func(t *testing.T, op uint16, jt, jf uint8, k uint32) {
		ins := spec.Instruction{Op: op, Jt: jt, Jf: jf, K: k}
		in := spec.Disassemble(ins)
		got, err := in.Assemble()
		if err != nil {
			t.Fatalf("%+v: %#v does not assemble: %v", ins, in, err)
		}
		want := ins.Canonical()
		if _, raw := in.(spec.Instruction); raw {
			want = ins
		}
		if got != want {
			t.Fatalf("%+v: %#v assembles to %+v, want %+v", ins, in, got, want)
		}
	})
}
