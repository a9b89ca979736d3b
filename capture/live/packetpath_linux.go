package live

import (
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/wringcap/wring/capture/afpacket"
	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
)

// packetPath is a fanout group of AF_PACKET sockets.
type packetPath struct {
	workers  []worker
	inKernel bool
}

func (p *packetPath) describe() string {
	where := "every frame to userspace"
	if p.inKernel {
		where = "classic filter in the kernel"
	}
	return fmt.Sprintf("AF_PACKET TPACKET_V3, %d socket(s) in a fanout group, %s", len(p.workers), where)
}

func openPacket(dev Device, ifc iface, opts Options) (*packetPath, error) {
	p := &packetPath{}
	var prog spec.Program
	if k := opts.Filters.Kernel; k != nil && !ifc.cooked {
		// A cooked frame reaches the socket filter without the SLL2 header
		// the program was compiled for: such captures filter in userspace.
		prog = k.Instructions()
		p.inKernel = true
		vlan := verifier.Ancillary(spec.AncVLANTagPresent) | verifier.Ancillary(spec.AncVLANTag) | verifier.Ancillary(spec.AncVLANTPID)
		if k.Extensions()&vlan == 0 && ifc.linkType == spec.LinkEthernet {
			prog = untaggedOnly(prog)
		}
	}
	if dev.Queue >= 0 && ifc.queues > 1 {
		// Queue 0 of a single-queue device is the whole device; such
		// devices (lo, tun) often record no receive queue at all, and a
		// queue check would reject every frame.
		if prog == nil {
			prog = accept(opts.Snaplen)
		}
		prog = queueFilter(prog, dev.Name, dev.Queue)
	}
	loop := 0
	if ifc.index == 0 || ifc.index == ifc.loopIndex {
		loop = ifc.loopIndex
	}
	if opts.Direction != InOut || loop != 0 {
		if prog == nil {
			prog = accept(opts.Snaplen)
		}
		prog = directionFilter(prog, opts.Direction, loop)
	}
	n := opts.Workers
	if n <= 0 {
		n = ifc.queues
		if dev.Queue >= 0 {
			n = 1
		}
	}
	cfg := afpacket.Config{Snaplen: opts.Snaplen, Fanout: n > 1, Promiscuous: !opts.NoPromiscuous}
	cfg.FanoutID = uint16(os.Getpid()) ^ uint16(ifc.index)<<8
	if opts.BufferSize > 0 {
		cfg.SetBufferSize(opts.BufferSize/uint64(n), os.Getpagesize())
	}
	for i := 0; i < n; i++ {
		s, err := afpacket.Open(ifc.index, prog, cfg)
		if err != nil {
			for _, w := range p.workers {
				w.close()
			}
			return nil, err
		}
		cpu := -1
		if len(opts.CPUs) > 0 {
			cpu = opts.CPUs[i%len(opts.CPUs)]
		}
		label := i
		if dev.Queue >= 0 {
			label = dev.Queue
		}
		ps := &packetSource{sock: s, index: label, cpu: cpu, poll: opts.Poll, ifindex: ifc.index, linkType: ifc.linkType}
		ps.gate.free = func() { ps.sock.Close() }
		p.workers = append(p.workers, ps)
	}
	return p, nil
}

// packetSource reads one AF_PACKET socket of the fanout group.
type packetSource struct {
	sock     *afpacket.Socket
	index    int // the fanout socket's number, or the queue it keeps
	cpu      int
	ifindex  int // 0 for any: each frame says its own
	linkType spec.LinkType
	poll     time.Duration

	frames   []afpacket.Frame // the current block's frames not yet handed out
	pending  []afpacket.Frame
	pinned   bool
	received atomic.Uint64
	gate     readGate
}

// ReadBatch hands out the current ring block's frames, limit at a time, and
// releases the block to the kernel when it is used up, before waiting for
// the next one. Data is valid until the next ReadBatch. After Close it
// returns io.EOF.
func (s *packetSource) ReadBatch(b *packet.Batch, limit int) (int, error) {
	return s.gate.read(b, limit, s.readBatch)
}

// Finish says the pipeline worker is done with the source.
func (s *packetSource) Finish() { s.gate.finish() }

func (s *packetSource) readBatch(b *packet.Batch, limit int) (int, error) {
	if !s.pinned {
		s.pinned = true
		if err := pin(s.cpu); err != nil {
			return 0, err
		}
	}
	if len(s.pending) == 0 {
		s.sock.Release()
		var err error
		s.frames, err = s.sock.Receive(s.frames[:0], s.poll)
		if err != nil {
			return 0, fmt.Errorf("socket %d: %w", s.index, err)
		}
		s.pending = s.frames
		if len(s.pending) == 0 {
			return 0, nil
		}
	}
	k := min(limit, len(s.pending))
	for i, f := range s.pending[:k] {
		b.Packets[i].Info = packet.Info{Timestamp: int64(f.Sec)*1e9 + int64(f.Nsec), CapLen: uint32(len(f.Data)),
			WireLen: f.WireLen, LinkType: s.linkType, Ifindex: uint32(f.Ifindex), Queue: uint16(max(s.index, 0))}
		b.Packets[i].Data = f.Data
	}
	s.pending = s.pending[k:]
	s.received.Add(uint64(k))
	return k, nil
}

// LinkType returns the device's link type.
func (s *packetSource) LinkType() spec.LinkType { return s.linkType }

// Queue returns the socket's number (or the queue it keeps).
func (s *packetSource) Queue() int { return s.index }

// Close closes the socket.
func (s *packetSource) Close() error { s.close(); return nil }

// KernelDropped returns the frames that passed the filter but found the
// ring full.
func (s *packetSource) KernelDropped() uint64 {
	k, err := s.sock.Stats()
	if err != nil {
		return 0
	}
	return k.Drops
}

func (s *packetSource) stats() QueueStats {
	st := QueueStats{Queue: s.index, Received: s.received.Load()}
	if k, err := s.sock.Stats(); err == nil {
		st.Dropped = k.Drops
		st.Seen = k.Packets // passed the kernel filter, with the drops
		st.DropDetail = fmt.Sprintf("kernel drops %d, queue freezes %d", k.Drops, k.Freezes)
		st.Causes = []KernelCounter{{"drops", k.Drops}, {"freezes", k.Freezes}}
	}
	return st
}

// close frees the socket now, or once the reader is done with it.
func (s *packetSource) close() { s.gate.close() }
