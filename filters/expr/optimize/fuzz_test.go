package optimize_test

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/wringcap/wring/filters/expr/optimize"
	"github.com/wringcap/wring/internal/progen"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
	"github.com/wringcap/wring/vm"
)

// FuzzOptimize: the input is a program (8 bytes per instruction, as
// sock_filter in little endian) followed by a packet after a 0xff 0xff
// 0xff 0xff 0xff 0xff 0xff 0xff separator. Whatever the program, Program
// never panics or hangs; when the program verifies, the optimized one
// verifies too, is no longer, and returns the same on the packet and on
// its prefixes.
func FuzzOptimize(f *testing.F) {
	for _, seed := range fuzzSeeds() {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, pkt := splitFuzz(data)
		q := optimize.Program(p)
		opts := verifier.Options{Record: true}
		vp, err := verifier.Verify(p, opts)
		if err != nil {
			return
		}
		if len(q) > len(p) {
			t.Fatalf("optimized program is longer: %d > %d", len(q), len(p))
		}
		vq, err := verifier.Verify(q, opts)
		if err != nil {
			t.Fatalf("optimized program fails verification: %v\n%s---\n%s", err, show(p), show(q))
		}
		for n := 0; n <= len(pkt); n += 1 + n/4 {
			b := pkt[:n]
			if want, got := vm.Run(vp, b, uint32(len(pkt)), nil), vm.Run(vq, b, uint32(len(pkt)), nil); want != got {
				t.Fatalf("packet % x: original returns %d, optimized %d\n%s---\n%s", b, want, got, show(p), show(q))
			}
		}
	})
}

var fuzzSep = []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

func splitFuzz(data []byte) (spec.Program, []byte) {
	var p spec.Program
	for len(data) >= 8 {
		if string(data[:8]) == string(fuzzSep) {
			return p, data[8:]
		}
		p = append(p, spec.Instruction{
			Op: binary.LittleEndian.Uint16(data),
			Jt: data[2], Jf: data[3],
			K: binary.LittleEndian.Uint32(data[4:]),
		})
		data = data[8:]
	}
	return p, data
}

func joinFuzz(p spec.Program, pkt []byte) []byte {
	var b []byte
	for _, ins := range p {
		b = binary.LittleEndian.AppendUint16(b, ins.Op)
		b = append(b, ins.Jt, ins.Jf)
		b = binary.LittleEndian.AppendUint32(b, ins.K)
	}
	b = append(b, fuzzSep...)
	return append(b, pkt...)
}

// fuzzSeeds are libpcap-shaped programs with packets that take their
// branches both ways.
func fuzzSeeds() [][]byte {
	ipv4tcp := []byte{
		0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00,
		0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0, 192, 0, 2, 7, 198, 51, 100, 1,
		0x00, 0x50, 0xc0, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0x50, 0x02, 0, 0, 0, 0, 0, 0,
	}
	tcpPort80 := spec.Program{
		{Op: 0x28, K: 12}, {Op: 0x15, Jt: 0, Jf: 6, K: 0x86dd}, {Op: 0x30, K: 20}, {Op: 0x15, Jt: 0, Jf: 15, K: 6},
		{Op: 0x28, K: 54}, {Op: 0x15, Jt: 12, Jf: 0, K: 80}, {Op: 0x28, K: 56}, {Op: 0x15, Jt: 10, Jf: 11, K: 80},
		{Op: 0x28, K: 12}, {Op: 0x15, Jt: 0, Jf: 9, K: 0x800}, {Op: 0x30, K: 23}, {Op: 0x15, Jt: 0, Jf: 7, K: 6},
		{Op: 0x28, K: 20}, {Op: 0x45, Jt: 5, Jf: 0, K: 0x1fff}, {Op: 0xb1, K: 14}, {Op: 0x48, K: 14},
		{Op: 0x15, Jt: 2, Jf: 0, K: 80}, {Op: 0x48, K: 16}, {Op: 0x15, Jt: 0, Jf: 1, K: 80},
		{Op: 0x06, K: 262144}, {Op: 0x06, K: 0},
	}
	arith := spec.Program{
		{Op: 0x00, K: 7}, {Op: 0x02, K: 0}, {Op: 0x61, K: 0}, {Op: 0x48, K: 0}, {Op: 0x02, K: 1},
		{Op: 0x00, K: 0x1234}, {Op: 0x02, K: 2}, {Op: 0x61, K: 2}, {Op: 0x60, K: 1}, {Op: 0x1c},
		{Op: 0x15, Jt: 0, Jf: 1, K: 0}, {Op: 0x06, K: 0x40000}, {Op: 0x06, K: 0},
	}
	div := spec.Program{
		{Op: 0x30, K: 0}, {Op: 0x07}, {Op: 0x28, K: 2}, {Op: 0x3c}, {Op: 0x9c}, {Op: 0x84},
		{Op: 0x25, Jt: 0, Jf: 1, K: 5}, {Op: 0x16}, {Op: 0x06, K: 1},
	}
	return [][]byte{
		joinFuzz(tcpPort80, ipv4tcp),
		joinFuzz(tcpPort80, ipv4tcp[:30]),
		joinFuzz(arith, ipv4tcp),
		joinFuzz(div, ipv4tcp),
		joinFuzz(div, []byte{0, 0, 0, 0}),
	}
}

// TestWriteFuzzSeeds rewrites the committed seed corpus
// (testdata/fuzz/FuzzOptimize) when WRING_WRITE_SEEDS=1: the seeds above
// plus programs from internal/progen with packets aimed at them.
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("WRING_WRITE_SEEDS") == "" {
		t.Skip("set WRING_WRITE_SEEDS=1 to rewrite testdata/fuzz/FuzzOptimize")
	}
	seeds := fuzzSeeds()
	g := progen.New(99, progen.Config{Mode: progen.Valid, NoLong: true, NoAncillary: true})
	for i := 0; i < 24; i++ {
		p := g.Program()
		seeds = append(seeds, joinFuzz(p, g.Packet(p)))
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzOptimize")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, s := range seeds {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", s)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed%02d", i)), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
