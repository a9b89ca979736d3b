// Package afpacket captures packets through AF_PACKET sockets with a
// TPACKET_V3 block ring: the kernel fills whole blocks of frames, the reader
// walks a block without a system call per packet and hands the block back.
// Several sockets can share the load by flow hash (PACKET_FANOUT), the
// verified classic BPF filter runs in the kernel before the copy
// (SO_ATTACH_FILTER), and the kernel's counters (PACKET_STATISTICS) say how
// many packets it dropped.
//
// The kernel strips VLAN tags into packet metadata before AF_PACKET sees the
// frame; like libpcap, the reader puts the tag back into the frame, so
// frames look as they did on the wire and filters see the tag in-band.
package afpacket

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/wringcap/wring/spec"
)

// Config sizes the ring. The zero value picks the defaults.
type Config struct {
	BlockSize   uint32        // bytes per block, a multiple of the page size (default 1 MiB)
	Blocks      uint32        // number of blocks (default 64: a 64 MiB ring)
	Timeout     time.Duration // how long the kernel holds a partly filled block (default 10 ms)
	Snaplen     uint32        // bytes kept per frame by the kernel (default 262144)
	Fanout      bool          // join fanout group FanoutID: sockets in one group share the flows by hash
	FanoutID    uint16        // the fanout group
	Promiscuous bool          // put the interface in promiscuous mode while open
}

func (c Config) withDefaults() Config {
	if c.BlockSize == 0 {
		c.BlockSize = 1 << 20
	}
	if c.Blocks == 0 {
		c.Blocks = 64
	}
	if c.Timeout == 0 {
		c.Timeout = 10 * time.Millisecond
	}
	if c.Snaplen == 0 {
		c.Snaplen = 262144
	}
	return c
}

// Frame is one received frame. Data points into the ring and is valid until
// the block is released.
type Frame struct {
	Data    []byte
	WireLen uint32 // length on the wire (with a restored VLAN tag)
	Sec     uint32
	Nsec    uint32
	RxHash  uint32
}

// Stats are the kernel's counters since the socket was opened.
type Stats struct {
	Packets uint64 // packets that passed the filter, including the dropped ones
	Drops   uint64 // packets that passed the filter but found the ring full
	Freezes uint64 // times the queue was frozen
}

// Socket is one AF_PACKET socket with its ring.
type Socket struct {
	fd      int
	ifindex int
	cfg     Config
	ring    []byte
	block   uint32 // next block to read
	pending bool   // a block is handed out and not yet released
	pollfds [1]unix.PollFd
	statsMu sync.Mutex
	stats   Stats
	closed  bool
}

// ErrClosed is returned by Receive on a closed socket.
var ErrClosed = errors.New("afpacket: socket closed")

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// Open creates a socket bound to ifindex with a TPACKET_V3 ring. When
// filter is not nil it is attached before the socket is bound, so no
// unfiltered frame reaches the ring.
func Open(ifindex int, filter spec.Program, cfg Config) (*Socket, error) {
	cfg = cfg.withDefaults()
	if cfg.BlockSize%uint32(unix.Getpagesize()) != 0 {
		return nil, fmt.Errorf("afpacket: block size %d is not a multiple of the page size", cfg.BlockSize)
	}
	// Protocol 0: receive nothing until bound, so the filter is in place
	// before the first frame.
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("afpacket: socket: %w", err)
	}
	s := &Socket{fd: fd, ifindex: ifindex, cfg: cfg}
	if err := s.setup(filter); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return s, nil
}

