//go:build linux

package jit

import (
	"syscall"
	"testing"

	"github.com/wringcap/wring/internal/progen"
	"github.com/wringcap/wring/verifier"
)

// fence is a read-write page between two inaccessible ones: a packet
// placed against either edge has no readable byte beyond it, so a read
// outside the packet faults (and kills the test binary).
type fence struct {
	mem  []byte
	page int
}

func newFence(t *testing.T) *fence {
	page := syscall.Getpagesize()
	mem, err := syscall.Mmap(-1, 0, 3*page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		t.Fatalf("mmap: %v", err)
	}
	if err := syscall.Mprotect(mem[:page], syscall.PROT_NONE); err != nil {
		t.Fatalf("mprotect: %v", err)
	}
	if err := syscall.Mprotect(mem[2*page:], syscall.PROT_NONE); err != nil {
		t.Fatalf("mprotect: %v", err)
	}
	t.Cleanup(func() { syscall.Munmap(mem) })
	return &fence{mem: mem, page: page}
}

// atEnd copies pkt to the end of the readable page and returns that copy
// (its capacity ends there too).
func (f *fence) atEnd(pkt []byte) []byte {
	end := 2 * f.page
	s := f.mem[end-len(pkt) : end : end]
	copy(s, pkt)
	return s
}

// atStart copies pkt to the start of the readable page.
func (f *fence) atStart(pkt []byte) []byte {
	s := f.mem[f.page : f.page+len(pkt) : f.page+len(pkt)]
	copy(s, pkt)
	return s
}

// TestFencedPackets is acceptance line 3 (safety): random verified
// programs (and the corpus programs) run on packets placed against an
// inaccessible page, after and before, at every length up to a few
// hundred bytes, in every engine. A read outside the packet would fault;
// the results must also equal vm.Run's.
func TestFencedPackets(t *testing.T) {
	fc := newFence(t)
	check := func(e *engines, pkt []byte, i int) {
		for _, place := range []func([]byte) []byte{fc.atEnd, fc.atStart} {
			p := place(pkt)
			if msg := e.check(p, uint32(len(p)), testMeta(i, p)); msg != "" {
				t.Fatalf("%d-byte fenced packet: %s", len(p), msg)
			}
			if msg := e.checkBatch([][]byte{p, p}, nil); msg != "" {
				t.Fatalf("%d-byte fenced packet: %s", len(p), msg)
			}
		}
	}
	var runs int
	cfgs := []progen.Config{
		{Mode: progen.Valid, PacketLen: 32},
		{Mode: progen.Valid, PacketLen: 200, Record: true, HeaderRelative: true},
	}
	for ci, cfg := range cfgs {
		g := progen.New(uint64(7+ci), cfg)
		for i := range randomCount(1500) {
			prog := g.Program()
			p := mustVerify(t, prog, verifier.Options{Record: true})
			e := compileAll(t, p)
			base := g.Packet(prog)
			for n := 0; n <= len(base); n += 1 + n/16 {
				check(e, base[:n], i)
				runs++
			}
			e.close(t)
		}
	}
	progs, _ := corpusPrograms(t)
	for i, cp := range progs {
		e := compileAll(t, cp.p)
		for _, base := range fullPackets() {
			pkt := append(append([]byte(nil), base...), make([]byte, 64)...)
			for n := 0; n <= len(pkt); n++ {
				check(e, pkt[:n], i)
				runs++
			}
		}
		e.close(t)
	}
	t.Logf("%d fenced runs (each at both edges, 3 engines), no fault", runs)
}
