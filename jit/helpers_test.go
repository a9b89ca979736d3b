package jit

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
	"github.com/wringcap/wring/vm"
)

// engines is one program compiled every way: the native code with and
// without blinding (when the platform has it) and the portable form.
type engines struct {
	p     *verifier.Program
	named []namedFilter
}

type namedFilter struct {
	name string
	f    *Filter
}

// compileAll compiles p with every backend.
func compileAll(tb testing.TB, p *verifier.Program) *engines {
	tb.Helper()
	e := &engines{p: p}
	for _, c := range []struct {
		name string
		opts Options
	}{
		{"native", Options{}},
		{"native-noblind", Options{NoBlinding: true}},
		{"portable", Options{Portable: true}},
	} {
		f, err := Compile(p, c.opts)
		if err != nil {
			tb.Fatalf("compile %s: %v", c.name, err)
		}
		if c.name != "portable" && nativeSupported && !f.Native() && !usesNetlinkProgram(p) {
			tb.Fatalf("compile %s: got the portable backend for a program without netlink loads", c.name)
		}
		e.named = append(e.named, namedFilter{c.name, f})
	}
	return e
}

func usesNetlinkProgram(p *verifier.Program) bool {
	for pc := range p.Len() {
		if usesNetlink(p.At(pc)) {
			return true
		}
	}
	return false
}

func (e *engines) close(tb testing.TB) {
	for _, n := range e.named {
		if err := n.f.Close(); err != nil {
			tb.Errorf("close %s: %v", n.name, err)
		}
	}
}

// check runs every engine on one packet and returns a description of the
// first disagreement with vm.Run, or "".
func (e *engines) check(pkt []byte, wirelen uint32, meta *vm.Meta) string {
	want := vm.Run(e.p, pkt, wirelen, meta)
	for _, n := range e.named {
		if got := n.f.RunMeta(pkt, wirelen, meta); got != want {
			return fmt.Sprintf("%s returned %d, vm.Run %d", n.name, got, want)
		}
	}
	return ""
}

// checkBatch runs every engine's RunBatch over pkts (wire lengths wl, or
// nil) and returns a description of the first result that differs from
// vm.Run's, or "".
func (e *engines) checkBatch(pkts [][]byte, wl []uint32) string {
	out := make([]uint32, len(pkts))
	for _, n := range e.named {
		for i := range out {
			out[i] = 0xdeadbeef
		}
		if err := n.f.RunBatch(pkts, wl, out); err != nil {
			return fmt.Sprintf("%s: RunBatch: %v", n.name, err)
		}
		for i, pkt := range pkts {
			w := uint32(len(pkt))
			if wl != nil {
				w = wl[i]
			}
			if want := vm.Run(e.p, pkt, w, nil); out[i] != want {
				return fmt.Sprintf("%s: RunBatch packet %d of %d returned %d, vm.Run %d", n.name, i, len(pkts), out[i], want)
			}
		}
	}
	return ""
}

// testMeta returns varied metadata for packet i: ancillary values, a
// network offset (valid for most packets) and a parse record (absent for
// some), so that every special load is exercised both ways.
func testMeta(i int, pkt []byte) *vm.Meta {
	r := rand.New(rand.NewPCG(uint64(i), 77))
	m := &vm.Meta{
		PktType: uint32(i % 5), Ifindex: uint32(i%7 + 1), Mark: r.Uint32(), Queue: uint32(i % 4),
		HaType: 1, RxHash: r.Uint32(), CPU: uint32(i % 2), VLANTCI: uint32(r.IntN(1 << 16)),
		VLANPresent: i%3 == 0, VLANTPID: 0x8100, PayOffset: uint32(r.IntN(80)), Random: r.Uint32(),
		NetOffset: 14, NetOffsetValid: i%5 != 0,
	}
	if len(pkt) >= 14 {
		m.Protocol = uint32(pkt[12])<<8 | uint32(pkt[13])
	}
	if i%4 != 0 {
		var rec [spec.RecordSize]byte
		for j := range rec {
			rec[j] = byte(r.Uint32())
		}
		m.Record = &rec
	}
	return m
}

// mustVerify verifies prog or stops the test.
func mustVerify(tb testing.TB, prog spec.Program, opts verifier.Options) *verifier.Program {
	tb.Helper()
	p, err := verifier.Verify(prog, opts)
	if err != nil {
		tb.Fatalf("verify: %v", err)
	}
	return p
}
