package capture

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/spec"
)

// Default and largest batch sizes.
const (
	DefaultBatch = 128
	MaxBatch     = 4096
)

// Config configures a Pipeline.
type Config struct {
	// Sources are read by one worker each.
	Sources []Source
	// Filter runs in userspace on every packet; nil accepts all. Its
	// result truncates the packet like a socket filter's (and Snaplen
	// after it).
	Filter Filter
	// FilterMeta makes the pipeline parse each packet before the filter
	// and run it with RunMeta, so that ancillary and record loads see the
	// packet's metadata and record. Set it when the program uses them; it
	// needs a MetaFilter.
	FilterMeta bool
	// Snaplen truncates packets that pass the filter; 0 keeps them whole.
	Snaplen uint32
	// Batch is the most packets per batch (default DefaultBatch).
	Batch int
	// Count stops the pipeline once this many packets were delivered (0:
	// no limit), like tcpdump -c.
	Count uint64
	// Handlers see each batch in order, after the filter (the analyzers'
	// hook).
	Handlers []Handler
	// Sinks receive every delivered packet, or only the one a verdict
	// forwards it to (ActionForward, Verdict.Sink = index in Sinks).
	// Packets' records are filled when the filter, a handler or a sink
	// reads them (see RecordUser); otherwise the parse is skipped.
	Sinks []Sink
}

// Pipeline runs sources through the filter, handlers and sinks.
type Pipeline struct {
	cfg       Config
	counters  []*Counters
	delivered atomic.Uint64 // across workers, for Count
	parse     bool          // some handler or sink reads records
	// batchFilter says the filter runs on whole batches: it is a
	// BatchFilter and reads no metadata.
	batchFilter bool
}

// ErrNoMetaFilter is returned by New when FilterMeta is set for a filter
// that cannot read metadata.
var ErrNoMetaFilter = errors.New("capture: the filter reads metadata but has no RunMeta")

// New checks a configuration and returns a pipeline.
func New(cfg Config) (*Pipeline, error) {
	if len(cfg.Sources) == 0 {
		return nil, errors.New("capture: no source")
	}
	if cfg.Batch <= 0 {
		cfg.Batch = DefaultBatch
	}
	if cfg.Batch > MaxBatch {
		return nil, fmt.Errorf("capture: batch of %d packets, at most %d", cfg.Batch, MaxBatch)
	}
	if cfg.FilterMeta {
		if _, ok := cfg.Filter.(MetaFilter); !ok {
			return nil, ErrNoMetaFilter
		}
	}
	p := &Pipeline{cfg: cfg, parse: len(cfg.Handlers) > 0}
	if _, ok := cfg.Filter.(BatchFilter); ok && !cfg.FilterMeta {
		p.batchFilter = true
	}
	for _, s := range cfg.Sinks {
		if UsesRecord(s) {
			p.parse = true
		}
	}
	for _, s := range cfg.Sources {
		p.counters = append(p.counters, &Counters{Queue: s.Queue()})
	}
	return p, nil
}

// Counters returns a snapshot of every worker's counters; kernel drops are
// read from sources that report them.
func (p *Pipeline) Counters() []Snapshot {
	out := make([]Snapshot, len(p.counters))
	for i, c := range p.counters {
		out[i] = c.Snapshot()
		if kd, ok := p.cfg.Sources[i].(KernelDropper); ok {
			out[i].Dropped[DropKernel] = kd.KernelDropped()
		}
	}
	return out
}

