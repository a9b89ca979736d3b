//go:build linux

package kernel

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
	"github.com/wringcap/wring/vm"
)

func newRunner(t *testing.T) *Runner {
	t.Helper()
	needRoot(t)
	r, err := NewRunner()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// kernelResult runs prog on pkt in the kernel and returns min(v, len(pkt))
// for the filter's value v (0 when dropped).
func kernelResult(t *testing.T, r *Runner, prog spec.Program, pkt []byte) (int, bool) {
	t.Helper()
	if err := r.SetFilter(prog); err != nil {
		t.Fatalf("attach %v: %v", prog, err)
	}
	n, kept, err := r.Run(pkt)
	if err != nil {
		t.Fatal(err)
	}
	return n, kept
}

// TestRunnerContext checks what the package documentation says about the
// ancillary values a socket pair's buffer carries.
func TestRunnerContext(t *testing.T) {
	r := newRunner(t)
	pkt := make([]byte, 100)
	ld := func(off uint32) spec.Instruction { return spec.Stmt(spec.ClassLD|spec.SizeW|spec.ModeABS, off) }
	retA := spec.Stmt(spec.ClassRET|spec.RetA, 0)
	add1 := spec.Stmt(spec.ClassALU|spec.ALUAdd|spec.SrcK, 1)
	for _, off := range []uint32{spec.AncProtocol, spec.AncPktType, spec.AncMark, spec.AncQueue, spec.AncVLANTag, spec.AncVLANTagPresent, spec.AncVLANTPID} {
		// value + 1 bytes are kept: 1 means the value is 0
		if n, kept := kernelResult(t, r, spec.Program{ld(spec.AncillaryBase + off), add1, retA}, pkt); !kept || n != 1 {
			t.Errorf("%s: kept %v, %d bytes; the documentation says the value is 0", spec.AncillaryNames[off], kept, n)
		}
	}
	for _, off := range []uint32{spec.AncIfindex, spec.AncHaType} {
		// with no device the filter stops and returns A (here 7)
		if n, kept := kernelResult(t, r, spec.Program{spec.Stmt(spec.ClassLD|spec.ModeIMM, 7), ld(spec.AncillaryBase + off), add1, retA}, pkt); !kept || n != 7 {
			t.Errorf("%s: kept %v, %d bytes; the documentation says the filter returns A = 7", spec.AncillaryNames[off], kept, n)
		}
	}
	// SKF_LL_OFF loads fail: no link-layer header.
	if _, kept := kernelResult(t, r, spec.Program{spec.Stmt(spec.ClassLD|spec.SizeB|spec.ModeABS, spec.LLOff), spec.Stmt(spec.ClassRET|spec.RetK, 1)}, pkt); kept {
		t.Error("an SKF_LL_OFF load succeeded")
	}
	// len is the datagram's length.
	if n, kept := kernelResult(t, r, spec.Program{spec.Stmt(spec.ClassLD|spec.SizeW|spec.ModeLEN, 0), spec.Stmt(spec.ClassALU|spec.ALUSub|spec.SrcK, 40), retA}, pkt); !kept || n != 60 {
		t.Errorf("len - 40 kept %v, %d bytes; want 60", kept, n)
	}
	// An empty datagram passes through a filter that returns non-zero.
	if n, kept := kernelResult(t, r, spec.Program{spec.Stmt(spec.ClassRET|spec.RetK, 5)}, nil); !kept || n != 0 {
		t.Errorf("empty packet: kept %v, %d bytes", kept, n)
	}
}

// nlaChain builds a chain of netlink attributes with random types (0-3,
// sometimes with the nested/byte-order flags), lengths (sometimes invalid)
// and, for some, a nested chain as payload. It returns the bytes and the
// offsets where attributes start.
func nlaChain(r *rand.Rand, depth int) ([]byte, []int) {
	var b []byte
	var starts []int
	for range 1 + r.IntN(5) {
		starts = append(starts, len(b))
		var payload []byte
		if depth > 0 && r.IntN(3) == 0 {
			payload, _ = nlaChain(r, depth-1)
		} else {
			payload = make([]byte, r.IntN(9))
		}
		l := 4 + len(payload)
		if r.IntN(15) == 0 {
			l = r.IntN(4) // invalid: shorter than the header
		}
		if r.IntN(15) == 0 {
			l += 64 // invalid: longer than what follows
		}
		attr := make([]byte, 4+(len(payload)+3)&^3)
		binary.LittleEndian.PutUint16(attr, uint16(l))
		binary.LittleEndian.PutUint16(attr[2:], uint16(r.IntN(4))|uint16(r.IntN(4))<<14)
		copy(attr[4:], payload)
		b = append(b, attr...)
	}
	return b, starts
}

// TestNetlinkAttributesAgainstKernel compares the VM's nla and nlan
// searches with the kernel's on random attribute chains.
func TestNetlinkAttributesAgainstKernel(t *testing.T) {
	r := newRunner(t)
	rng := rand.New(rand.NewPCG(9, 9))
	var same, runs, found int
	for range 3000 {
		pkt, starts := nlaChain(rng, 2)
		start := uint32(starts[rng.IntN(len(starts))])
		if rng.IntN(8) == 0 {
			start = uint32(rng.IntN(len(pkt) + 8))
		}
		pad := append(pkt, make([]byte, 256)...) // room to see the result + 1
		if rng.IntN(4) == 0 {
			pad = pkt // the chain ends the packet
		}
		for _, off := range []uint32{spec.AncNLAttr, spec.AncNLAttrNest} {
			prog := spec.Program{
				spec.Stmt(spec.ClassLDX|spec.ModeIMM, uint32(rng.IntN(4))), // X = type
				spec.Stmt(spec.ClassLD|spec.ModeIMM, start),                // A = where to start
				spec.Stmt(spec.ClassLD|spec.SizeW|spec.ModeABS, spec.AncillaryBase+off),
				spec.Stmt(spec.ClassALU|spec.ALUAdd|spec.SrcK, 1),
				spec.Stmt(spec.ClassRET|spec.RetA, 0),
			}
			p, err := verifier.Verify(prog, verifier.Options{})
			if err != nil {
				t.Fatal(err)
			}
			want := vm.Run(p, pad, uint32(len(pad)), nil)
			n, kept := kernelResult(t, r, prog, pad)
			runs++
			if want > 1 {
				found++
			}
			if kept && uint32(n) == min(want, uint32(len(pad))) {
				same++
			} else {
				t.Errorf("%s from %d on % x: kernel kept %v %d, vm %d", spec.AncillaryNames[off], start, pkt, kept, n, want)
			}
		}
	}
	t.Logf("nla/nlan: vm = kernel on %d of %d runs (%d found an attribute past offset 0)", same, runs, found)
	if found < runs/10 {
		t.Errorf("only %d of %d searches found an attribute: the test does not exercise the search", found, runs)
	}
}
