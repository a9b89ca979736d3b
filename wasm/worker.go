package wasm

import (
	"context"
	"encoding/binary"
	"errors"
	"sync/atomic"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/spec"
)

// Worker runs the analyzers for one goroutine, with one instance of each. It
// is not safe for concurrent use.
type Worker struct {
	h    *Host
	ctx  context.Context
	inst []*instance
	idx  []int32   // batch index of each packet in the current call
	ts   []int64   // capture time of each packet in the current call
	keys []flowKey // 5-tuple of each packet in the current call (WithEventFlows)
	ev   []byte    // JSON lines of the current call
	// What is left of the current call's (or tick's) event caps.
	evLeft, evBytesLeft int

	// The stream path (streams.go), made when an analyzer takes streams.
	str     *streamer
	strSnap atomic.Pointer[streamer] // str, for Host.StreamStats
	sel     []selected               // chunks of the current wring_streams call
	sts     []int64                  // their capture times
	skeys   []flowKey                // their 5-tuples (WithEventFlows)
	strLost []uint32                 // per analyzer: chunks lost since its last wring_streams call

	// The inner packet's Record and the tunnel record of the packet being
	// copied, for analyzers that take tunnels (spec.InfoFlagTunnels).
	inner packet.Record
	tun   packet.TunnelRecord
}

// Handle runs every analyzer over b, in order, and combines their verdicts
// into b.Verdicts (see Host). Failures do not return an error: they are
// counted, logged and answered with the fail policy. Handle returns an error
// only when the host is closed.
func (w *Worker) Handle(b *packet.Batch) error {
	if w.h.closed.Load() {
		return ErrClosed
	}
	n := len(b.Packets)
	if len(b.Verdicts) < n {
		if cap(b.Verdicts) >= n {
			b.Verdicts = b.Verdicts[:n]
		} else {
			v := make([]packet.Verdict, n)
			copy(v, b.Verdicts)
			b.Verdicts = v
		}
	}
	if w.str == nil && w.wantsStreams() {
		w.str = newStreamer(w)
		w.strLost = make([]uint32, len(w.h.analyzers))
		w.strSnap.Store(w.str)
	}
	if w.str != nil {
		w.str.feed(b)
	}
	for i, a := range w.h.analyzers {
		w.run(i, a, b)
	}
	if w.str != nil {
		w.deliverStreams()
		w.str.snapshot()
	}
	return nil
}

// instance returns the worker's instance of analyzer i, switching to the
// analyzer's current generation and making one when needed; nil when that
// fails (counted and logged).
func (w *Worker) instance(i int, a *analyzer) *instance {
	g := a.cur.Load()
	in := w.inst[i]
	if in != nil && in.gen != g {
		in.gen.retire(w.ctx, in)
		in, w.inst[i] = nil, nil
	}
	if in == nil {
		var err error
		in, err = g.take(w.ctx)
		if err != nil {
			switch {
			case errors.Is(err, ErrInterrupted):
				a.interrupted(err)
			case !errors.Is(err, ErrClosed):
				a.failed(err)
			}
			return nil
		}
		w.inst[i] = in
	}
	return in
}

// policy applies the fail policy to the packets from j on that are still in
// play, and to the listed ones.
func (w *Worker) policy(a *analyzer, b *packet.Batch, listed []int32, from int, quarantined bool) {
	n := uint64(len(listed))
	for j := from; j < len(b.Packets); j++ {
		if b.Verdicts[j].Action != packet.ActionDrop {
			n++
		}
	}
	if quarantined {
		a.stats.quarantinedPackets.Add(n)
	} else {
		a.stats.policyPackets.Add(n)
	}
	if !w.h.cfg.failClosed {
		return
	}
	for _, j := range listed {
		b.Verdicts[j] = packet.Verdict{Action: packet.ActionDrop}
	}
	for j := from; j < len(b.Packets); j++ {
		b.Verdicts[j] = packet.Verdict{Action: packet.ActionDrop}
	}
}