// Run runs one worker per source until every source is exhausted, Count
// packets were delivered, ctx is done, or an error occurs; it then flushes
// the sinks. It returns the first error (a source's read error, a
// handler's error, a sink's flush error); ctx's cancellation is not an
// error.
func (p *Pipeline) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	errs := make([]error, len(p.cfg.Sources))
	filters := make([]Filter, len(p.cfg.Sources))
	for i := range filters {
		filters[i] = p.cfg.Filter
		if wf, ok := p.cfg.Filter.(WorkerFilter); ok {
			f, err := wf.ForWorker()
			if err != nil {
				return fmt.Errorf("capture: the filter of worker %d: %w", i, err)
			}
			filters[i] = f
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for i, src := range p.cfg.Sources {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = p.work(ctx, src, p.counters[i], filters[i])
			if errs[i] != nil {
				cancel()
			}
		}()
	}
	wg.Wait()
	for _, s := range p.cfg.Sinks {
		if err := s.Flush(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// worker state reused across batches.
type worker struct {
	b     packet.Batch
	sinkB []packet.Batch // per-sink batches for forwarded packets
	meta  spec.Meta
	// The worker's filter (the pipeline's, or its ForWorker copy) and
	// what else it is.
	filter    Filter
	bf        BatchFilter
	mf        MetaFilter
	metaBatch MetaBatchFilter
	// For a BatchFilter: the batch's data, wire lengths and results (ret
	// also for a MetaBatchFilter).
	data []([]byte)
	wl   []uint32
	ret  []uint32
	// For a MetaBatchFilter: the packets of the call and meta(i).
	cur    []packet.Packet
	metaOf func(i int) *spec.Meta
}

func (p *Pipeline) work(ctx context.Context, src Source, c *Counters, f Filter) error {
	if fin, ok := src.(Finisher); ok {
		defer fin.Finish()
	}
	n := p.cfg.Batch
	w := &worker{b: packet.Batch{Packets: make([]packet.Packet, n), Verdicts: make([]packet.Verdict, n)}, filter: f}
	var vs viewSource // fills the batch filter's arrays as it reads
	if p.batchFilter {
		w.bf = f.(BatchFilter)
		w.data, w.wl, w.ret = make([][]byte, n), make([]uint32, n), make([]uint32, n)
		vs, _ = src.(viewSource)
	}
	if p.cfg.FilterMeta {
		w.mf = f.(MetaFilter)
		if mb, ok := f.(MetaBatchFilter); ok {
			w.metaBatch, w.ret = mb, make([]uint32, n)
			w.metaOf = func(i int) *spec.Meta {
				w.setMeta(&w.cur[i])
				return &w.meta
			}
		}
	}
	for {
		if ctx.Err() != nil {
			return nil
		}
		want := n
		if p.cfg.Count != 0 {
			left := p.cfg.Count - min(p.cfg.Count, p.delivered.Load())
			if left == 0 {
				return nil
			}
			want = int(min(uint64(want), left))
		}
		var (
			got int
			err error
		)
		if vs != nil {
			got, err = vs.ReadBatchViews(&w.b, want, w.data, w.wl)
		} else {
			got, err = src.ReadBatch(&w.b, want)
		}
		if got > 0 {
			if herr := p.batch(w, got, c, vs != nil); herr != nil {
				return herr
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

// batch runs got freshly read packets through parse, filter, handlers and
// sinks. viewed says the source already filled w.data and w.wl.
func (p *Pipeline) batch(w *worker, got int, c *Counters, viewed bool) error {
	cfg := &p.cfg
	c.Received.Add(uint64(got))
	pk := w.b.Packets
	if w.bf != nil {
		if !viewed {
			for i := range got {
				w.data[i], w.wl[i] = pk[i].Data, pk[i].Info.WireLen
			}
		}
		if err := w.bf.RunBatch(w.data[:got], w.wl[:got], w.ret[:got]); err != nil {
			return err
		}
	}
	var kept int
	if w.bf != nil && cfg.Snaplen == 0 && !p.parse {
		// The common offline case (a file rewritten through a filter):
		// keep the packets the results say, truncated to them.
		kept = keepPassed(pk[:got], w.ret[:got])
	} else {
		kept = p.filterEach(w, pk[:got])
	}
	c.FilteredOut.Add(uint64(got - kept))
	if kept == 0 {
		return nil
	}
	// -c: deliver no more than the count allows (several workers share it).
	if cfg.Count != 0 {
		left := cfg.Count - min(cfg.Count, p.delivered.Load())
		if uint64(kept) > left {
			// Packets past the count were read but are not processed:
			// they do not count as received.
			c.Received.Add(^uint64(uint64(kept) - left - 1))
			kept = int(left)
		}
	}
	b := &w.b
	b.Packets, b.Verdicts = pk[:kept], b.Verdicts[:kept]
	defer func() { b.Packets, b.Verdicts = pk[:cap(pk)], b.Verdicts[:cap(b.Verdicts)] }()
	clear(b.Verdicts)
	for _, h := range cfg.Handlers {
		if err := h.Handle(b); err != nil {
			return err
		}
		if d := dropMarked(b); d > 0 {
			c.Dropped[DropHandler].Add(uint64(d))
		}
		if len(b.Packets) == 0 {
			return nil
		}
	}
	forwarded := false
	for _, v := range b.Verdicts {
		if v.Action == packet.ActionForward {
			forwarded = true
			break
		}
	}
	if !forwarded {
		for _, s := range cfg.Sinks {
			if err := s.Handle(b); err != nil {
				c.Dropped[DropSink].Add(uint64(len(b.Packets)))
				return err
			}
		}
	} else if err := p.route(w, b); err != nil {
		c.Dropped[DropSink].Add(uint64(len(b.Packets)))
		return err
	}
	c.Delivered.Add(uint64(len(b.Packets)))
	p.delivered.Add(uint64(len(b.Packets)))
	return nil
}

// filterEach runs the filter on each packet of pk (or reads the batch's
// results), applies the snapshot length and parses what a later stage
// reads; it moves the packets that pass to the front of pk and returns how
// many there are.
func (p *Pipeline) filterEach(w *worker, pk []packet.Packet) int {
	cfg := &p.cfg
	if w.metaBatch != nil {
		for i := range pk {
			pp := &pk[i]
			pp.Info.CapLen = uint32(len(pp.Data))
			packet.Parse(pp.Info, pp.Data, &pp.Record)
		}
		w.cur = pk
		w.metaBatch.RunMetaBatch(pk, w.metaOf, w.ret[:len(pk)])
		w.cur = nil
	}
	kept := 0
	for i := range pk {
		pp := &pk[i]
		pp.Info.CapLen = uint32(len(pp.Data))
		keep := pp.Info.CapLen
		if w.filter != nil {
			var ret uint32
			switch {
			case w.bf != nil || w.metaBatch != nil:
				ret = w.ret[i]
			case w.mf != nil:
				packet.Parse(pp.Info, pp.Data, &pp.Record)
				w.setMeta(pp)
				ret = w.mf.RunMeta(pp.Data, pp.Info.WireLen, &w.meta)
			default:
				ret = w.filter.Run(pp.Data, pp.Info.WireLen)
			}
			if ret == 0 {
				continue
			}
			keep = min(keep, ret)
		}
		if cfg.Snaplen != 0 {
			keep = min(keep, cfg.Snaplen)
		}
		if kept != i {
			pk[kept].Info = pp.Info
			pk[kept].Data = pp.Data
			if cfg.FilterMeta {
				pk[kept].Record = pp.Record
			}
		}
		q := &pk[kept]
		if keep < q.Info.CapLen {
			q.Data = q.Data[:keep]
			q.Info.CapLen = keep
			if p.parse || cfg.FilterMeta {
				packet.Parse(q.Info, q.Data, &q.Record)
			}
		} else if p.parse && (!cfg.FilterMeta || cfg.Filter == nil) {
			packet.Parse(q.Info, q.Data, &q.Record)
		}
		kept++
	}
	return kept
}

// keepPassed moves the packets whose filter result is not 0 to the front
// of pk, in order, each truncated to its result, and returns how many there
// are.
func keepPassed(pk []packet.Packet, results []uint32) int {
	results = results[:len(pk)]
	kept := 0
	for i, ret := range results {
		if ret == 0 {
			continue
		}
		if kept != i {
			pk[kept].Info = pk[i].Info
			pk[kept].Data = pk[i].Data
		}
		q := &pk[kept]
		if n := uint32(len(q.Data)); ret < n {
			q.Data = q.Data[:ret]
			q.Info.CapLen = ret
		} else {
			q.Info.CapLen = n
		}
		kept++
	}
	return kept
}

// dropMarked removes the packets whose verdict is ActionDrop, keeping the
// others in order, and returns how many it removed.
func dropMarked(b *packet.Batch) int {
	k := 0
	for i := range b.Packets {
		if b.Verdicts[i].Action == packet.ActionDrop {
			continue
		}
		if k != i {
			b.Packets[k] = b.Packets[i]
			b.Verdicts[k] = b.Verdicts[i]
		}
		k++
	}
	d := len(b.Packets) - k
	b.Packets, b.Verdicts = b.Packets[:k], b.Verdicts[:k]
	return d
}

// route sends forwarded packets to their sink and the others to every sink.
func (p *Pipeline) route(w *worker, b *packet.Batch) error {
	sinks := p.cfg.Sinks
	if len(w.sinkB) < len(sinks) {
		w.sinkB = make([]packet.Batch, len(sinks))
	}
	for i := range sinks {
		w.sinkB[i].Packets = w.sinkB[i].Packets[:0]
		w.sinkB[i].Verdicts = w.sinkB[i].Verdicts[:0]
	}
	for i := range b.Packets {
		v := b.Verdicts[i]
		for s := range sinks {
			if v.Action == packet.ActionForward && int(v.Sink) != s {
				continue
			}
			w.sinkB[s].Packets = append(w.sinkB[s].Packets, b.Packets[i])
			w.sinkB[s].Verdicts = append(w.sinkB[s].Verdicts, v)
		}
	}
	for s, sink := range sinks {
		if len(w.sinkB[s].Packets) == 0 {
			continue
		}
		if err := sink.Handle(&w.sinkB[s]); err != nil {
			return err
		}
	}
	return nil
}

// setMeta fills the filter metadata of a parsed packet.
func (w *worker) setMeta(pp *packet.Packet) {
	r := &pp.Record
	m := &w.meta
	*m = spec.Meta{
		Protocol:  uint32(r.EtherType()),
		Ifindex:   pp.Info.Ifindex,
		Queue:     uint32(pp.Info.Queue),
		RxHash:    r.FlowHash(),
		Record:    (*[len(packet.Record{})]byte)(r),
		PayOffset: uint32(r.PayloadOff()),
	}
	if l3 := r.L3Off(); l3 != 0xffff {
		m.NetOffset, m.NetOffsetValid = uint32(l3), true
	}
	if r.PayloadOff() == 0xffff {
		m.PayOffset = 0
	}
}
