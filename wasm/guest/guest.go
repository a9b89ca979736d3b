// Package guest is the Go SDK for wring analyzers (spec/ABI.md, version 2;
// hosts speaking version 2 also run version-1 modules).
//
// An analyzer is a Go main package built for WASI as a reactor:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -o my.wasm .
//
// It registers itself from an init function; the SDK provides the ABI
// exports (wring_abi_version, wring_config_buffer, wring_init, wring_process,
// wring_tick) and the buffers they point to:
//
//	var hits = guest.NewCounter("hits")
//
//	type mine struct{}
//
//	func (mine) Init(cfg guest.Config) error { return nil }
//	func (mine) Packet(p *guest.Packet, v *guest.Verdict) {
//		if p.DstPort() == 80 {
//			hits.Add(1)
//			v.Match(80)
//		}
//	}
//
//	func init() { guest.Register(mine{}, guest.Options{Need: guest.NeedPayload, PayloadMax: 512}) }
//	func main() {}
//
// An analyzer that wants TCP streams implements StreamAnalyzer too and sets
// Options.Streams (beside packets) or Options.StreamsOnly:
//
//	func (mine) Chunk(c *guest.Chunk) {
//		switch c.Kind() {
//		case guest.ChunkStart: // c.Initiator(), c.Responder(): a new flow
//		case guest.ChunkData: // c.Data() of direction c.Dir() at c.Offset()
//		case guest.ChunkGap: // c.Len() bytes of c.Dir() were lost
//		case guest.ChunkEnd: // c.Reason(); forget c.Flow()
//		}
//	}
//
//	func init() { guest.Register(mine{}, guest.Options{StreamsOnly: true, StreamPorts: []uint16{443}}) }
//
// The package imports nothing outside the standard library, so analyzers
// stay small; its constants mirror spec/abi.go (a test checks them).
package guest

// Analyzer is implemented by an analyzer.
type Analyzer interface {
	// Init receives the operator's configuration once per instance.
	Init(cfg Config) error
	// Packet is called for each packet of a batch; v starts as no opinion.
	Packet(p *Packet, v *Verdict)
}

// Ticker is implemented by analyzers that want wring_tick calls: on the
// host's timer (final false) and once when the host closes (final true).
type Ticker interface {
	Tick(now int64, final bool)
}

// Need says which bytes of each packet the host copies.
type Need uint32

// Needs.
const (
	NeedRecord  Need = 0 // the Record only
	NeedHeaders Need = 1 // bytes up to the transport payload
	NeedPayload Need = 2 // headers and up to Options.PayloadMax payload bytes
	NeedPacket  Need = 3 // every captured byte
)

// Options are an analyzer's declarations.
type Options struct {
	Need       Need
	PayloadMax uint32   // with NeedPayload
	MaxPackets int      // packets per call; default 256
	BatchBytes int      // size of the batch area; default fits MaxPackets packets of the declared size
	EventBytes int      // size of the event area; default 64 KiB, 0 keeps the default
	Sinks      []string // sinks Verdict.Forward refers to by index
	// Tunnels asks the host to enter tunnels (GRE, VXLAN, Geneve, IP in
	// IP, 6in4, GTP-U; spec/TUNNEL.md): the Record then describes the
	// inner packet, and Packet.TunnelType and its siblings the outer one
	// (ABI version 2).
	Tunnels bool

	// Streams asks for reassembled TCP streams (ABI version 2): the
	// analyzer must implement StreamAnalyzer. StreamsOnly asks for streams
	// and no packets (Packet is then never called, and the packet options
	// are ignored). StreamPorts limits the streams to flows with one of
	// these ports (at most 16; none: every TCP flow). StreamBytes is the
	// size of the stream area (default 256 KiB, 4 KiB..16 MiB).
	// StreamChunks bounds the chunks per call (default 256), as MaxPackets
	// does the packets.
	Streams      bool
	StreamsOnly  bool
	StreamPorts  []uint16
	StreamBytes  int
	StreamChunks int
}

var (
	registered Analyzer
	options    Options
)

// Register installs the analyzer. Call it once, from an init function.
func Register(a Analyzer, o Options) {
	if registered != nil {
		panic("guest: Register called twice")
	}
	registered, options = a, o
}

// SetTunnels turns Options.Tunnels on or off from Init, for analyzers whose
// configuration decides whether they look inside tunnels.
func SetTunnels(on bool) { options.Tunnels = on }

// SetStreams sets Options.Streams and Options.StreamsOnly from Init, for
// analyzers whose configuration chooses between packets and streams: the
// Info block is written after Init, so a module that reads packets only
// costs the host no reassembly, and one that reads streams only gets no
// packets. StreamsOnly implies Streams.
func SetStreams(streams, only bool) {
	options.Streams, options.StreamsOnly = streams || only, only
}

// Verdict is the decision for one packet.
type Verdict struct {
	action uint8
	sink   uint16
	tag    uint32
}

// Match marks the packet as matching, with a tag naming the rule.
func (v *Verdict) Match(tag uint32) { v.action, v.tag = actionMatch, tag }

// Forward sends the packet to sink i of Options.Sinks.
func (v *Verdict) Forward(i int, tag uint32) {
	v.action, v.sink, v.tag = actionForward, uint16(i), tag
}

// Drop drops the packet.
func (v *Verdict) Drop() { v.action = actionDrop }

// Counter is a u64 counter the host reads from guest memory.
type Counter struct{ i int }

var (
	counters     [maxCounters]uint64
	counterNames []byte
	nCounters    int
)

// NewCounter declares a counter. Call it at package initialisation, before
// the host calls wring_init. Names are 1..64 bytes of letters, digits and
// _ . : / -.
func NewCounter(name string) *Counter {
	if nCounters == maxCounters {
		panic("guest: too many counters")
	}
	c := &Counter{i: nCounters}
	nCounters++
	counterNames = append(append(counterNames, name...), 0)
	return c
}

// Add adds n to the counter.
func (c *Counter) Add(n uint64) { counters[c.i] += n }

// Value returns the counter's value.
func (c *Counter) Value() uint64 { return counters[c.i] }

// tickMore is set by TickMore during a Tick call.
var tickMore bool

// TickMore asks the host to call Tick again with the same arguments once the
// events written so far are collected. Call it from Tick.
func TickMore() { tickMore = true }

// EventRoom reports how many bytes are left in the event area.
func EventRoom() int { return len(events) - eventsHeader - int(le32(events)) }
