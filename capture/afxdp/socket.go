//go:build linux

package afxdp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	unix "github.com/wringcap/wring/internal/linux" // the x/sys/unix names, through wring's one door
)

// Mode is how a socket is bound to its queue.
type Mode int

// Binding modes, from the fastest.
const (
	ModeAuto     Mode = iota // zero-copy if the driver supports it, else copy
	ModeZeroCopy             // XDP_ZEROCOPY only
	ModeCopy                 // XDP_COPY only
)

func (m Mode) String() string {
	switch m {
	case ModeZeroCopy:
		return "zero-copy"
	case ModeCopy:
		return "copy"
	}
	return "auto"
}

// Config sizes a socket. The zero value picks the defaults.
type Config struct {
	// Frames is the number of UMEM frames (default 32768: 64 MiB of 2 KiB
	// frames). Small UMEMs drop under scheduler jitter: the consumer must be
	// able to fall behind by a whole time slice.
	Frames uint32
	// FrameSize is the UMEM chunk size, 2048 or 4096 (default 2048).
	FrameSize uint32
	// RingSize is the number of entries of the fill and RX rings, a power
	// of two (default: the smallest that holds Frames). The kernel receives
	// only into frames the fill ring holds, so frames beyond RingSize wait
	// in userspace and add nothing to what the socket absorbs while its
	// reader is descheduled: by default every frame fits.
	RingSize uint32
	// Mode selects zero-copy, copy, or the best available.
	Mode Mode
}

func (c Config) withDefaults() Config {
	if c.Frames == 0 {
		c.Frames = 32768
	}
	if c.FrameSize == 0 {
		c.FrameSize = 2048
	}
	if c.RingSize == 0 {
		c.RingSize = 1
		for c.RingSize < c.Frames && c.RingSize < 1<<31 {
			c.RingSize *= 2
		}
	}
	return c
}

func (c Config) validate() error {
	if c.FrameSize != 2048 && c.FrameSize != 4096 {
		return fmt.Errorf("afxdp: frame size %d: must be 2048 or 4096", c.FrameSize)
	}
	if c.RingSize&(c.RingSize-1) != 0 || c.RingSize == 0 {
		return fmt.Errorf("afxdp: ring size %d: must be a power of two", c.RingSize)
	}
	return nil
}

// Stats are the kernel's counters for one socket (XDP_STATISTICS). Frames
// lost in the kernel are RxDropped + RxRingFull; RxFillRingEmpty says how
// many of RxDropped found no free frame.
type Stats struct {
	RxDropped        uint64 // dropped before the RX ring (includes RxFillRingEmpty)
	RxInvalidDescs   uint64 // invalid RX descriptors
	RxRingFull       uint64 // dropped because the RX ring was full
	RxFillRingEmpty  uint64 // of RxDropped: the fill ring had no free frame
	TxInvalidDescs   uint64
	TxRingEmptyDescs uint64
}

// Lost returns the frames the kernel matched for the socket but lost.
func (st Stats) Lost() uint64 { return st.RxDropped + st.RxRingFull }

// Socket is one AF_XDP socket bound to one receive queue.
type Socket struct {
	fd       int
	ifindex  int
	queue    int
	mode     Mode // the mode actually bound
	cfg      Config
	umem     []byte
	fill, rx *ring
	comp     *ring
	held     []uint64 // frames handed out by Receive, returned by Release
	pollfds  [1]unix.PollFd
	closed   bool
	// statsMu guards final, the kernel's counters as the socket closed,
	// which Stats returns from then on.
	statsMu sync.Mutex
	final   *Stats
	// stampInFrame: the program writes each frame's stamp in front of
	// its data (Program.StampInFrame), not in the metadata area.
	stampInFrame bool
	readWaits    atomic.Uint64 // times Receive slept in poll
}

// ReadWaits returns how many times Receive has slept in poll so far; it
// may be called from any goroutine.
func (s *Socket) ReadWaits() uint64 { return s.readWaits.Load() }

// ErrNotSupported is returned when the kernel or the driver cannot do what
// was asked (no AF_XDP, no zero-copy); callers fall back. It is the one
// value of capture.ErrNotSupported.
var ErrNotSupported = unix.ErrNotSupported

