package spec_test

import (
	"bytes"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/wringcap/wring/spec"
)

// textBudget is the most a parse of a 16 MiB program text may allocate
// (issue 11: refused within 100 MB). The text itself is not counted.
const textBudget = 100 << 20

// repeatTo repeats unit until the text is size bytes long (cut at a line).
func repeatTo(head, unit string, size int) []byte {
	var b bytes.Buffer
	b.Grow(size)
	b.WriteString(head)
	for b.Len()+len(unit) <= size {
		b.WriteString(unit)
	}
	return b.Bytes()
}

// TestParseTextBounded parses 16 MiB texts of each format: those with
// more than spec.MaxInstructions instructions are refused at the first
// instruction too many, with its line, and no parse allocates more than
// textBudget.
func TestParseTextBounded(t *testing.T) {
	const size = 16 << 20
	cases := []struct {
		name   string
		format spec.Format
		src    []byte
		line   int    // line of the expected error; 0: no error
		msg    string // in the error
	}{
		{"asm", spec.TextAsm, repeatTo("", "ld #1\n", size), spec.MaxInstructions + 1, "more than 4096 instructions"},
		{"asm one line", spec.TextAsm, repeatTo("", "ld #1 ", size), 1, "more than 4096 instructions"},
		{"asm labels", spec.TextAsm, labels(size), 2*spec.MaxInstructions + 1, "more than 8192 labels"},
		{"asm labels per instruction", spec.TextAsm, labelsPerInstruction(), 0, ""},
		{"listing", spec.TextListing, listing(size), spec.MaxInstructions + 1, "more than 4096 instructions"},
		{"c", spec.TextC, repeatTo("", "{ 0x6, 0, 0, 0x00000000 },\n", size), spec.MaxInstructions + 1, "more than 4096 instructions"},
		{"decimal", spec.TextDecimal, repeatTo("999999999\n", "6 0 0 0\n", size), spec.MaxInstructions + 2, "more than 4096 instructions"},
		{"auto asm", spec.TextAuto, repeatTo("", "ret #0\n", size), spec.MaxInstructions + 1, "more than 4096 instructions"},
		{"blank lines", spec.TextAuto, repeatTo("", "\n", size), 0, ""},
		{"asm comments", spec.TextAsm, repeatTo("", "; comment\n", size), 0, ""},
		{"c comment", spec.TextC, append(append([]byte("/*"), bytes.Repeat([]byte(" "), size)...), "*/"...), 0, ""},
		{"unterminated comment after too many", spec.TextC, append(repeatTo("", "{ 6, 0, 0, 0 },\n", size), "/*"...), spec.MaxInstructions + 1, "more than 4096 instructions"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()
			prog, err := spec.ParseText(c.src, c.format)
			took := time.Since(start)
			runtime.ReadMemStats(&after)
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("%d bytes: %d instructions, allocated %.1f MB in %v, error: %v", len(c.src), len(prog), float64(alloc)/(1<<20), took, err)
			if alloc > textBudget {
				t.Errorf("allocated %d bytes, budget %d", alloc, textBudget)
			}
			if c.line == 0 {
				if err != nil {
					t.Fatalf("got %d instructions, %v; want no error", len(prog), err)
				}
				return
			}
			var se *spec.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %v is not a *SyntaxError", err)
			}
			if se.Line != c.line || !strings.Contains(se.Msg, c.msg) {
				t.Errorf("error at line %d %q, want line %d with %q", se.Line, se.Msg, c.line, c.msg)
			}
		})
	}
}

// labels is bpf_asm text of distinct labels, each on its own line, all
// naming the one instruction at the end.
func labels(size int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < size; i++ {
		b.WriteString("l" + itoa(i) + ":\n")
	}
	b.WriteString("ret #0\n")
	return b.Bytes()
}

// labelsPerInstruction is a program of spec.MaxInstructions instructions
// with two labels each, the most labels a program may have.
func labelsPerInstruction() []byte {
	var b bytes.Buffer
	for i := 0; i < spec.MaxInstructions; i++ {
		b.WriteString("a" + itoa(i) + ": b" + itoa(i) + ": ret #0\n")
	}
	return b.Bytes()
}

// listing is tcpdump -d text of "ret #0" lines up to size bytes.
func listing(size int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < size; i++ {
		b.WriteString("(" + itoa(i) + ") ret      #0\n")
	}
	return b.Bytes()
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var d []byte
	for ; n > 0; n /= 10 {
		d = append([]byte{byte('0' + n%10)}, d...)
	}
	return string(d)
}