func (w *Worker) run(i int, a *analyzer, b *packet.Batch) {
	a.stats.batches.Add(1)
	if a.quarantined.Load() {
		w.policy(a, b, nil, 0, true)
		return
	}
	in := w.instance(i, a)
	if in == nil {
		w.policy(a, b, nil, 0, false)
		return
	}
	inf := in.info
	if inf.streamsOnly() {
		// No packets: only the tick cadence follows the batch.
		if n := len(b.Packets); n > 0 {
			w.ticks(a, i, in, b.Packets[n-1].Info.Timestamp)
		}
		return
	}
	if cap(w.idx) < int(inf.maxPackets) {
		w.idx = make([]int32, inf.maxPackets)
		w.ts = make([]int64, inf.maxPackets)
		if w.h.cfg.eventFlows {
			w.keys = make([]flowKey, inf.maxPackets)
		}
	}
	var rg *rules
	if inf := a.rules.Load(); inf != nil {
		rg = inf
	}
	j := 0
	var now int64
	for j < len(b.Packets) {
		view, ok := in.mem.Read(inf.batchPtr, inf.batchCap)
		if !ok {
			w.fail(a, i, in, b, nil, j, errorf(a.name, spec.ExportProcess, ErrABI, "batch area outside memory"))
			return
		}
		var count int
		if inf.tunnels() || w.keys != nil {
			count, j, now = w.fill(in, b, view, j, now)
		} else {
			count, j, now = w.fillPlain(in, b, view, j, now)
		}
		if count == 0 {
			break
		}
		in.seq++
		var flags uint32
		var gen uint32
		if rg != nil {
			gen = rg.gen
			if gen != in.rulesGen {
				flags |= spec.BatchFlagRulesChanged
				in.rulesGen = gen
			}
		}
		binary.LittleEndian.PutUint32(view[spec.BatchCount:], uint32(count))
		binary.LittleEndian.PutUint32(view[spec.BatchFlags:], flags)
		binary.LittleEndian.PutUint64(view[spec.BatchSeq:], in.seq)
		binary.LittleEndian.PutUint64(view[spec.BatchNow:], uint64(now))
		binary.LittleEndian.PutUint32(view[spec.BatchRulesGen:], gen)
		in.resetEvents()
		w.evLeft, w.evBytesLeft = w.h.cfg.eventsPerCall, w.h.cfg.eventBytes
		in.callNow = now
		err := in.call(w.h.cfg.fuel, count)
		in.callNow = 0
		if err != nil {
			w.fail(a, i, in, b, w.idx[:count], j, err)
			return
		}
		if err := w.collect(a, in, b, count, now); err != nil {
			w.fail(a, i, in, b, w.idx[:count], j, err)
			return
		}
		a.stats.calls.Add(1)
		a.stats.packets.Add(uint64(count))
	}
	w.ticks(a, i, in, now)
}

// ticks notes the capture time now of a batch and calls wring_tick when the
// tick interval passed.
func (w *Worker) ticks(a *analyzer, i int, in *instance, now int64) {
	if now != 0 {
		in.lastNow = now
	}
	if in.tick != nil && now != 0 {
		if in.lastTick == 0 {
			in.lastTick = now
		} else if now-in.lastTick >= int64(w.h.cfg.tick) {
			in.lastTick = now
			w.tick(a, i, in, now, false)
		}
	}
}

// fill copies the packets of b from j on into the batch area view, as
// many as fit, and returns how many it copied, the index of the first
// packet not copied and the last copied packet's time (now if none).
func (w *Worker) fill(in *instance, b *packet.Batch, view []byte, j int, now int64) (int, int, int64) {
	inf := in.info
	count := 0
	data := inf.dataOff
	for j < len(b.Packets) && count < int(inf.maxPackets) {
		if b.Verdicts[j].Action == packet.ActionDrop {
			j++
			continue
		}
		p := &b.Packets[j]
		rec := &p.Record
		if inf.tunnels() {
			packet.ParseInner(p.Info, p.Data, &w.inner, &w.tun)
			rec = &w.inner
		}
		dl := in.dataLen(p, rec)
		if room := inf.batchCap - data; dl > room {
			if count > 0 {
				break
			}
			dl = room
		}
		d := view[spec.BatchHeaderSize+uint32(count)*inf.descSize:]
		copy(d[spec.DescRecord:spec.DescRecord+spec.RecordSize], rec[:])
		binary.LittleEndian.PutUint32(d[spec.DescDataOff:], data)
		binary.LittleEndian.PutUint32(d[spec.DescDataLen:], dl)
		if inf.tunnels() {
			copy(d[spec.DescTunnel:spec.DescTunnel+spec.TunnelRecordSize], w.tun[:])
		}
		copy(view[data:data+dl], p.Data[:dl])
		data += dl
		w.idx[count] = int32(j)
		w.ts[count] = p.Info.Timestamp
		if w.keys != nil {
			w.keys[count] = recordFlow(&p.Record)
		}
		now = p.Info.Timestamp
		count++
		j++
	}
	return count, j, now
}

