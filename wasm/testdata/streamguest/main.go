// Command streamguest is the test analyzer of the host's stream tests: per
// flow and direction it hashes (FNV-1a 64) and counts the bytes it is
// given, and reports them in a "flow" event when the flow ends. It also
// reports the first TLS record of direction 0 ("tls_record") once it has
// all of it. Built with -ldflags=-X=main.mode=packets it does the same
// hashing on each TCP packet's payload instead (the packet-mode twin of the
// benchmark).
package main

import (
	"strconv"

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

type flow struct {
	ini, res   []byte
	iport, rpt uint16
	n, gap, h  [2]uint64
	next       [2]uint64
	tls        []byte
	tlsDone    bool
}

type analyzer struct {
	flows map[uint64]*flow
	hash  map[uint32]uint64 // packet mode: per flow hash
}

func (a *analyzer) Init(cfg guest.Config) error {
	a.flows = map[uint64]*flow{}
	a.hash = map[uint32]uint64{}
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
	h, ok := a.hash[p.FlowHash()]
	if !ok {
		h = fnvOffset
	}
	a.hash[p.FlowHash()] = fnv(h, pl)
	cBytes.Add(uint64(len(pl)))
}

func (a *analyzer) Chunk(c *guest.Chunk) {
	cChunks.Add(1)
	f := a.flows[c.Flow()]
	if c.Kind() == guest.ChunkStart {
		f = &flow{h: [2]uint64{fnvOffset, fnvOffset}}
		ia, ip := c.Initiator()
		ra, rp := c.Responder()
		f.ini, f.iport = append([]byte(nil), ia...), ip
		f.res, f.rpt = append([]byte(nil), ra...), rp
		a.flows[c.Flow()] = f
		cFlows.Add(1)
		return
	}
	if f == nil {
		cOrphans.Add(1)
		return
	}
	d := c.Dir()
	switch c.Kind() {
	case guest.ChunkData:
		if c.Offset() != f.next[d] {
			cOffErr.Add(1)
		}
		data := c.Data()
		f.next[d] = c.Offset() + uint64(len(data))
		f.h[d] = fnv(f.h[d], data)
		f.n[d] += uint64(len(data))
		cBytes.Add(uint64(len(data)))
		if d == 0 && !f.tlsDone {
			f.tls = append(f.tls, data...)
			a.tlsRecord(c, f)
		}
	case guest.ChunkGap:
		if c.Offset() != f.next[d] {
			cOffErr.Add(1)
		}
		f.next[d] = c.Offset() + uint64(c.Len())
		f.gap[d] += uint64(c.Len())
		cGaps.Add(1)
		f.tlsDone = true
	case guest.ChunkEnd:
		c.Event("flow").Addr("client", f.ini).Addr("server", f.res).
			Uint("cport", uint64(f.iport)).Uint("sport", uint64(f.rpt)).
			Uint("n0", f.n[0]).Uint("n1", f.n[1]).
			String("h0", strconv.FormatUint(f.h[0], 16)).String("h1", strconv.FormatUint(f.h[1], 16)).
			Uint("gap0", f.gap[0]).Uint("gap1", f.gap[1]).Uint("reason", uint64(c.Reason())).Done()
		delete(a.flows, c.Flow())
	}
}

// tlsRecord reports the first record of direction 0 when it is a TLS
// handshake record and all of it has arrived.
func (a *analyzer) tlsRecord(c *guest.Chunk, f *flow) {
	b := f.tls
	if len(b) > 0 && b[0] != 0x16 || len(b) > 5+1<<14 {
		f.tlsDone, f.tls = true, nil
		return
	}
	if len(b) < 5 {
		return
	}
	n := int(b[3])<<8 | int(b[4])
	if len(b) < 5+n {
		return
	}
	c.Event("tls_record").Uint("len", uint64(n)).Uint("type", uint64(b[5])).
		String("hash", strconv.FormatUint(fnv(fnvOffset, b[5:5+n]), 16)).Done()
	f.tlsDone, f.tls = true, nil
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

func main() {}
