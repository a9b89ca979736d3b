//go:build linux

package afxdp

import (
	"sync/atomic"
	"unsafe"

	unix "github.com/wringcap/wring/internal/linux" // the x/sys/unix names, through wring's one door
)

// ring is one single-producer single-consumer ring shared with the kernel.
// The producer and consumer indices live in the mapping and are read and
// written atomically; cached copies avoid touching the shared cache line for
// every descriptor (libbpf's cached_prod/cached_cons).
type ring struct {
	mem      []byte
	producer *uint32
	consumer *uint32
	flags    *uint32
	descs    unsafe.Pointer
	mask     uint32
	size     uint32

	cachedProd uint32
	cachedCons uint32
}

// mapRing maps a ring of n entries of entrySize bytes at the given page
// offset of the socket.
func mapRing(fd int, off unix.XDPRingOffset, n uint32, entrySize uintptr, pgoff int64) (*ring, error) {
	length := int(off.Desc + uint64(n)*uint64(entrySize))
	mem, err := unix.Mmap(fd, pgoff, length, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return nil, err
	}
	base := unsafe.Pointer(&mem[0])
	return &ring{
		mem:      mem,
		producer: (*uint32)(unsafe.Add(base, off.Producer)),
		consumer: (*uint32)(unsafe.Add(base, off.Consumer)),
		flags:    (*uint32)(unsafe.Add(base, off.Flags)),
		descs:    unsafe.Add(base, off.Desc),
		mask:     n - 1,
		size:     n,
	}, nil
}

func (r *ring) unmap() {
	if r != nil && r.mem != nil {
		_ = unix.Munmap(r.mem)
		r.mem = nil
	}
}

// needWakeup reports whether the kernel asked to be woken for this ring.
func (r *ring) needWakeup() bool { return atomic.LoadUint32(r.flags)&unix.XDP_RING_NEED_WAKEUP != 0 }

// addr returns the i-th entry of a fill or completion ring.
func (r *ring) addr(i uint32) *uint64 {
	return (*uint64)(unsafe.Add(r.descs, uintptr(i&r.mask)*8))
}

// desc returns the i-th entry of an RX or TX ring.
func (r *ring) desc(i uint32) *unix.XDPDesc {
	return (*unix.XDPDesc)(unsafe.Add(r.descs, uintptr(i&r.mask)*unsafe.Sizeof(unix.XDPDesc{})))
}

// available returns how many entries a consumer can read, refreshing the
// cached producer index only when the cache says none.
func (r *ring) available() uint32 {
	n := r.cachedProd - r.cachedCons
	if n == 0 {
		r.cachedProd = atomic.LoadUint32(r.producer)
		n = r.cachedProd - r.cachedCons
	}
	return n
}

// release publishes n consumed entries to the kernel.
func (r *ring) release(n uint32) {
	r.cachedCons += n
	atomic.StoreUint32(r.consumer, r.cachedCons)
}

// free returns how many entries a producer can write. It reads the
// kernel's consumer index: call it once per batch, not per entry.
func (r *ring) free() uint32 {
	r.cachedCons = atomic.LoadUint32(r.consumer)
	return r.size - (r.cachedProd - r.cachedCons)
}

// submit publishes n produced entries to the kernel.
func (r *ring) submit(n uint32) {
	r.cachedProd += n
	atomic.StoreUint32(r.producer, r.cachedProd)
}
