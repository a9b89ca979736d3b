package afpacket

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/wringcap/wring/internal/linux"
	"github.com/wringcap/wring/spec"
)

// Socket is one AF_PACKET socket with its ring.
type Socket struct {
	fd      int
	ifindex int
	cooked  bool // bound to every interface: SOCK_DGRAM, an SLL2 header put in front
	cfg     Config
	ring    []byte
	block   uint32 // next block to read
	pending bool   // a block is handed out and not yet released
	pollfds [1]linux.PollFd
	statsMu sync.Mutex
	stats   Stats
	// statsFinal: the socket is closed and stats holds its last counts.
	statsFinal bool
	closed     bool
}

// hdrLen is TPACKET_ALIGN(sizeof(struct tpacket3_hdr)): where the
// sockaddr_ll of each frame starts.
var hdrLen = (unsafe.Sizeof(linux.Tpacket3Hdr{}) + linux.TPACKET_ALIGNMENT - 1) &^ (linux.TPACKET_ALIGNMENT - 1)

// Open creates a socket bound to ifindex with a TPACKET_V3 ring; ifindex 0
// captures on every interface, cooked (see the package doc). When filter is
// not nil it is attached before the socket is bound, so no unfiltered frame
// reaches the ring. Without CAP_NET_RAW the error wraps EPERM.
func Open(ifindex int, filter spec.Program, cfg Config) (*Socket, error) {
	cfg = cfg.withDefaults()
	if cfg.BlockSize%uint32(linux.Getpagesize()) != 0 {
		return nil, fmt.Errorf("afpacket: block size %d is not a multiple of the page size", cfg.BlockSize)
	}
	typ := linux.SOCK_RAW
	if ifindex == 0 {
		typ = linux.SOCK_DGRAM
	}
	// Protocol 0: receive nothing until bound, so the filter is in place
	// before the first frame.
	fd, err := linux.Socket(linux.AF_PACKET, typ|linux.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("afpacket: socket: %w", err)
	}
	s := &Socket{fd: fd, ifindex: ifindex, cooked: ifindex == 0, cfg: cfg}
	if err := s.setup(filter); err != nil {
		linux.Close(fd)
		return nil, err
	}
	return s, nil
}

func (s *Socket) setup(filter spec.Program) error {
	cfg := s.cfg
	if err := linux.SetsockoptInt(s.fd, linux.SOL_PACKET, linux.PACKET_VERSION, linux.TPACKET_V3); err != nil {
		return fmt.Errorf("afpacket: TPACKET_V3: %w", err)
	}
	// Room in front of each frame to put a stripped VLAN tag back, or the
	// cooked header in.
	reserve := 4
	if s.cooked {
		reserve = SLL2HeaderLen
	}
	if err := linux.SetsockoptInt(s.fd, linux.SOL_PACKET, linux.PACKET_RESERVE, reserve); err != nil {
		return fmt.Errorf("afpacket: reserve: %w", err)
	}
	if filter != nil {
		if err := attach(s.fd, filter); err != nil {
			return err
		}
	}
	if cfg.IgnoreOutgoing {
		if err := linux.SetsockoptInt(s.fd, linux.SOL_PACKET, linux.PACKET_IGNORE_OUTGOING, 1); err != nil {
			return fmt.Errorf("afpacket: ignore outgoing frames: %w", err)
		}
	}
	req := linux.TpacketReq3{
		Block_size:     cfg.BlockSize,
		Block_nr:       cfg.Blocks,
		Frame_size:     2048, // TPACKET_V3 ignores it for placement; it must divide the block
		Frame_nr:       cfg.BlockSize / 2048 * cfg.Blocks,
		Retire_blk_tov: uint32(cfg.Timeout / time.Millisecond),
	}
	if req.Retire_blk_tov == 0 {
		req.Retire_blk_tov = 1
	}
	if err := linux.SetsockoptTpacketReq3(s.fd, linux.SOL_PACKET, linux.PACKET_RX_RING, &req); err != nil {
		return fmt.Errorf("afpacket: rx ring of %d x %d bytes: %w", cfg.Blocks, cfg.BlockSize, err)
	}
	size := int(cfg.BlockSize * cfg.Blocks)
	ring, err := linux.Mmap(s.fd, 0, size, linux.PROT_READ|linux.PROT_WRITE, linux.MAP_SHARED|linux.MAP_LOCKED|linux.MAP_POPULATE)
	if err != nil {
		ring, err = linux.Mmap(s.fd, 0, size, linux.PROT_READ|linux.PROT_WRITE, linux.MAP_SHARED)
		if err != nil {
			return fmt.Errorf("afpacket: map ring: %w", err)
		}
	}
	s.ring = ring
	if err := linux.Bind(s.fd, &linux.SockaddrLinklayer{Protocol: htons(linux.ETH_P_ALL), Ifindex: s.ifindex}); err != nil {
		return fmt.Errorf("afpacket: bind ifindex %d: %w", s.ifindex, err)
	}
	if cfg.Promiscuous && s.ifindex != 0 {
		mreq := linux.PacketMreq{Ifindex: int32(s.ifindex), Type: linux.PACKET_MR_PROMISC}
		if err := linux.SetsockoptPacketMreq(s.fd, linux.SOL_PACKET, linux.PACKET_ADD_MEMBERSHIP, &mreq); err != nil {
			return fmt.Errorf("afpacket: promiscuous mode: %w", err)
		}
	}
	if cfg.Fanout {
		arg := int(cfg.FanoutID) | (linux.PACKET_FANOUT_HASH|linux.PACKET_FANOUT_FLAG_DEFRAG)<<16
		if err := linux.SetsockoptInt(s.fd, linux.SOL_PACKET, linux.PACKET_FANOUT, arg); err != nil {
			return fmt.Errorf("afpacket: join fanout group %d: %w", cfg.FanoutID, err)
		}
	}
	s.pollfds[0] = linux.PollFd{Fd: int32(s.fd), Events: linux.POLLIN | linux.POLLERR}
	return nil
}

