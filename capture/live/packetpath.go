package live

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sync/atomic"

	"github.com/wringcap/wring/capture/afpacket"
	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/spec"
)

// packetPath is a fanout group of AF_PACKET sockets.
type packetPath struct {
	workers  []worker
	inKernel bool
}

func (p *packetPath) describe() string {
	where := "no filter"
	if p.inKernel {
		where = "classic filter in the kernel"
	} else if len(p.workers) > 0 && p.workers[0].(*packetWorker).user != nil {
		where = "filter in userspace"
	}
	return fmt.Sprintf("AF_PACKET TPACKET_V3, %d socket(s) in a fanout group, %s", len(p.workers), where)
}

func openPacket(dev Device, ifindex, nq int, opts Options) (*packetPath, error) {
	p := &packetPath{}
	var prog spec.Program
	var user UserFilter
	switch {
	case opts.Filters.Kernel != nil:
		prog = opts.Filters.Kernel.Instructions()
		p.inKernel = true
	case opts.Filters.InBand != nil:
		if opts.UserFilter == nil {
			return nil, fmt.Errorf("no kernel filter and no userspace filter")
		}
		var err error
		if user, err = opts.UserFilter(opts.Filters.InBand); err != nil {
			return nil, err
		}
	}
	if dev.Queue >= 0 {
		if prog == nil {
			prog = accept(opts.Snaplen)
		}
		prog = queueFilter(prog, dev.Queue)
		p.inKernel = true
	}
	n := opts.Workers
	if n <= 0 {
		n = nq
		if dev.Queue >= 0 {
			n = 1
		}
	}
	group := uint16(os.Getpid()) ^ uint16(ifindex)<<8
	for i := 0; i < n; i++ {
		s, err := afpacket.Open(ifindex, prog, afpacket.Config{Snaplen: opts.Snaplen, Fanout: n > 1, FanoutID: group})
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
		p.workers = append(p.workers, &packetWorker{sock: s, index: label, cpu: cpu, user: user, opts: opts, ifindex: ifindex})
	}
	return p, nil
}

// packetWorker reads one AF_PACKET socket of the fanout group.
type packetWorker struct {
	sock    *afpacket.Socket
	index   int // the fanout socket's number, or the queue it keeps
	cpu     int
	ifindex int
	user    UserFilter
	opts    Options

	captured    atomic.Uint64
	userDropped atomic.Uint64
	closed      bool
}

func (w *packetWorker) run(ctx context.Context, h Handler) error {
	defer runtime.UnlockOSThread()
	if err := pin(w.cpu); err != nil {
		return err
	}
	frames := make([]afpacket.Frame, 0, 4096)
	b := newBatch(w.opts.Batch)
	for ctx.Err() == nil {
		var err error
		frames, err = w.sock.Receive(frames[:0], w.opts.Poll)
		if err != nil {
			return fmt.Errorf("socket %d: %w", w.index, err)
		}
		for len(frames) > 0 && err == nil {
			chunk := frames
			if len(chunk) > w.opts.Batch {
				chunk = chunk[:w.opts.Batch]
			}
			frames = frames[len(chunk):]
			b.reset()
			for _, f := range chunk {
				data := f.Data
				if w.user != nil {
					snap := w.user.Run(data, f.WireLen)
					if snap == 0 {
						w.userDropped.Add(1)
						continue
					}
					if snap < uint32(len(data)) {
						data = data[:snap]
					}
				}
				if uint32(len(data)) > w.opts.Snaplen {
					data = data[:w.opts.Snaplen]
				}
				b.add(packet.Info{Timestamp: int64(f.Sec)*1e9 + int64(f.Nsec), CapLen: uint32(len(data)), WireLen: f.WireLen,
					LinkType: ethernetOnly, Ifindex: uint32(w.ifindex)}, data)
			}
			if len(b.Packets) > 0 {
				err = h(w.index, &b.Batch)
				w.captured.Add(uint64(len(b.Packets)))
			}
		}
		w.sock.Release()
		if err != nil {
			return err
		}
	}
	return nil
}

func (w *packetWorker) stats() QueueStats {
	s := QueueStats{Queue: w.index, Captured: w.captured.Load(), FilteredOut: w.userDropped.Load()}
	if k, err := w.sock.Stats(); err == nil {
		s.Dropped = k.Drops
		s.Seen = k.Packets // passed the kernel filter, with the drops
		s.DropDetail = fmt.Sprintf("kernel drops %d, queue freezes %d", k.Drops, k.Freezes)
	}
	return s
}

func (w *packetWorker) close() {
	if !w.closed {
		w.closed = true
		w.sock.Close()
	}
}