func (s *Socket) setup(filter spec.Program) error {
	cfg := s.cfg
	if err := unix.SetsockoptInt(s.fd, unix.SOL_PACKET, unix.PACKET_VERSION, unix.TPACKET_V3); err != nil {
		return fmt.Errorf("afpacket: TPACKET_V3: %w", err)
	}
	// Room in front of each frame to put a stripped VLAN tag back.
	if err := unix.SetsockoptInt(s.fd, unix.SOL_PACKET, unix.PACKET_RESERVE, 4); err != nil {
		return fmt.Errorf("afpacket: reserve: %w", err)
	}
	if filter != nil {
		if err := attach(s.fd, filter); err != nil {
			return err
		}
	}
	req := unix.TpacketReq3{
		Block_size:     cfg.BlockSize,
		Block_nr:       cfg.Blocks,
		Frame_size:     2048, // TPACKET_V3 ignores it for placement; it must divide the block
		Frame_nr:       cfg.BlockSize / 2048 * cfg.Blocks,
		Retire_blk_tov: uint32(cfg.Timeout / time.Millisecond),
	}
	if req.Retire_blk_tov == 0 {
		req.Retire_blk_tov = 1
	}
	if _, _, e := unix.Syscall6(unix.SYS_SETSOCKOPT, uintptr(s.fd), unix.SOL_PACKET, unix.PACKET_RX_RING,
		uintptr(unsafe.Pointer(&req)), unsafe.Sizeof(req), 0); e != 0 {
		return fmt.Errorf("afpacket: rx ring of %d x %d bytes: %w", cfg.Blocks, cfg.BlockSize, e)
	}
	ring, err := unix.Mmap(s.fd, 0, int(cfg.BlockSize*cfg.Blocks), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_LOCKED|unix.MAP_POPULATE)
	if err != nil {
		ring, err = unix.Mmap(s.fd, 0, int(cfg.BlockSize*cfg.Blocks), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
		if err != nil {
			return fmt.Errorf("afpacket: map ring: %w", err)
		}
	}
	s.ring = ring
	if err := unix.Bind(s.fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: s.ifindex}); err != nil {
		return fmt.Errorf("afpacket: bind ifindex %d: %w", s.ifindex, err)
	}
	if cfg.Promiscuous {
		mreq := unix.PacketMreq{Ifindex: int32(s.ifindex), Type: unix.PACKET_MR_PROMISC}
		if err := unix.SetsockoptPacketMreq(s.fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, &mreq); err != nil {
			return fmt.Errorf("afpacket: promiscuous mode: %w", err)
		}
	}
	if cfg.Fanout {
		arg := int(cfg.FanoutID) | (unix.PACKET_FANOUT_HASH|unix.PACKET_FANOUT_FLAG_DEFRAG)<<16
		if err := unix.SetsockoptInt(s.fd, unix.SOL_PACKET, unix.PACKET_FANOUT, arg); err != nil {
			return fmt.Errorf("afpacket: join fanout group %d: %w", cfg.FanoutID, err)
		}
	}
	s.pollfds[0] = unix.PollFd{Fd: int32(s.fd), Events: unix.POLLIN | unix.POLLERR}
	return nil
}

// attach installs a classic BPF program as the socket's kernel filter.
func attach(fd int, prog spec.Program) error {
	if len(prog) == 0 {
		return errors.New("afpacket: empty filter")
	}
	fp := unix.SockFprog{Len: uint16(len(prog)), Filter: (*unix.SockFilter)(unsafe.Pointer(&prog[0]))}
	if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &fp); err != nil {
		return fmt.Errorf("afpacket: attach filter of %d instructions: %w", len(prog), err)
	}
	return nil
}

func (s *Socket) blockHeader(i uint32) *unix.TpacketHdrV1 {
	off := uintptr(i) * uintptr(s.cfg.BlockSize)
	return (*unix.TpacketHdrV1)(unsafe.Pointer(&s.ring[off+unsafe.Offsetof(unix.TpacketBlockDesc{}.Hdr)]))
}

