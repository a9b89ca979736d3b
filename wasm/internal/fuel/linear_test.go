package fuel

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"testing"

	"github.com/wringcap/wring/internal/cputime"

	"github.com/wringcap/wring/wasm/internal/binary"
)

// Module generators for the linearity benchmarks and tests.

// moduleOf wraps function bodies (locals and code, without the size) of
// type func(i32) -> i32 in a module with a memory and a table.
func moduleOf(bodies [][]byte) []byte {
	code := appendU32(nil, uint32(len(bodies)))
	for _, b := range bodies {
		code = appendU32(code, uint32(len(b)))
		code = append(code, b...)
	}
	funcs := appendU32(nil, uint32(len(bodies)))
	funcs = append(funcs, bytes.Repeat([]byte{0}, len(bodies))...)
	m := []byte("\x00asm\x01\x00\x00\x00")
	sec := func(id byte, body []byte) {
		m = append(m, id)
		m = appendU32(m, uint32(len(body)))
		m = append(m, body...)
	}
	sec(secType, []byte{1, 0x60, 1, 0x7f, 1, 0x7f})
	sec(secFunction, funcs)
	sec(4, []byte{1, 0x70, 0, 1}) // table
	sec(5, []byte{1, 0, 1})       // memory
	sec(secExport, []byte{1, 1, 'f', 0, 0})
	sec(secCode, code)
	return m
}

// nestedBody is a body of depth nested blocks (op 0x02) or loops (0x03)
// around a local.get, returning it.
func nestedBody(depth int, op byte) []byte {
	b := []byte{0}
	b = append(b, bytes.Repeat([]byte{op, 0x40}, depth)...)
	b = append(b, bytes.Repeat([]byte{0x0b}, depth)...)
	return append(b, 0x20, 0, 0x0b)
}

// typicalBody is a function of the shapes compilers emit: a counted loop
// with an exit test, loads and stores, a call, a br_table, an if/else, a
// memory.fill and a table.grow, about 120 bytes.
var typicalBody = []byte{
	1, 2, 0x7f, // two i32 locals
	0x02, 0x40, // block
	0x03, 0x40, // loop
	0x20, 1, 0x20, 0, 0x4f, 0x0d, 1, // br_if 1 (i >= n)
	0x20, 1, 0x2d, 0, 0, // i32.load8_u
	0x20, 2, 0x6a, 0x21, 2, // acc += byte
	0x20, 1, 0x41, 1, 0x6a, 0x21, 1, // i++
	0x0c, 0, // br 0
	0x0b, 0x0b,
	0x02, 0x40, 0x02, 0x40, 0x02, 0x40, // three blocks
	0x20, 2, 0x41, 3, 0x71, 0x0e, 3, 0, 1, 2, 2, // br_table
	0x0b,
	0x20, 2, 0x41, 1, 0x6a, 0x21, 2,
	0x0b,
	0x20, 2, 0x41, 2, 0x6a, 0x21, 2,
	0x0b,
	0x20, 2, 0x41, 1, 0x71, // acc & 1
	0x04, 0x7f, 0x20, 2, 0x41, 1, 0x74, 0x05, 0x20, 2, 0x41, 1, 0x76, 0x0b, // if/else
	0x21, 2,
	0x41, 0, 0x41, 0, 0x41, 64, 0xfc, 11, 0, // memory.fill 0, 0, 64
	0xd0, 0x70, 0x41, 0, 0xfc, 15, 0, 0x1a, // table.grow 0 by 0, drop
	0x20, 0, 0x41, 1, 0x76, // n >> 1
	0x04, 0x40, 0x20, 0, 0x41, 1, 0x6b, 0x10, 0, 0x1a, 0x0b, // if: call f(n-1), drop
	0x41, 0, 0x20, 1, 0x36, 2, 0, // i32.store
	0x20, 2, 0x0b,
}

// typicalModule returns a module of about size bytes of typicalBody.
func typicalModule(size int) []byte {
	n := max(1, size/(len(typicalBody)+2))
	bodies := make([][]byte, n)
	for i := range bodies {
		bodies[i] = typicalBody
	}
	return moduleOf(bodies)
}

// BenchmarkRewriteLinear rewrites modules of growing nesting depth (with
// no depth limit: the shape check is not run) and of growing size up to
// the 8 MiB module cap. ns/byte is the figure to compare: flat across the
// sizes of one shape means the rewrite is linear in the module's size.
// cpu-ns/byte is the thread's CPU time per byte, less sensitive to a loaded
// machine (the garbage collector's work on other threads is not in it).
func BenchmarkRewriteLinear(b *testing.B) {
	type tc struct {
		name string
		bin  []byte
	}
	var cases []tc
	for _, d := range []int{1_000, 10_000, 100_000, 1_000_000} {
		cases = append(cases, tc{fmt.Sprintf("blocks/depth=%d", d), moduleOf([][]byte{nestedBody(d, binary.OpBlock)})})
	}
	for _, d := range []int{1_000, 10_000, 100_000, 1_000_000} {
		cases = append(cases, tc{fmt.Sprintf("loops/depth=%d", d), moduleOf([][]byte{nestedBody(d, binary.OpLoop)})})
	}
	for _, s := range []int{64 << 10, 512 << 10, 2 << 20, 8 << 20} {
		cases = append(cases, tc{fmt.Sprintf("typical/size=%dKiB", s>>10), typicalModule(s)})
	}
	if bin, err := os.ReadFile("../../../analyzers/bundled/dns.wasm"); err == nil {
		cases = append(cases, tc{"bundled/dns.wasm", bin})
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.bin)))
			b.ReportAllocs()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			c0 := cputime.Thread()
			for b.Loop() {
				if _, err := Rewrite(c.bin, "__fuel", 1); err != nil {
					b.Fatal(err)
				}
			}
			n := float64(b.N) * float64(len(c.bin))
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/byte")
			b.ReportMetric(float64(cputime.Thread()-c0)/n, "cpu-ns/byte")
		})
	}
}
