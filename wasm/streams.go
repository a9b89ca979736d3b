package wasm

import (
	"encoding/binary"
	"net/netip"
	"sync"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/capture/stream"
	"github.com/wringcap/wring/spec"
)

// The stream path (spec/ABI.md §10). Each worker that runs an analyzer
// taking streams owns one stream.Reassembler, fed once per batch from the
// batch's TCP packets and shared by every stream analyzer of the worker.
// What it hands over is staged as chunks (a fixed array of descriptors and
// a fixed byte buffer) and, after the batch's packet analyzers ran, copied
// into each stream analyzer's area, as many wring_streams calls as the area
// needs. The staging buffer never grows: when it is full, the worker hands
// its chunks over at once and starts it again (counted as an early
// handover), so no chunk is dropped for want of room.

// chunk is one staged piece of a stream.
type chunk struct {
	flow  uint64
	off   uint64 // stream offset (data, gap); the direction's end offset (end)
	n     uint32 // bytes: staged (data, start) or lost (gap)
	at    uint32 // where the staged bytes start in streamer.data
	ts    int64  // capture time of the packet (or expiry) behind it
	ports [2]uint16
	vlan  uint16
	dir   uint8
	kind  uint8
	aux   uint8
	key   flowKey // the segment's 5-tuple, with WithEventFlows only
}

// bytes reports whether the chunk carries staged bytes.
func (c *chunk) bytes() bool { return c.kind == spec.ChunkData || c.kind == spec.ChunkStart }

// streamer is a worker's reassembler and staging buffer; it is the
// reassembler's stream.Handler.
type streamer struct {
	w      *Worker
	rs     *stream.Reassembler
	chunks []chunk
	data   []byte
	ts     int64 // capture time of the packet being fed
	now    int64 // capture time of the newest packet fed
	expire int64 // capture time of the last Expire

	early    uint64 // handovers before a batch's end: staging was full
	unparsed uint64 // TCP packets whose header was not in the capture

	mu   sync.Mutex // guards snap, read by Host.StreamStats
	snap StreamStats
}

// announced marks a flow whose start chunk is staged (stream.Flow.User).
var announced = new(struct{ _ byte })

func newStreamer(w *Worker) *streamer {
	cfg := w.h.cfg
	s := &streamer{w: w, chunks: make([]chunk, 0, cfg.stageChunks), data: make([]byte, 0, cfg.stageBytes)}
	s.rs = stream.New(cfg.streams, s)
	return s
}

// wantsStreams reports whether an analyzer of the host takes streams.
func (w *Worker) wantsStreams() bool {
	for _, a := range w.h.analyzers {
		if g := a.cur.Load(); g != nil && g.wantStreams {
			return true
		}
	}
	return false
}

// feed gives the TCP segments of b (those not dropped by an earlier stage)
// to the reassembler. First, at the tick cadence of capture time, it ends
// the flows idle as of the batch's newest packet, so a connection that
// resumes after its idle timeout starts a new flow.
func (s *streamer) feed(b *packet.Batch) {
	now := s.now
	for j := range b.Packets {
		now = max(now, b.Packets[j].Info.Timestamp)
	}
	if now != 0 {
		if s.expire == 0 {
			s.expire = now
		} else if now-s.expire >= int64(s.w.h.cfg.tick) {
			s.expire = now
			s.ts = now
			s.rs.Expire(now)
		}
	}
	for j := range b.Packets {
		if b.Verdicts[j].Action == packet.ActionDrop {
			continue
		}
		s.add(&b.Packets[j])
	}
}