// fillPlain is fill for the common case, a module without tunnel
// descriptors and a host that keeps no flow per event: the descriptor size
// is a constant, and nothing is parsed or kept beside the copy.
func (w *Worker) fillPlain(in *instance, b *packet.Batch, view []byte, j int, now int64) (int, int, int64) {
	inf := in.info
	count := 0
	data := inf.dataOff
	for j < len(b.Packets) && count < int(inf.maxPackets) {
		if b.Verdicts[j].Action == packet.ActionDrop {
			j++
			continue
		}
		p := &b.Packets[j]
		dl := in.dataLen(p, &p.Record)
		if room := inf.batchCap - data; dl > room {
			if count > 0 {
				break
			}
			dl = room
		}
		d := view[spec.BatchHeaderSize+count*spec.DescSize:]
		copy(d[spec.DescRecord:spec.DescRecord+spec.RecordSize], p.Record[:])
		binary.LittleEndian.PutUint32(d[spec.DescDataOff:], data)
		binary.LittleEndian.PutUint32(d[spec.DescDataLen:], dl)
		copy(view[data:data+dl], p.Data[:dl])
		data += dl
		w.idx[count] = int32(j)
		w.ts[count] = p.Info.Timestamp
		now = p.Info.Timestamp
		count++
		j++
	}
	return count, j, now
}

// dataLen is how many bytes of p the analyzer asked for.
func (in *instance) dataLen(p *packet.Packet, rec *packet.Record) uint32 {
	caplen := uint32(len(p.Data))
	var n uint32
	switch in.info.need {
	case spec.NeedRecord:
		return 0
	case spec.NeedPacket:
		return caplen
	default:
		off := uint32(binary.LittleEndian.Uint16(rec[spec.RecPayloadOff:]))
		if off == spec.NoOffset {
			return caplen
		}
		n = off
		if in.info.need == spec.NeedPayload {
			n += in.info.payloadMax
		}
	}
	return min(n, caplen)
}

// collect validates and applies the results of a good call: events, then
// verdicts, then counters. Nothing is applied when anything is invalid.
func (w *Worker) collect(a *analyzer, in *instance, b *packet.Batch, count int, now int64) error {
	inf := in.info
	vv, ok := in.mem.Read(inf.verdictsPtr, uint32(count)*spec.VerdictSize)
	if !ok {
		return errorf(a.name, spec.ExportProcess, ErrABI, "verdict area outside memory")
	}
	// Every verdict is checked before any is applied. The actions are
	// ORed on the way: a call that gave no packet an action (what most
	// analyzers return for most batches) has nothing to apply.
	var acts byte
	for k := 0; k < count; k++ {
		v := vv[k*spec.VerdictSize : k*spec.VerdictSize+spec.VerdictSize]
		// The action and the reserved byte after it in one compare: a
		// reserved byte that is not zero makes the pair exceed any action.
		act := binary.LittleEndian.Uint16(v[spec.VerdictAction:])
		if act > spec.VerdictDrop {
			return errorf(a.name, spec.ExportProcess, ErrABI, "verdict %d: action %d (reserved byte %d)", k, v[spec.VerdictAction], v[1])
		}
		if act == spec.VerdictForward {
			if s := binary.LittleEndian.Uint16(v[spec.VerdictSink:]); int(s) >= len(in.sinks) {
				return errorf(a.name, spec.ExportProcess, ErrABI, "verdict %d: sink %d, the module declared %d", k, s, len(in.sinks))
			}
		}
		acts |= byte(act)
	}
	var keys []flowKey
	if w.keys != nil {
		keys = w.keys[:count]
	}
	if err := w.events(a, in, w.ts[:count], keys, now, spec.ExportProcess); err != nil {
		return err
	}
	if acts == spec.VerdictNone {
		count = 0 // nothing to apply
	}
	for k := 0; k < count; k++ {
		v := vv[k*spec.VerdictSize:]
		act := packet.Action(v[spec.VerdictAction])
		if act == packet.ActionNone {
			continue
		}
		cur := &b.Verdicts[w.idx[k]]
		if act <= cur.Action {
			continue
		}
		nv := packet.Verdict{Action: act}
		switch act {
		case packet.ActionMatch:
			nv.Tag = binary.LittleEndian.Uint32(v[spec.VerdictTag:])
		case packet.ActionForward:
			nv.Sink = in.sinks[binary.LittleEndian.Uint16(v[spec.VerdictSink:])]
			nv.Tag = binary.LittleEndian.Uint32(v[spec.VerdictTag:])
		}
		*cur = nv
	}
	w.h.eventsOut(w.ev)
	in.snapshot()
	return nil
}

// collectEvents validates and writes the events of a good call that has no
// verdicts (wring_streams); ts are the capture times of the call's items.
func (w *Worker) collectEvents(a *analyzer, in *instance, ts []int64, keys []flowKey, now int64, fn string) error {
	if err := w.events(a, in, ts, keys, now, fn); err != nil {
		return err
	}
	w.h.eventsOut(w.ev)
	return nil
}