// attach installs a classic BPF program as the socket's kernel filter.
func attach(fd int, prog spec.Program) error {
	if len(prog) == 0 {
		return errors.New("afpacket: empty filter")
	}
	fp := linux.SockFprog{Len: uint16(len(prog)), Filter: (*linux.SockFilter)(unsafe.Pointer(&prog[0]))}
	if err := linux.SetsockoptSockFprog(fd, linux.SOL_SOCKET, linux.SO_ATTACH_FILTER, &fp); err != nil {
		return fmt.Errorf("afpacket: attach filter of %d instructions: %w", len(prog), err)
	}
	return nil
}

func (s *Socket) blockHeader(i uint32) *linux.TpacketHdrV1 {
	off := uintptr(i) * uintptr(s.cfg.BlockSize)
	return (*linux.TpacketHdrV1)(unsafe.Pointer(&s.ring[off+unsafe.Offsetof(linux.TpacketBlockDesc{}.Hdr)]))
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
	if atomic.LoadUint32(&h.Block_status)&linux.TP_STATUS_USER == 0 {
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
		if _, err := linux.Poll(s.pollfds[:], ms); err != nil && !errors.Is(err, linux.EINTR) {
			return dst, fmt.Errorf("afpacket: poll: %w", err)
		}
		if atomic.LoadUint32(&h.Block_status)&linux.TP_STATUS_USER == 0 {
			return dst, nil
		}
	}
	s.pending = true
	base := uintptr(s.block) * uintptr(s.cfg.BlockSize)
	off := base + uintptr(h.Offset_to_first_pkt)
	end := base + uintptr(s.cfg.BlockSize)
	const sllLen = unsafe.Sizeof(linux.RawSockaddrLinklayer{})
	for i := uint32(0); i < h.Num_pkts && off+hdrLen+sllLen <= end; i++ {
		ph := (*linux.Tpacket3Hdr)(unsafe.Pointer(&s.ring[off]))
		sll := (*linux.RawSockaddrLinklayer)(unsafe.Pointer(&s.ring[off+hdrLen]))
		mac := off + uintptr(ph.Mac)
		capLen := uintptr(ph.Snaplen)
		if mac+capLen > end || mac < off+hdrLen+sllLen {
			break // a corrupt header: never read past the block
		}
		f := Frame{Sec: ph.Sec, Nsec: ph.Nsec, WireLen: ph.Len, RxHash: ph.Hv1.Rxhash, Ifindex: sll.Ifindex, PktType: sll.Pkttype}
		switch {
		case s.cooked:
			if mac < off+hdrLen+sllLen+SLL2HeaderLen {
				break // no room (the reserve guarantees it): leave the frame uncooked
			}
			// LINUX_SLL2: protocol, reserved, ifindex, ARPHRD type,
			// packet type, address length, 8 address bytes; the VLAN tag
			// is not put back (libpcap does not on SLL2 either).
			hdr := s.ring[mac-SLL2HeaderLen : mac]
			binary.NativeEndian.PutUint16(hdr[0:], sll.Protocol) // already in network order
			hdr[2], hdr[3] = 0, 0
			binary.BigEndian.PutUint32(hdr[4:], uint32(sll.Ifindex))
			binary.BigEndian.PutUint16(hdr[8:], sll.Hatype)
			hdr[10], hdr[11] = sll.Pkttype, sll.Halen
			copy(hdr[12:20], sll.Addr[:])
			mac -= SLL2HeaderLen
			capLen += SLL2HeaderLen
			f.WireLen += SLL2HeaderLen
		case ph.Status&linux.TP_STATUS_VLAN_VALID != 0 && capLen >= 12 && mac >= off+hdrLen+sllLen+4:
			// Put the stripped tag back: move the two MAC addresses 4 bytes
			// forward into the reserved room and write TPID and TCI.
			tpid := ph.Hv1.Vlan_tpid
			if tpid == 0 || ph.Status&linux.TP_STATUS_VLAN_TPID_VALID == 0 {
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
	atomic.StoreUint32(&h.Block_status, linux.TP_STATUS_KERNEL)
	s.block = (s.block + 1) % s.cfg.Blocks
	s.pending = false
}

// Stats returns the kernel's counters accumulated since Open. (The kernel
// resets its own counters at every read; Stats keeps the running sums.)
func (s *Socket) Stats() (Stats, error) {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	if s.statsFinal {
		return s.stats, nil // closed: the counts read as it closed
	}
	st, err := linux.GetsockoptTpacketStatsV3(s.fd, linux.SOL_PACKET, linux.PACKET_STATISTICS)
	if err != nil {
		return s.stats, fmt.Errorf("afpacket: statistics: %w", err)
	}
	s.stats.Packets += uint64(st.Packets)
	s.stats.Drops += uint64(st.Drops)
	s.stats.Freezes += uint64(st.Freeze_q_cnt)
	return s.stats, nil
}

// Close unmaps the ring and closes the socket. Stats afterwards returns
// the counts as they were when it closed, without touching the closed
// descriptor (whose number the process may have reused).
func (s *Socket) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	_, _ = s.Stats()
	s.statsMu.Lock()
	s.statsFinal = true
	s.statsMu.Unlock()
	if s.ring != nil {
		_ = linux.Munmap(s.ring)
	}
	return linux.Close(s.fd)
}