// add feeds one packet, if it is a TCP segment whose header was captured.
func (s *streamer) add(p *packet.Packet) {
	r := &p.Record
	v := r[spec.RecIPVersion]
	if r[spec.RecIPProto] != 6 || v != 4 && v != 6 {
		return
	}
	flags := binary.LittleEndian.Uint32(r[spec.RecFlags:])
	if flags&spec.RecFlagLaterFragment != 0 {
		return
	}
	l4 := int(binary.LittleEndian.Uint16(r[spec.RecL4Off:]))
	po := int(binary.LittleEndian.Uint16(r[spec.RecPayloadOff:]))
	if l4 == spec.NoOffset || po == spec.NoOffset || l4+14 > len(p.Data) {
		s.unparsed++
		return
	}
	pl := int(binary.LittleEndian.Uint32(r[spec.RecPayloadLen:]))
	if po > len(p.Data) || pl > len(p.Data)-po {
		s.unparsed++
		return
	}
	seq := binary.BigEndian.Uint32(p.Data[l4+4:])
	var src, dst netip.Addr
	if v == 4 {
		src = netip.AddrFrom4([4]byte(r[spec.RecSrcAddr : spec.RecSrcAddr+4]))
		dst = netip.AddrFrom4([4]byte(r[spec.RecDstAddr : spec.RecDstAddr+4]))
	} else {
		src = netip.AddrFrom16([16]byte(r[spec.RecSrcAddr : spec.RecSrcAddr+16]))
		dst = netip.AddrFrom16([16]byte(r[spec.RecDstAddr : spec.RecDstAddr+16]))
	}
	var vlan uint16
	if flags&spec.RecFlagVLAN != 0 {
		vlan = binary.LittleEndian.Uint16(r[spec.RecVLANOuter:]) & 0x0fff
	}
	ts := p.Info.Timestamp
	s.ts = ts
	s.now = max(s.now, ts)
	s.rs.Add(netip.AddrPortFrom(src, binary.LittleEndian.Uint16(r[spec.RecSrcPort:])),
		netip.AddrPortFrom(dst, binary.LittleEndian.Uint16(r[spec.RecDstPort:])),
		vlan, seq, p.Data[l4+13], p.Data[po:po+pl], ts)
}

// room makes room for one chunk and n staged bytes, handing the staged
// chunks over first when they do not fit.
func (s *streamer) room(n int) {
	if len(s.chunks) < cap(s.chunks) && len(s.data)+n <= cap(s.data) {
		return
	}
	s.early++
	s.w.deliverStreams()
}

// stage appends a chunk (with its bytes, at most the staging's size).
func (s *streamer) stage(f *stream.Flow, d stream.Dir, kind, aux uint8, off uint64, n uint32, p []byte) {
	if f.User == nil && kind != spec.ChunkStart {
		s.start(f)
	}
	s.room(len(p))
	c := chunk{flow: f.ID, off: off, n: n, at: uint32(len(s.data)), ts: s.ts,
		ports: [2]uint16{f.Key.A.Port(), f.Key.B.Port()}, vlan: f.Key.VLAN, dir: uint8(d), kind: kind, aux: aux}
	if s.w.h.cfg.eventFlows {
		c.key = streamFlow(f, d)
	}
	s.data = append(s.data, p...)
	s.chunks = append(s.chunks, c)
}

// start stages a flow's start chunk: its endpoints.
func (s *streamer) start(f *stream.Flow) {
	f.User = announced
	ini, res := f.Initiator, f.Key.A
	if res == ini {
		res = f.Key.B
	}
	var b [spec.ChunkStartLen]byte
	aux := uint8(6)
	if ini.Addr().Is4() {
		aux = 4
		a, r := ini.Addr().As4(), res.Addr().As4()
		copy(b[spec.StartInitiator:], a[:])
		copy(b[spec.StartResponder:], r[:])
	} else {
		a, r := ini.Addr().As16(), res.Addr().As16()
		copy(b[spec.StartInitiator:], a[:])
		copy(b[spec.StartResponder:], r[:])
	}
	binary.LittleEndian.PutUint16(b[spec.StartInitiatorPrt:], ini.Port())
	binary.LittleEndian.PutUint16(b[spec.StartResponderPrt:], res.Port())
	s.stage(f, 0, spec.ChunkStart, aux, 0, spec.ChunkStartLen, b[:])
}

// Data implements stream.Handler.
func (s *streamer) Data(f *stream.Flow, d stream.Dir, off uint64, p []byte) {
	for len(p) > 0 {
		n := min(len(p), cap(s.data))
		s.stage(f, d, spec.ChunkData, 0, off, uint32(n), p[:n])
		off += uint64(n)
		p = p[n:]
	}
}

// Gap implements stream.Handler.
func (s *streamer) Gap(f *stream.Flow, d stream.Dir, off uint64, n uint64) {
	for n > 0 {
		k := min(n, 1<<31)
		s.stage(f, d, spec.ChunkGap, 0, off, uint32(k), nil)
		off += k
		n -= k
	}
}

// End implements stream.Handler.
func (s *streamer) End(f *stream.Flow, why stream.EndReason) {
	s.stage(f, 0, spec.ChunkEnd, uint8(why), 0, 0, nil)
}

// wants reports whether an analyzer with the given server ports takes c.
func wants(ports []uint16, c *chunk) bool {
	if len(ports) == 0 {
		return true
	}
	for _, p := range ports {
		if p == c.ports[0] || p == c.ports[1] {
			return true
		}
	}
	return false
}