// NewSocket creates a socket with its UMEM and rings and binds it to
// (ifindex, queue). The socket receives nothing until its descriptor is put
// in the XSKMAP of an attached XDP program (see Program.Register).
func NewSocket(ifindex, queue int, cfg Config) (*Socket, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	fd, err := unix.Socket(unix.AF_XDP, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.EAFNOSUPPORT) {
			return nil, fmt.Errorf("afxdp: socket: %w: %w", ErrNotSupported, err)
		}
		return nil, fmt.Errorf("afxdp: socket: %w", err)
	}
	s := &Socket{fd: fd, ifindex: ifindex, queue: queue, cfg: cfg}
	if err := s.setup(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Socket) setup() error {
	cfg := s.cfg
	size := int(cfg.Frames) * int(cfg.FrameSize)
	umem, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_POPULATE)
	if err != nil {
		return fmt.Errorf("afxdp: umem of %d bytes: %w", size, err)
	}
	s.umem = umem
	reg := unix.XDPUmemReg{Addr: uint64(uintptr(unsafe.Pointer(&umem[0]))), Len: uint64(size), Size: cfg.FrameSize}
	if _, _, e := unix.Syscall6(unix.SYS_SETSOCKOPT, uintptr(s.fd), unix.SOL_XDP, unix.XDP_UMEM_REG,
		uintptr(unsafe.Pointer(&reg)), unsafe.Sizeof(reg), 0); e != 0 {
		return fmt.Errorf("afxdp: register umem: %w", e)
	}
	for _, o := range []struct {
		opt int
		n   uint32
	}{{unix.XDP_UMEM_FILL_RING, cfg.RingSize}, {unix.XDP_UMEM_COMPLETION_RING, cfg.RingSize}, {unix.XDP_RX_RING, cfg.RingSize}} {
		if err := unix.SetsockoptInt(s.fd, unix.SOL_XDP, o.opt, int(o.n)); err != nil {
			return fmt.Errorf("afxdp: ring size option %d: %w", o.opt, err)
		}
	}
	var off unix.XDPMmapOffsets
	optlen := uint32(unsafe.Sizeof(off))
	if _, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(s.fd), unix.SOL_XDP, unix.XDP_MMAP_OFFSETS,
		uintptr(unsafe.Pointer(&off)), uintptr(unsafe.Pointer(&optlen)), 0); e != 0 {
		return fmt.Errorf("afxdp: mmap offsets: %w", e)
	}
	if s.fill, err = mapRing(s.fd, off.Fr, cfg.RingSize, 8, unix.XDP_UMEM_PGOFF_FILL_RING); err != nil {
		return fmt.Errorf("afxdp: map fill ring: %w", err)
	}
	if s.comp, err = mapRing(s.fd, off.Cr, cfg.RingSize, 8, unix.XDP_UMEM_PGOFF_COMPLETION_RING); err != nil {
		return fmt.Errorf("afxdp: map completion ring: %w", err)
	}
	if s.rx, err = mapRing(s.fd, off.Rx, cfg.RingSize, unsafe.Sizeof(unix.XDPDesc{}), unix.XDP_PGOFF_RX_RING); err != nil {
		return fmt.Errorf("afxdp: map rx ring: %w", err)
	}
	if err := s.bind(); err != nil {
		return err
	}
	// Hand the kernel as many frames as the fill ring holds; the rest wait
	// in held for Release to cycle them in.
	s.held = make([]uint64, 0, cfg.Frames)
	for i := cfg.Frames; i > 0; i-- {
		s.held = append(s.held, uint64(i-1)*uint64(cfg.FrameSize))
	}
	s.refill()
	s.pollfds[0] = unix.PollFd{Fd: int32(s.fd), Events: unix.POLLIN}
	return nil
}

func (s *Socket) bind() error {
	try := func(flags uint16) error {
		return unix.Bind(s.fd, &unix.SockaddrXDP{Flags: flags | unix.XDP_USE_NEED_WAKEUP, Ifindex: uint32(s.ifindex), QueueID: uint32(s.queue)})
	}
	switch s.cfg.Mode {
	case ModeZeroCopy:
		if err := try(unix.XDP_ZEROCOPY); err != nil {
			return fmt.Errorf("afxdp: bind ifindex %d queue %d zero-copy: %w: %w", s.ifindex, s.queue, ErrNotSupported, err)
		}
		s.mode = ModeZeroCopy
	case ModeCopy:
		if err := try(unix.XDP_COPY); err != nil {
			return fmt.Errorf("afxdp: bind ifindex %d queue %d copy mode: %w", s.ifindex, s.queue, err)
		}
		s.mode = ModeCopy
	default:
		if err := try(unix.XDP_ZEROCOPY); err == nil {
			s.mode = ModeZeroCopy
			return nil
		}
		if err := try(unix.XDP_COPY); err != nil {
			return fmt.Errorf("afxdp: bind ifindex %d queue %d: %w", s.ifindex, s.queue, err)
		}
		s.mode = ModeCopy
	}
	return nil
}

// FD returns the socket's descriptor, for the XSKMAP.
func (s *Socket) FD() int { return s.fd }

// Queue returns the receive queue the socket is bound to.
func (s *Socket) Queue() int { return s.queue }

// Mode returns the binding mode in use (zero-copy or copy).
func (s *Socket) Mode() Mode { return s.mode }

// refill moves held frames into the fill ring, as many as fit, and wakes the
// kernel if it asked.
func (s *Socket) refill() {
	n := s.fill.free()
	if h := uint32(len(s.held)); h < n {
		n = h
	}
	if n == 0 {
		return
	}
	base := s.fill.cachedProd
	for i := uint32(0); i < n; i++ {
		*s.fill.addr(base + i) = s.held[len(s.held)-1-int(i)]
	}
	s.held = s.held[:len(s.held)-int(n)]
	s.fill.submit(n)
}