// events validates the event area after a call into w.ev (JSON lines, not
// yet written) and counts them.
func (w *Worker) events(a *analyzer, in *instance, ts []int64, keys []flowKey, now int64, fn string) error {
	inf := in.info
	w.ev = w.ev[:0]
	if inf.eventsCap != 0 {
		ev, ok := in.mem.Read(inf.eventsPtr, inf.eventsCap)
		if !ok {
			return errorf(a.name, fn, ErrABI, "event area outside memory")
		}
		var err error
		var nev, over int
		w.ev, nev, over, err = appendEvents(w.ev, ev, a.name, ts, keys, now, w.evLeft, w.evBytesLeft)
		if err != nil {
			w.ev = w.ev[:0]
			return errorf(a.name, fn, ErrABI, "%w", err)
		}
		w.evLeft -= nev
		w.evBytesLeft -= len(w.ev)
		a.stats.events.Add(uint64(nev))
		if over != 0 {
			a.stats.eventsLost.Add(uint64(over))
			a.stats.eventsOverCap.Add(uint64(over))
		}
		if lost := binary.LittleEndian.Uint32(ev[spec.EventsLost:]); lost != 0 {
			a.stats.eventsLost.Add(uint64(lost))
		}
	}
	return nil
}

// fail discards the instance after a failed call and applies the policy to
// the call's packets and the rest of the batch.
func (w *Worker) fail(a *analyzer, i int, in *instance, b *packet.Batch, listed []int32, from int, err error) {
	if isErr(err, ErrInterrupted) {
		a.interrupted(err)
	} else {
		a.failed(err)
	}
	in.gen.retire(w.ctx, in)
	w.inst[i] = nil
	w.policy(a, b, listed, from, false)
}

// maxTickRounds bounds how often one tick calls wring_tick again for a guest
// that says it has more events to flush.
const maxTickRounds = 1024

// A wring_tick round may write tickRoundFactor times a wring_process call's
// events (a tick flushes what many calls gathered, a flow table at the end
// of a capture), and all the rounds of one tick tickCapRounds rounds' worth.
const (
	tickRoundFactor = 4
	tickCapRounds   = 64
)

// tick runs wring_tick, again while the guest has more events to flush, and
// writes the events.
//
// Each round has tickRoundFactor times the event caps of one call, and all
// the rounds of a tick together tickCapRounds times that: once they are
// used up, the tick ends and the guest keeps what it could not flush for
// the next one (on the final tick, that is reported).
func (w *Worker) tick(a *analyzer, i int, in *instance, now int64, final bool) {
	roundEvents, roundBytes := tickRoundFactor*w.h.cfg.eventsPerCall, tickRoundFactor*w.h.cfg.eventBytes
	tickEvents, tickBytes := tickCapRounds*roundEvents, tickCapRounds*roundBytes
	for round := 0; round < maxTickRounds; round++ {
		in.resetEvents()
		w.evLeft, w.evBytesLeft = min(roundEvents, tickEvents), min(roundBytes, tickBytes)
		tickEvents -= w.evLeft
		tickBytes -= w.evBytesLeft
		more, err := in.callTick(w.h.cfg.fuel, now, final)
		if err == nil {
			err = w.collect(a, in, &packet.Batch{}, 0, now)
		}
		if err != nil {
			if isErr(err, ErrInterrupted) {
				a.interrupted(err)
			} else {
				a.failed(err)
			}
			in.gen.retire(w.ctx, in)
			w.inst[i] = nil
			return
		}
		tickEvents += w.evLeft // what the round did not use
		tickBytes += w.evBytesLeft
		if !more {
			return
		}
		if tickEvents <= 0 || tickBytes <= 0 {
			if final {
				w.h.cfg.logger.Warn("final flush cut short by the event caps", "analyzer", a.name,
					"events", tickCapRounds*roundEvents, "bytes", tickCapRounds*roundBytes)
			}
			return
		}
	}
}

// close flushes and discards the worker's instances.
func (w *Worker) close(ctx context.Context) {
	w.flushStreams()
	if s := w.str; s != nil {
		// The reassembler's memory (tens of MB) goes with the close, not
		// with the last reference to the Host: an embedder may keep a
		// closed Host around. Its last counts stay for StreamStats.
		s.rs, s.chunks, s.data = nil, nil, nil
		w.str = nil
	}
	for i, in := range w.inst {
		if in == nil {
			continue
		}
		a := w.h.analyzers[i]
		if in.tick != nil {
			w.tick(a, i, in, in.lastNow, true)
			in = w.inst[i]
		}
		if in != nil {
			in.gen.retire(ctx, in)
			w.inst[i] = nil
		}
	}
}
