//go:build linux

package hostile

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The analyzer template of the wasm package's tests: a well-behaved ABI v1
// analyzer whose {{...}} markers the attacks replace.
const templatePath = "../../wasm/testdata/analyzer.wat"

// watModule builds the template with some markers replaced.
func watModule(t testing.TB, dir, name string, repl map[string]string) string {
	t.Helper()
	src, err := os.ReadFile(templatePath)
	if err != nil {
		t.Fatal(err)
	}
	s := string(src)
	for _, k := range []string{"{{IMPORTS}}", "{{VERSION}}", "{{INIT}}", "{{PROCESS}}", "{{AFTER}}", "{{EXTRA}}"} {
		v, ok := repl[k]
		if !ok && k == "{{VERSION}}" {
			v = "(i32.const 1)"
		}
		s = strings.ReplaceAll(s, k, v)
	}
	// The CLI's one sink is "out"; the template forwards to "mirror".
	s = strings.Replace(s, `(data (i32.const 0x600) "mirror\00")`, `(data (i32.const 0x600) "out\00")`, 1)
	s = strings.Replace(s, `(i32.store (i32.const 0x438) (i32.const 7))`, `(i32.store (i32.const 0x438) (i32.const 4))`, 1)
	if m, ok := repl["{{MEMORY}}"]; ok {
		s = strings.Replace(s, `(memory (export "memory") 17)`, m, 1)
	}
	in := filepath.Join(dir, name+".wat")
	out := filepath.Join(dir, name+".wasm")
	if err := os.WriteFile(in, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("wat2wasm", "--enable-all", "-o", out, in)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("wat2wasm %s: %v\n%s", name, err, b)
	}
	return out
}

// binModule writes a module built in binary form.
func binModule(t testing.TB, dir, name string, bin []byte) string {
	t.Helper()
	out := filepath.Join(dir, name+".wasm")
	if err := os.WriteFile(out, bin, 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// A small encoder for the modules too large to write as text.

func leb(v uint64) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			b = append(b, c|0x80)
			continue
		}
		return append(b, c)
	}
}

func section(id byte, body []byte) []byte {
	return append(append([]byte{id}, leb(uint64(len(body)))...), body...)
}

func vec(n int, items []byte) []byte { return append(leb(uint64(n)), items...) }

// module assembles a module with one type () -> (), the given functions
// (bodies without their size), tables section body, memory of one page
// exported as "memory", and optional element section body.
func module(funcs [][]byte, tables, elems []byte) []byte {
	b := []byte("\x00asm\x01\x00\x00\x00")
	b = append(b, section(1, vec(1, []byte{0x60, 0, 0}))...)
	if len(funcs) > 0 {
		b = append(b, section(3, vec(len(funcs), bytes.Repeat([]byte{0}, len(funcs))))...)
	}
	if tables != nil {
		b = append(b, section(4, tables)...)
	}
	b = append(b, section(5, vec(1, []byte{0, 1}))...)
	b = append(b, section(7, vec(1, append(append(leb(6), "memory"...), 0x02, 0)))...)
	if elems != nil {
		b = append(b, section(9, elems)...)
	}
	if len(funcs) > 0 {
		var code []byte
		for _, f := range funcs {
			code = append(code, leb(uint64(len(f)))...)
			code = append(code, f...)
		}
		b = append(b, section(10, vec(len(funcs), code))...)
	}
	return b
}

// tables declares n funcref tables of min elements each.
func tables(n int, min uint64) []byte {
	one := append([]byte{0x70, 0x00}, leb(min)...)
	return vec(n, bytes.Repeat(one, n))
}

// nested is a body of depth nested blocks of kind op (0x02 block, 0x03
// loop).
func nested(op byte, depth int) []byte {
	b := []byte{0} // no locals
	b = append(b, bytes.Repeat([]byte{op, 0x40}, depth)...)
	b = append(b, bytes.Repeat([]byte{0x0b}, depth)...)
	return append(b, 0x0b)
}

// hugeBody is a body of n (i32.const 0, drop) pairs.
func hugeBody(n int) []byte {
	b := []byte{0}
	b = append(b, bytes.Repeat([]byte{0x41, 0x00, 0x1a}, n)...)
	return append(b, 0x0b)
}

// brTable is a body of depth nested blocks and, innermost, one br_table
// with targets targets spread over every depth.
func brTable(depth, targets int) []byte {
	b := []byte{0}
	b = append(b, bytes.Repeat([]byte{0x02, 0x40}, depth)...)
	b = append(b, 0x41, 0x00, 0x0e)
	b = append(b, leb(uint64(targets))...)
	for i := 0; i < targets; i++ {
		b = append(b, leb(uint64(i%depth))...)
	}
	b = append(b, 0x00)
	b = append(b, bytes.Repeat([]byte{0x0b}, depth)...)
	return append(b, 0x0b)
}

// elemSegment is one active segment at offset 0 of table 0 with n
// references to function 0.
func elemSegment(n int) []byte {
	seg := []byte{0x00, 0x41, 0x00, 0x0b}
	seg = append(seg, leb(uint64(n))...)
	seg = append(seg, bytes.Repeat([]byte{0}, n)...)
	return vec(1, seg)
}

// importedTables is an import section body of n tables of min elements.
func importedTables(n int, min uint64) []byte {
	var one []byte
	one = append(one, leb(3)...)
	one = append(one, "env"...)
	one = append(one, leb(1)...)
	one = append(one, 't')
	one = append(one, 0x01, 0x70, 0x00)
	one = append(one, leb(min)...)
	return vec(n, bytes.Repeat(one, n))
}

// withImports inserts an import section into a module made by module.
func withImports(mod, imports []byte) []byte {
	// After the header and the type section.
	typeLen := 1 + len(leb(uint64(len(vec(1, []byte{0x60, 0, 0}))))) + len(vec(1, []byte{0x60, 0, 0}))
	at := 8 + typeLen
	out := append([]byte{}, mod[:at]...)
	out = append(out, section(2, imports)...)
	return append(out, mod[at:]...)
}

var _ = binary.LittleEndian
var _ = fmt.Sprint
