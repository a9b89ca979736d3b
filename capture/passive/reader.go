//go:build linux

package passive

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/cilium/ebpf"

	unix "github.com/wringcap/wring/internal/linux"
)

// Ring record header bits (kernel/bpf/ringbuf.c).
const (
	rbBusy    = 1 << 31
	rbDiscard = 1 << 30
	rbHdrLen  = 8
)

// Reader reads one ring in place: the records a Read returns point into
// the ring's memory and stay valid until the next Read, which is when the
// reader hands their space back to the kernel. It is a zero-copy reader
// for one goroutine; cilium/ebpf's ringbuf.Reader copies each record and
// takes a lock for each (RATIONALE.md).
type Reader struct {
	epfd     int
	cons     []byte // consumer page (read-write)
	prod     []byte // producer page and the data pages, mapped twice
	consPos  *uint64
	prodPos  *uint64
	data     []byte
	mask     uint64
	pos      uint64 // consumer position after the records handed out
	events   [1]unix.EpollEvent
	closed   bool
	Wakeups  uint64 // times Read slept in epoll_wait
	ringSize int
}

// NewReader maps ring m, a BPF ring buffer, for reading.
func NewReader(m *ebpf.Map) (*Reader, error) {
	if m.Type() != ebpf.RingBuf {
		return nil, fmt.Errorf("passive: map of type %v is not a ring buffer", m.Type())
	}
	size := int(m.MaxEntries())
	page := os.Getpagesize()
	r := &Reader{epfd: -1, ringSize: size, mask: uint64(size - 1)}
	var err error
	if r.cons, err = unix.Mmap(m.FD(), 0, page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED); err != nil {
		return nil, fmt.Errorf("passive: map the consumer page: %w", err)
	}
	if r.prod, err = unix.Mmap(m.FD(), int64(page), page+2*size, unix.PROT_READ, unix.MAP_SHARED); err != nil {
		r.Close()
		return nil, fmt.Errorf("passive: map the ring: %w", err)
	}
	r.consPos = (*uint64)(unsafe.Pointer(&r.cons[0]))
	r.prodPos = (*uint64)(unsafe.Pointer(&r.prod[0]))
	r.data = r.prod[page:]
	r.pos = atomic.LoadUint64(r.consPos)
	if r.epfd, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC); err != nil {
		r.Close()
		return nil, fmt.Errorf("passive: epoll: %w", err)
	}
	if err := unix.EpollCtl(r.epfd, unix.EPOLL_CTL_ADD, m.FD(), &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(m.FD())}); err != nil {
		r.Close()
		return nil, fmt.Errorf("passive: epoll the ring: %w", err)
	}
	return r, nil
}

// ErrClosed is returned by Read on a closed Reader.
var ErrClosed = errors.New("passive: reader closed")

// Read hands the space of the records it returned last back to the
// kernel, waits up to timeout for records when there are none, and stores
// up to len(recs) of them in recs (each a header and the packet bytes, as
// Parse reads them), returning how many. It returns 0 when none came.
func (r *Reader) Read(recs [][]byte, timeout time.Duration) (int, error) {
	if r.closed {
		return 0, ErrClosed
	}
	atomic.StoreUint64(r.consPos, r.pos)
	prod := atomic.LoadUint64(r.prodPos)
	// A zero timeout only looks: epoll_wait would return at once, and the
	// producer position says the same without the system call (the merged
	// reader looks at every empty ring once or twice per batch).
	if prod == r.pos && timeout != 0 {
		r.Wakeups++
		if _, err := unix.EpollWait(r.epfd, r.events[:], int(timeout/time.Millisecond)); err != nil && !errors.Is(err, unix.EINTR) {
			return 0, fmt.Errorf("passive: wait for the ring: %w", err)
		}
		prod = atomic.LoadUint64(r.prodPos)
	}
	return r.scan(recs, prod), nil
}

// More stores in recs up to len(recs) records committed after those the
// last Read and More returned, without handing any space back to the
// kernel and without waiting, and returns how many. The records of the
// last Read stay valid.
func (r *Reader) More(recs [][]byte) int {
	if r.closed {
		return 0
	}
	return r.scan(recs, atomic.LoadUint64(r.prodPos))
}

// scan stores the committed records from r.pos up to prod in recs and
// moves r.pos past them.
func (r *Reader) scan(recs [][]byte, prod uint64) int {
	n := 0
	pos := r.pos
	for n < len(recs) && pos < prod {
		start := pos & r.mask
		// The length word is written last by the kernel (with the busy
		// bit cleared): load it atomically before reading the record.
		hdr := atomic.LoadUint32((*uint32)(unsafe.Pointer(&r.data[start])))
		if hdr&rbBusy != 0 {
			break // not committed yet; the next Read finds it
		}
		length := uint64(hdr &^ (rbBusy | rbDiscard))
		if hdr&rbDiscard == 0 {
			b := start + rbHdrLen
			recs[n] = r.data[b : b+length : b+length]
			n++
		}
		pos += (rbHdrLen + length + 7) &^ 7
	}
	r.pos = pos
	return n
}

// Pending returns the bytes of records not yet handed out.
func (r *Reader) Pending() uint64 { return atomic.LoadUint64(r.prodPos) - r.pos }

// Close unmaps the ring. It must not run while a Read does.
func (r *Reader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	var errs []error
	if r.prod != nil {
		errs = append(errs, unix.Munmap(r.prod))
	}
	if r.cons != nil {
		errs = append(errs, unix.Munmap(r.cons))
	}
	if r.epfd >= 0 {
		errs = append(errs, unix.Close(r.epfd))
	}
	return errors.Join(errs...)
}
