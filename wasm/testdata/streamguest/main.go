// Command streamguest is the test analyzer of the host's stream tests: per
// flow and direction it hashes (FNV-1a 64) and counts the bytes it is
// given, and reports them in a "flow" event when the flow ends. It also
// reports the first TLS record of direction 0 ("tls_record") once it has
// all of it. Built with -ldflags=-X=main.mode=packets it does the same
// hashing on each TCP packet's payload instead (the packet-mode twin of the
// benchmark); with -X=main.quiet=yes it writes no flow events.
package main

import (
	"github.com/wringcap/wring/wasm/guest"
)

var (
	cChunks  = guest.NewCounter("chunks")
	cBytes   = guest.NewCounter("bytes")
	cGaps    = guest.NewCounter("gaps")
	cFlows   = guest.NewCounter("flows")
	cOffErr  = guest.NewCounter("offset_errors")
	cPackets = guest.NewCounter("packets")
	cOrphans = guest.NewCounter("orphans")
)

const fnvOffset, fnvPrime = 14695981039346656037, 1099511628211

// flow is one flow's state, in a fixed table indexed by flow id (the test
// captures hold far fewer than maxFlows concurrent flows): the analyzer
// allocates nothing per flow, so the Go collector (which is costly under
// fuel metering) seldom runs.
type flow struct {
	id         uint64
	ini, res   [16]byte
	alen       int
	iport, rpt uint16
	n, gap, h  [2]uint64
	next       [2]uint64
	tls        int32 // slot in tlsBufs + 1, 0 for none
	tlsLen     int
	tlsDone    bool
}

const (
	maxFlows = 1 << 14
	tlsSlots = 64
	tlsMax   = 5 + 1<<14
)

// The tables are package variables (not on the heap), so they neither
// start a collection nor have to be scanned by one.
var (
	flows   [maxFlows]flow
	hash    [maxFlows]uint64 // packet mode: a hash per flow hash bucket
	tlsBufs [tlsSlots][tlsMax]byte
	tlsFree [tlsSlots]int32
	nFree   int
)

type analyzer struct{}

func (a *analyzer) Init(cfg guest.Config) error {
	for i := range tlsSlots {
		tlsFree[i] = int32(i + 1)
	}
	nFree = tlsSlots
	return nil
}

// fnv is kept out of line: Go's wasm code is one loop per function, so a
// loop inlined into a large function pays that function's size in fuel per
// iteration.
//
//go:noinline
func fnv(h uint64, b []byte) uint64 {
	for _, c := range b {
		h ^= uint64(c)
		h *= fnvPrime
	}
	return h
}

func (a *analyzer) Packet(p *guest.Packet, v *guest.Verdict) {
	cPackets.Add(1)
	if p.IPProto() != 6 {
		return
	}
	pl := p.Payload()
	k := p.FlowHash() % maxFlows
	hash[k] = fnv(hash[k]|fnvOffset, pl)
	cBytes.Add(uint64(len(pl)))
}

// Chunk dispatches to a small function per kind: Go's wasm code branches
// through one loop per function, and the fuel metering charges a
// function's size at each pass, so small functions cost less per branch.
func (a *analyzer) Chunk(c *guest.Chunk) {
	cChunks.Add(1)
	f := &flows[c.Flow()%maxFlows]
	k := c.Kind()
	if k == guest.ChunkStart {
		a.start(c, f)
		return
	}
	if f.id != c.Flow() {
		cOrphans.Add(1)
		return
	}
	switch k {
	case guest.ChunkData:
		a.data(c, f)
	case guest.ChunkGap:
		a.gapChunk(c, f)
	case guest.ChunkEnd:
		a.end(c, f)
	}
}

//go:noinline
func (a *analyzer) start(c *guest.Chunk, f *flow) {
	a.tlsEnd(f)
	*f = flow{id: c.Flow(), h: [2]uint64{fnvOffset, fnvOffset}}
	ia, ip := c.Initiator()
	ra, rp := c.Responder()
	f.alen = copy(f.ini[:], ia)
	copy(f.res[:], ra)
	f.iport, f.rpt = ip, rp
	cFlows.Add(1)
}

//go:noinline
func (a *analyzer) data(c *guest.Chunk, f *flow) {
	d := c.Dir()
	if c.Offset() != f.next[d] {
		cOffErr.Add(1)
	}
	data := c.Data()
	f.next[d] = c.Offset() + uint64(len(data))
	f.h[d] = fnv(f.h[d], data)
	f.n[d] += uint64(len(data))
	cBytes.Add(uint64(len(data)))
	if d == 0 && !f.tlsDone {
		a.tlsRecord(c, f, data)
	}
}

//go:noinline
func (a *analyzer) gapChunk(c *guest.Chunk, f *flow) {
	d := c.Dir()
	if c.Offset() != f.next[d] {
		cOffErr.Add(1)
	}
	f.next[d] = c.Offset() + uint64(c.Len())
	f.gap[d] += uint64(c.Len())
	cGaps.Add(1)
	a.tlsEnd(f)
}

//go:noinline
func (a *analyzer) end(c *guest.Chunk, f *flow) {
	if quiet != "" {
		a.tlsEnd(f)
		f.id = 0
		return
	}
	c.Event("flow").Addr("client", f.ini[:f.alen]).Addr("server", f.res[:f.alen]).
		Uint("cport", uint64(f.iport)).Uint("sport", uint64(f.rpt)).
		Uint("n0", f.n[0]).Uint("n1", f.n[1]).Uint("h0", f.h[0]).Uint("h1", f.h[1]).
		Uint("gap0", f.gap[0]).Uint("gap1", f.gap[1]).Uint("reason", uint64(c.Reason())).Done()
	a.tlsEnd(f)
	f.id = 0
}

// tlsRecord reports the first record of direction 0 when it is a TLS
// handshake record and all of it has arrived.
func (a *analyzer) tlsRecord(c *guest.Chunk, f *flow, data []byte) {
	if f.tls == 0 {
		if data[0] != 0x16 || nFree == 0 {
			f.tlsDone = true
			return
		}
		nFree--
		f.tls = tlsFree[nFree]
	}
	buf := tlsBufs[f.tls-1][:]
	f.tlsLen += copy(buf[f.tlsLen:], data)
	b := buf[:f.tlsLen]
	if len(b) < 5 {
		return
	}
	n := int(b[3])<<8 | int(b[4])
	if len(b) < 5+n {
		if f.tlsLen == len(buf) {
			a.tlsEnd(f)
		}
		return
	}
	c.Event("tls_record").Uint("len", uint64(n)).Uint("type", uint64(b[5])).
		Uint("hash", fnv(fnvOffset, b[5:5+n])).Done()
	a.tlsEnd(f)
}

// tlsEnd stops looking for the flow's first TLS record.
func (a *analyzer) tlsEnd(f *flow) {
	if f.tls != 0 {
		tlsFree[nFree] = f.tls
		nFree++
		f.tls = 0
	}
	f.tlsDone = true
}

func init() {
	a := &analyzer{}
	opts := guest.Options{Streams: true, StreamsOnly: true}
	if cfgMode() == "packets" {
		opts = guest.Options{Need: guest.NeedPacket}
	}
	guest.Register(a, opts)
}

// cfgMode is fixed at build time by -ldflags -X main.mode=packets.
func cfgMode() string { return mode }

var mode = "streams"

// quiet, set with -X main.quiet=yes, writes no flow events (the benchmark's
// stream twin of the packet mode, which writes none).
var quiet = ""

func main() {}
