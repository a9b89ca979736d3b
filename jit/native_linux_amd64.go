//go:build linux && amd64

package jit

import (
	"runtime"
	"syscall"
	"unsafe"
)

// nativeSupported reports whether this platform has the native backend.
const nativeSupported = true

// scratchBytes is the size of the scratch area the trampoline reserves in
// its own frame (trampoline_linux_amd64.s): the 16 words of M[].
const scratchBytes = 64

// enter calls the machine code at code with the packet, its captured and
// wire lengths and the metadata, and returns the code's result. It is the
// assembly trampoline of trampoline_linux_amd64.s.
//
//go:noescape
func enter(code uintptr, pkt *byte, caplen uint64, wirelen uint32, meta *Meta) uint32

// enterBatch runs the machine code at code on n packets: pkts points at n
// slice headers, wirelens at n wire lengths (nil: each packet's captured
// length), out at n results. It is the second trampoline of
// trampoline_linux_amd64.s.
//
//go:noescape
func enterBatch(code uintptr, pkts *[]byte, wirelens *uint32, out *uint32, n int, meta *Meta)

// keepAlive keeps the filter (and so its mapping) reachable until the
// native code has returned.
func keepAlive(f *Filter) { runtime.KeepAlive(f) }

// mapping is a filter's machine code in its own anonymous mapping. It is
// written while read-write, then made read-execute: never writable and
// executable at once.
type mapping struct {
	mem     []byte
	cleanup runtime.Cleanup
}

// newMapping maps code read-execute. The rest of the last page is filled
// with int3.
func newMapping(code []byte) (*mapping, error) {
	page := syscall.Getpagesize()
	size := (len(code) + page - 1) / page * page
	mem, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return nil, err
	}
	n := copy(mem, code)
	for i := n; i < len(mem); i++ {
		mem[i] = 0xcc
	}
	if err := syscall.Mprotect(mem, syscall.PROT_READ|syscall.PROT_EXEC); err != nil {
		syscall.Munmap(mem)
		return nil, err
	}
	return &mapping{mem: mem}, nil
}

// bytes returns the mapped memory (readable: the tests inspect the code).
func (m *mapping) bytes() []byte { return m.mem }

// entry returns the address of the first instruction.
func (m *mapping) entry() uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(m.mem))) }

// attach arranges for the mapping to be freed when f is collected.
func (m *mapping) attach(f *Filter) {
	m.cleanup = runtime.AddCleanup(f, unmap, m.mem)
}

// free unmaps now and cancels the cleanup.
func (m *mapping) free() error {
	m.cleanup.Stop()
	return syscall.Munmap(m.mem)
}

// unmap is the cleanup of a collected Filter's mapping.
func unmap(mem []byte) { syscall.Munmap(mem) }