// Receive waits up to timeout for frames and stores up to len(bufs) of them
// in bufs, returning how many. The slices point into the UMEM and stay valid
// until the next Release, which must come before the next Receive.
// A zero timeout polls without sleeping; a negative one waits forever.
func (s *Socket) Receive(bufs [][]byte, timeout time.Duration) (int, error) {
	return s.ReceiveStamped(bufs, nil, timeout)
}

// ReceiveStamped is Receive that also stores in stamps[i] (when stamps is
// not nil; it must be as long as bufs) the kernel TAI time, in
// nanoseconds, the XDP program wrote in front of frame i (see MetaLen), or
// 0 when the frame carries none. It clears each stamp it reads, so a frame
// reused without one never shows an old one.
func (s *Socket) ReceiveStamped(bufs [][]byte, stamps []int64, timeout time.Duration) (int, error) {
	if s.closed {
		return 0, errors.New("afxdp: receive on a closed socket")
	}
	avail := s.rx.available()
	if avail == 0 {
		if s.fill.needWakeup() || timeout != 0 {
			ms := -1
			if timeout >= 0 {
				ms = int(timeout / time.Millisecond)
			}
			s.readWaits.Add(1)
			if _, err := unix.Poll(s.pollfds[:], ms); err != nil && !errors.Is(err, unix.EINTR) {
				return 0, fmt.Errorf("afxdp: poll queue %d: %w", s.queue, err)
			}
		}
		avail = s.rx.available()
		if avail == 0 {
			return 0, nil
		}
	}
	n := uint32(len(bufs))
	if avail < n {
		n = avail
	}
	mask := uint64(s.cfg.FrameSize - 1)
	for i := uint32(0); i < n; i++ {
		d := s.rx.desc(s.rx.cachedCons + i)
		bufs[i] = s.umem[d.Addr : d.Addr+uint64(d.Len) : d.Addr+uint64(d.Len)]
		if s.stampInFrame {
			// The program redirects only frames it stamped, so every
			// frame holds at least the stamp.
			if stamps != nil {
				stamps[i] = 0
				if len(bufs[i]) >= MetaLen {
					stamps[i] = int64(binary.NativeEndian.Uint64(bufs[i]))
				}
			}
			bufs[i] = bufs[i][min(MetaLen, len(bufs[i])):]
		} else if stamps != nil {
			stamps[i] = 0
			if d.Addr&mask >= MetaLen {
				p := (*uint64)(unsafe.Pointer(&s.umem[d.Addr-MetaLen]))
				stamps[i] = int64(*p)
				*p = 0
			}
		}
		s.held = append(s.held, d.Addr&^mask)
	}
	s.rx.release(n)
	return int(n), nil
}

// Pending returns how many received frames wait in the RX ring, without
// a system call.
func (s *Socket) Pending() int { return int(s.rx.available()) }

// Frames returns the number of frames in the socket's UMEM.
func (s *Socket) Frames() uint32 { return s.cfg.Frames }

// Release returns every frame handed out by Receive to the kernel.
func (s *Socket) Release() { s.refill() }

// Level says where the socket's frames are, for diagnostics: Fill is how
// many the fill ring holds as the kernel last published its consumer index
// (the kernel publishes it when it flushes a batch to the RX ring, so frames
// it took since are still counted), Held how many wait in userspace for
// Release (handed out by Receive, or not yet fitting in the fill ring).
func (s *Socket) Level() (fill uint32, held int) {
	return s.fill.cachedProd - atomic.LoadUint32(s.fill.consumer), len(s.held)
}

// Stats reads the kernel's counters for the socket; after Close, the
// counters as they were when it closed (the descriptor is not touched: the
// process may have reused its number).
func (s *Socket) Stats() (Stats, error) {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	if s.final != nil {
		return *s.final, nil
	}
	return s.readStats()
}

func (s *Socket) readStats() (Stats, error) {
	var st unix.XDPStatistics
	optlen := uint32(unsafe.Sizeof(st))
	if _, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(s.fd), unix.SOL_XDP, unix.XDP_STATISTICS,
		uintptr(unsafe.Pointer(&st)), uintptr(unsafe.Pointer(&optlen)), 0); e != 0 {
		return Stats{}, fmt.Errorf("afxdp: statistics of queue %d: %w", s.queue, e)
	}
	return Stats{
		RxDropped: st.Rx_dropped, RxInvalidDescs: st.Rx_invalid_descs, RxRingFull: st.Rx_ring_full,
		RxFillRingEmpty: st.Rx_fill_ring_empty_descs, TxInvalidDescs: st.Tx_invalid_descs, TxRingEmptyDescs: st.Tx_ring_empty_descs,
	}, nil
}

// Close unmaps the rings and the UMEM and closes the socket.
func (s *Socket) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	s.statsMu.Lock()
	final, _ := s.readStats()
	s.final = &final
	s.statsMu.Unlock()
	s.rx.unmap()
	s.fill.unmap()
	s.comp.unmap()
	err := unix.Close(s.fd)
	if s.umem != nil {
		_ = unix.Munmap(s.umem)
		s.umem = nil
	}
	return err
}