// Receive waits up to timeout for the next block of frames and appends its
// frames to dst (which it returns). The frames stay valid until Release; a
// block must be released before the next Receive. A negative timeout waits
// forever, zero does not wait.
func (s *Socket) Receive(dst []Frame, timeout time.Duration) ([]Frame, error) {
	if s.closed {
		return dst, ErrClosed
	}
	if s.pending {
		s.Release()
	}
	h := s.blockHeader(s.block)
	if atomic.LoadUint32(&h.Block_status)&unix.TP_STATUS_USER == 0 {
		if timeout == 0 {
			return dst, nil
		}
		ms := -1
		if timeout > 0 {
			ms = int(timeout / time.Millisecond)
			if ms == 0 {
				ms = 1
			}
		}
		if _, err := unix.Poll(s.pollfds[:], ms); err != nil && !errors.Is(err, unix.EINTR) {
			return dst, fmt.Errorf("afpacket: poll: %w", err)
		}
		if atomic.LoadUint32(&h.Block_status)&unix.TP_STATUS_USER == 0 {
			return dst, nil
		}
	}
	s.pending = true
	base := uintptr(s.block) * uintptr(s.cfg.BlockSize)
	off := base + uintptr(h.Offset_to_first_pkt)
	end := base + uintptr(s.cfg.BlockSize)
	for i := uint32(0); i < h.Num_pkts && off+unsafe.Sizeof(unix.Tpacket3Hdr{}) <= end; i++ {
		ph := (*unix.Tpacket3Hdr)(unsafe.Pointer(&s.ring[off]))
		mac := off + uintptr(ph.Mac)
		capLen := uintptr(ph.Snaplen)
		if mac+capLen > end {
			break // a corrupt header: never read past the block
		}
		f := Frame{Sec: ph.Sec, Nsec: ph.Nsec, WireLen: ph.Len, RxHash: ph.Hv1.Rxhash}
		if ph.Status&unix.TP_STATUS_VLAN_VALID != 0 && capLen >= 12 && mac >= off+unsafe.Sizeof(unix.Tpacket3Hdr{})+4 {
			// Put the stripped tag back: move the two MAC addresses 4 bytes
			// forward into the reserved room and write TPID and TCI.
			tpid := ph.Hv1.Vlan_tpid
			if tpid == 0 || ph.Status&unix.TP_STATUS_VLAN_TPID_VALID == 0 {
				tpid = 0x8100
			}
			copy(s.ring[mac-4:mac+8], s.ring[mac:mac+12])
			binary.BigEndian.PutUint16(s.ring[mac+8:], tpid)
			binary.BigEndian.PutUint16(s.ring[mac+10:], uint16(ph.Hv1.Vlan_tci))
			mac -= 4
			capLen += 4
			f.WireLen += 4
		}
		f.Data = s.ring[mac : mac+capLen : mac+capLen]
		dst = append(dst, f)
		if ph.Next_offset == 0 {
			break
		}
		off += uintptr(ph.Next_offset)
	}
	return dst, nil
}

// Release hands the current block back to the kernel.
func (s *Socket) Release() {
	if !s.pending {
		return
	}
	h := s.blockHeader(s.block)
	atomic.StoreUint32(&h.Block_status, unix.TP_STATUS_KERNEL)
	s.block = (s.block + 1) % s.cfg.Blocks
	s.pending = false
}

// Stats returns the kernel's counters accumulated since Open. (The kernel
// resets its own counters at every read; Stats keeps the running sums.)
func (s *Socket) Stats() (Stats, error) {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	var st unix.TpacketStatsV3
	optlen := uint32(unsafe.Sizeof(st))
	if _, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(s.fd), unix.SOL_PACKET, unix.PACKET_STATISTICS,
		uintptr(unsafe.Pointer(&st)), uintptr(unsafe.Pointer(&optlen)), 0); e != 0 {
		return s.stats, fmt.Errorf("afpacket: statistics: %w", e)
	}
	s.stats.Packets += uint64(st.Packets)
	s.stats.Drops += uint64(st.Drops)
	s.stats.Freezes += uint64(st.Freeze_q_cnt)
	return s.stats, nil
}

// Close unmaps the ring and closes the socket.
func (s *Socket) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	if s.ring != nil {
		_ = unix.Munmap(s.ring)
	}
	return unix.Close(s.fd)
}