// deliverStreams copies the staged chunks to every analyzer taking
// streams, then empties the staging buffer.
func (w *Worker) deliverStreams() {
	s := w.str
	if s == nil || len(s.chunks) == 0 {
		return
	}
	for i, a := range w.h.analyzers {
		if g := a.cur.Load(); g != nil && g.wantStreams {
			w.streamsTo(i, a, g.streamPorts)
		}
	}
	s.chunks, s.data = s.chunks[:0], s.data[:0]
	s.snapshot()
}

// selected is a chunk, or the part of a data chunk, one call hands over.
type selected struct {
	k        int32  // index in the staged chunks
	from, to uint32 // bytes of it (data, start)
}

// streamsTo hands the staged chunks the analyzer wants to its instance.
func (w *Worker) streamsTo(i int, a *analyzer, ports []uint16) {
	s := w.str
	lost := func(from int) {
		var n uint32
		for k := from; k < len(s.chunks); k++ {
			if wants(ports, &s.chunks[k]) {
				n++
			}
		}
		a.stats.streamLost.Add(uint64(n))
		w.strLost[i] += n
	}
	if a.quarantined.Load() {
		lost(0)
		return
	}
	in := w.instance(i, a)
	if in == nil {
		lost(0)
		return
	}
	if !in.info.streams() {
		return // a reload changed its mind; the next batch sees that
	}
	inf := in.info
	maxSel := inf.streamChunks
	if cap(w.sel) < maxSel {
		w.sel = make([]selected, 0, maxSel)
	}
	if cap(w.sts) < maxSel {
		w.sts = make([]int64, maxSel)
		if w.h.cfg.eventFlows {
			w.skeys = make([]flowKey, maxSel)
		}
	}
	k, part := 0, uint32(0) // cursor: chunk k, of which part bytes are handed over
	for k < len(s.chunks) {
		// Select what fits: a descriptor and the bytes of each chunk; the
		// last data chunk may be split.
		room := int(inf.streamsCap) - spec.StreamHeaderSize
		sel := w.sel[:0]
		for k < len(s.chunks) && room >= spec.ChunkSize && len(sel) < maxSel {
			c := &s.chunks[k]
			if !wants(ports, c) {
				k, part = k+1, 0
				continue
			}
			var rest uint32
			if c.bytes() {
				rest = c.n - part
			}
			if need := spec.ChunkSize + int(rest); need <= room {
				sel = append(sel, selected{k: int32(k), from: part, to: part + rest})
				room -= need
				k, part = k+1, 0
				continue
			}
			if c.kind == spec.ChunkData && room > spec.ChunkSize {
				take := uint32(room - spec.ChunkSize)
				sel = append(sel, selected{k: int32(k), from: part, to: part + take})
				part += take
			}
			break
		}
		if len(sel) == 0 {
			break // nothing wanted is left
		}
		view, ok := in.mem.Read(inf.streamsPtr, inf.streamsCap)
		if !ok {
			w.failStreams(a, i, in, errorf(a.name, spec.ExportStreams, ErrABI, "stream area outside memory"))
			lost(int(sel[0].k))
			return
		}
		data := uint32(spec.StreamHeaderSize + len(sel)*spec.ChunkSize)
		start := data
		for j, e := range sel {
			c := &s.chunks[e.k]
			d := view[spec.StreamHeaderSize+j*spec.ChunkSize : spec.StreamHeaderSize+(j+1)*spec.ChunkSize]
			binary.LittleEndian.PutUint64(d[spec.ChunkFlow:], c.flow)
			n, at := c.n, uint32(0)
			off := c.off
			if c.bytes() {
				n = e.to - e.from
				at = data
				copy(view[data:data+n], s.data[c.at+e.from:c.at+e.to])
				data += n
				if c.kind == spec.ChunkData {
					off += uint64(e.from)
				}
			}
			binary.LittleEndian.PutUint64(d[spec.ChunkOffset:], off)
			binary.LittleEndian.PutUint32(d[spec.ChunkLen:], n)
			binary.LittleEndian.PutUint32(d[spec.ChunkDataOff:], at)
			d[spec.ChunkDir], d[spec.ChunkKind], d[spec.ChunkAux], d[spec.ChunkAux+1] = c.dir, c.kind, c.aux, 0
			binary.LittleEndian.PutUint16(d[spec.ChunkVLAN:], c.vlan)
			binary.LittleEndian.PutUint16(d[spec.ChunkVLAN+2:], 0)
			w.sts[j] = c.ts
			if w.skeys != nil {
				w.skeys[j] = c.key
			}
		}
		in.strSeq++
		binary.LittleEndian.PutUint32(view[spec.StreamCount:], uint32(len(sel)))
		binary.LittleEndian.PutUint32(view[spec.StreamFlags:], 0)
		binary.LittleEndian.PutUint64(view[spec.StreamSeq:], in.strSeq)
		binary.LittleEndian.PutUint64(view[spec.StreamNow:], uint64(s.now))
		binary.LittleEndian.PutUint32(view[spec.StreamLost:], w.strLost[i])
		binary.LittleEndian.PutUint32(view[spec.StreamDataLen:], data-start)
		in.resetEvents()
		w.evLeft, w.evBytesLeft = w.h.cfg.eventsPerCall, w.h.cfg.eventBytes
		err := in.callStreams(w.h.cfg.fuel, len(sel))
		if err == nil {
			var keys []flowKey
			if w.skeys != nil {
				keys = w.skeys[:len(sel)]
			}
			err = w.collectEvents(a, in, w.sts[:len(sel)], keys, s.now, spec.ExportStreams)
		}
		if err != nil {
			w.failStreams(a, i, in, err)
			lost(int(sel[0].k))
			return
		}
		in.snapshot()
		w.strLost[i] = 0
		a.stats.streamCalls.Add(1)
		a.stats.streamChunks.Add(uint64(len(sel)))
		a.stats.streamBytes.Add(uint64(data - start))
	}
}

