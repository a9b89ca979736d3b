package capture

import (
	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/spec"
)

// Handler receives batches of packets that passed the filter. It may set a
// verdict per packet (b.Verdicts[i]); packets it drops (ActionDrop) are
// removed before later handlers and the sinks see the batch. The packets'
// data is valid only until Handle returns. Handlers shared by several
// workers are called concurrently. The Wasm host's *wasm.Host is a Handler.
type Handler interface {
	Handle(b *packet.Batch) error
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(b *packet.Batch) error

// Handle calls f(b).
func (f HandlerFunc) Handle(b *packet.Batch) error { return f(b) }

// Sink is a Handler that writes packets somewhere: it writes every packet
// of each batch it is given, and buffers until Flush or Close.
type Sink interface {
	Handler
	Flush() error
	Close() error
}

// RecordUser is implemented by sinks that say whether they read the parse
// record. The pipeline skips the parse when no filter, handler or sink
// needs it; a sink that does not implement RecordUser is assumed to.
type RecordUser interface {
	UsesRecord() bool
}

// UsesRecord reports whether sink s reads the parse record: what it says
// if it is a RecordUser, else true. Wrappers of a sink answer with it.
func UsesRecord(s Sink) bool {
	u, ok := s.(RecordUser)
	return !ok || u.UsesRecord()
}

// Filter is a userspace packet filter with classic BPF semantics: it
// returns how many bytes of the packet to keep, 0 to reject it. pkt holds
// the captured bytes, wirelen the length on the wire. The JIT's *jit.Filter
// satisfies it, as does the reference interpreter's vm.Filter; capture
// imports neither, and the caller (cmd/wring) picks the engine.
type Filter interface {
	Run(pkt []byte, wirelen uint32) uint32
}

// MetaFilter is a Filter that can also read the packet's metadata and parse
// record (ancillary and record loads). The pipeline uses RunMeta when the
// configuration says the filter reads them.
type MetaFilter interface {
	Filter
	RunMeta(pkt []byte, wirelen uint32, meta *spec.Meta) uint32
}

// WorkerFilter is a Filter with state that one worker must own (a flow
// table, scratch space): the pipeline calls ForWorker once for each of its
// workers and runs that worker's packets through the filter it returns,
// which must decide as the original does.
type WorkerFilter interface {
	Filter
	ForWorker() (Filter, error)
}

// MetaBatchFilter is a MetaFilter that decides a whole batch of parsed
// packets in one call. With FilterMeta the pipeline parses every packet of
// a batch and calls RunMetaBatch once: ret[i] must be what RunMeta would
// return for pk[i] were it called for each packet in order; meta(i) is
// packet i's metadata (valid until the next call of meta).
type MetaBatchFilter interface {
	MetaFilter
	RunMetaBatch(pk []packet.Packet, meta func(i int) *spec.Meta, ret []uint32)
}

// BatchFilter is a Filter that can run on a whole batch in one call
// (the JIT's *jit.Filter): results[i] is what Run would return for
// packet i. The pipeline uses it when the filter reads no metadata.
type BatchFilter interface {
	Filter
	RunBatch(pkts [][]byte, wirelens []uint32, results []uint32) error
}
