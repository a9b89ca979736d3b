package live

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wringcap/wring/capture/afxdp"
	"github.com/wringcap/wring/capture/packet"
	jitebpf "github.com/wringcap/wring/jit/ebpf"
)

// xdpPath is an XDP program on the interface and one AF_XDP socket per
// captured queue.
type xdpPath struct {
	prog     *afxdp.Program
	workers  []worker
	inKernel bool // the filter runs in the XDP program
	queues   int
	mode     afxdp.Mode
}

func (x *xdpPath) describe() string {
	where := "no filter"
	if x.inKernel {
		where = "filter in the XDP program"
	} else if x.workers != nil && x.workers[0].(*xdpWorker).user != nil {
		where = "filter in userspace (the kernel cannot run it)"
	}
	attach := "native XDP"
	if x.prog.Generic {
		attach = "generic XDP"
	}
	return fmt.Sprintf("AF_XDP %s mode, %s, %d queue(s), %s", x.mode, attach, len(x.workers), where)
}

func openXDP(dev Device, ifindex, nq int, opts Options, generic bool) (*xdpPath, error) {
	x := &xdpPath{queues: nq}
	var spec afxdp.ProgramSpec
	var user UserFilter
	if f := opts.Filters.InBand; f != nil {
		insns, err := jitebpf.Translate(f, jitebpf.Options{
			Target:       jitebpf.XDP,
			MatchLabel:   afxdp.MatchLabel,
			NoMatchLabel: afxdp.NoMatchLabel,
			StackOffset:  8,
		})
		if err == nil {
			spec.Filter = insns
			x.inKernel = true
		} else {
			opts.Log("capture %s: filter stays in userspace: %v", dev, err)
			if opts.UserFilter == nil {
				return nil, fmt.Errorf("the filter cannot run in XDP (%v) and no userspace filter was given", err)
			}
			if user, err = opts.UserFilter(f); err != nil {
				return nil, err
			}
		}
	}
	prog, err := afxdp.LoadProgram(spec)
	if err != nil {
		return nil, err
	}
	x.prog = prog
	if err := prog.Attach(ifindex, generic); err != nil {
		prog.Close()
		return nil, err
	}
	queues := []int{dev.Queue}
	if dev.Queue < 0 {
		queues = queues[:0]
		for q := 0; q < nq; q++ {
			queues = append(queues, q)
		}
	}
	sockMode := afxdp.ModeAuto
	if generic {
		sockMode = afxdp.ModeCopy
	}
	for i, q := range queues {
		s, err := afxdp.NewSocket(ifindex, q, afxdp.Config{Frames: opts.Frames, Mode: sockMode})
		if err == nil {
			err = prog.Register(s)
		}
		if err != nil {
			if s != nil {
				s.Close()
			}
			for _, w := range x.workers {
				w.close()
			}
			prog.Close()
			return nil, err
		}
		x.mode = s.Mode()
		cpu := -1
		if len(opts.CPUs) > 0 {
			cpu = opts.CPUs[i%len(opts.CPUs)]
		}
		x.workers = append(x.workers, &xdpWorker{
			sock: s, prog: prog, queue: q, cpu: cpu, user: user, opts: opts, ifindex: ifindex,
		})
	}
	return x, nil
}

// xdpWorker reads one queue's socket.
type xdpWorker struct {
	sock    *afxdp.Socket
	prog    *afxdp.Program
	queue   int
	cpu     int
	ifindex int
	user    UserFilter
	opts    Options

	captured    atomic.Uint64
	userDropped atomic.Uint64 // rejected by the userspace filter
	closed      bool
}

func pin(cpu int) error {
	runtime.LockOSThread()
	if cpu < 0 {
		return nil
	}
	var set unix.CPUSet
	set.Set(cpu)
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		return fmt.Errorf("pin worker to cpu %d: %w", cpu, err)
	}
	return nil
}

func (w *xdpWorker) run(ctx context.Context, h Handler) error {
	defer runtime.UnlockOSThread()
	if err := pin(w.cpu); err != nil {
		return err
	}
	n := w.opts.Batch
	bufs := make([][]byte, n)
	b := newBatch(n)
	for ctx.Err() == nil {
		k, err := w.sock.Receive(bufs, w.opts.Poll)
		if err != nil {
			return fmt.Errorf("queue %d: %w", w.queue, err)
		}
		if k == 0 {
			continue
		}
		now := time.Now().UnixNano()
		b.reset()
		for _, data := range bufs[:k] {
			wire := uint32(len(data))
			if w.user != nil {
				snap := w.user.Run(data, wire)
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
			b.add(packet.Info{Timestamp: now, CapLen: uint32(len(data)), WireLen: wire,
				LinkType: ethernetOnly, Ifindex: uint32(w.ifindex), Queue: uint16(w.queue)}, data)
		}
		if len(b.Packets) > 0 {
			err = h(w.queue, &b.Batch)
			w.captured.Add(uint64(len(b.Packets)))
		}
		w.sock.Release()
		if err != nil {
			return err
		}
	}
	return nil
}

func (w *xdpWorker) stats() QueueStats {
	s := QueueStats{Queue: w.queue, Captured: w.captured.Load()}
	c, cerr := w.prog.Counters(w.queue)
	k, kerr := w.sock.Stats()
	if cerr == nil {
		s.Seen = c.Seen
		s.FilteredOut = c.Seen - c.Matched + w.userDropped.Load()
	}
	if kerr == nil {
		s.Dropped = k.RxDropped + k.RxRingFull + k.RxFillRingEmpty
		s.DropDetail = fmt.Sprintf("rx_dropped %d, rx_ring_full %d, fill_ring_empty %d", k.RxDropped, k.RxRingFull, k.RxFillRingEmpty)
	}
	return s
}

func (w *xdpWorker) close() {
	if !w.closed {
		w.closed = true
		w.sock.Close()
	}
}