// failStreams discards the instance after a failed wring_streams call.
func (w *Worker) failStreams(a *analyzer, i int, in *instance, err error) {
	if isErr(err, ErrInterrupted) {
		a.interrupted(err)
	} else {
		a.failed(err)
	}
	in.gen.retire(w.ctx, in)
	w.inst[i] = nil
}

// callStreams runs wring_streams on the n chunks already in the stream
// area, metered like wring_process.
func (in *instance) callStreams(fuel int64, n int) error {
	if err := in.begin(fuel, false); err != nil {
		return errorf(in.gen.a.name, spec.ExportStreams, err, "")
	}
	in.stack[0] = uint64(n)
	err := in.streams.CallWithStack(in.ctx, in.stack)
	if kind := in.end(err); err != nil {
		return callError(in.gen.a.name, spec.ExportStreams, kind, err)
	}
	if rc := int32(in.stack[0]); rc != 0 {
		return errorf(in.gen.a.name, spec.ExportStreams, ErrGuest, "code %d", rc)
	}
	return nil
}

// flushStreams ends every flow (the host closes) and hands the last chunks
// over.
func (w *Worker) flushStreams() {
	s := w.str
	if s == nil {
		return
	}
	s.ts = s.now
	s.rs.Flush()
	w.deliverStreams()
	s.snapshot()
}

// StreamStats are the counts of the TCP reassemblers of the workers that
// ran analyzers taking streams, summed.
type StreamStats struct {
	stream.Stats
	Workers        int    // workers with a reassembler
	EarlyHandovers uint64 // times the staging buffer filled up before a batch's end and was handed over at once
	Unparsed       uint64 // TCP packets whose header was not in the capture (not reassembled)
}

func (s *streamer) snapshot() {
	st := StreamStats{Stats: s.rs.Stats(), Workers: 1, EarlyHandovers: s.early, Unparsed: s.unparsed}
	s.mu.Lock()
	s.snap = st
	s.mu.Unlock()
}

// StreamStats returns the reassemblers' counts, summed over workers (as of
// each worker's last batch).
func (h *Host) StreamStats() StreamStats {
	h.mu.Lock()
	workers := append([]*Worker(nil), h.workers...)
	h.mu.Unlock()
	var out StreamStats
	for _, w := range workers {
		s := w.strSnap.Load()
		if s == nil {
			continue
		}
		s.mu.Lock()
		st := s.snap
		s.mu.Unlock()
		out.Workers++
		out.EarlyHandovers += st.EarlyHandovers
		out.Unparsed += st.Unparsed
		o, x := &out.Stats, &st.Stats
		o.Flows += x.Flows
		o.FlowsRefused += x.FlowsRefused
		o.SegmentsRefuse += x.SegmentsRefuse
		o.Refused += x.Refused
		for k := range o.Ended {
			o.Ended[k] += x.Ended[k]
		}
		o.Delivered += x.Delivered
		o.Gaps += x.Gaps
		o.GapBytes += x.GapBytes
		o.Retransmitted += x.Retransmitted
		o.OverlapKept += x.OverlapKept
		o.OverlapDiffer += x.OverlapDiffer
		o.WindowsOut += x.WindowsOut
		o.PastWindow += x.PastWindow
		o.RangesFull += x.RangesFull
	}
	return out
}
