// Command http is wring's bundled HTTP/1.x analyzer. Built for WASI
// (analyzers/bundled embeds the result), it reports requests (method, host,
// URI, content length) and responses (status code, content length, and the
// request they answer) as events, with counters per method and per status
// class, on any TCP port.
//
// By default (streams=1) it reads the host's reassembled TCP streams (ABI
// version 2): every request and response of a connection, pipelined ones
// included, a header block split across segments, bodies skipped by
// Content-Length and by the chunked transfer coding, no body after HEAD,
// 1xx, 204 and 304, responses paired with their requests in order. Its
// state is bounded (stream.go); what it gives up is counted (gave_up.*).
// Stream events carry no verdict (the ABI has none for chunks).
//
// With streams=0 it looks at one packet at a time as before: a request line
// or header block split across TCP segments is reported from its first
// segment only, and only the first message of a segment; it matches
// requests (tag 1) and responses (tag 2).
package main

import (
	"errors"

	"github.com/wringcap/wring/wasm/guest"
)

var (
	methods = []struct {
		name string
		c    *guest.Counter
	}{
		{"GET", guest.NewCounter("method.GET")},
		{"POST", guest.NewCounter("method.POST")},
		{"HEAD", guest.NewCounter("method.HEAD")},
		{"PUT", guest.NewCounter("method.PUT")},
		{"DELETE", guest.NewCounter("method.DELETE")},
		{"OPTIONS", guest.NewCounter("method.OPTIONS")},
		{"CONNECT", guest.NewCounter("method.CONNECT")},
		{"TRACE", guest.NewCounter("method.TRACE")},
		{"PATCH", guest.NewCounter("method.PATCH")},
	}
	otherMethod = guest.NewCounter("method.other")
	status      = [6]*guest.Counter{
		guest.NewCounter("status.other"),
		guest.NewCounter("status.1xx"),
		guest.NewCounter("status.2xx"),
		guest.NewCounter("status.3xx"),
		guest.NewCounter("status.4xx"),
		guest.NewCounter("status.5xx"),
	}
	requests  = guest.NewCounter("requests")
	responses = guest.NewCounter("responses")
)

// The stream parser's give-ups and state, published from its Stats.
var (
	cGaps       = guest.NewCounter("gave_up.gaps")
	cOversize   = guest.NewCounter("gave_up.oversize_header")
	cTruncated  = guest.NewCounter("truncated_headers")
	cNoBuffer   = guest.NewCounter("gave_up.no_buffer")
	cFraming    = guest.NewCounter("gave_up.bad_framing")
	cEvicted    = guest.NewCounter("gave_up.evicted")
	cNotHTTP    = guest.NewCounter("not_http")
	cResynced   = guest.NewCounter("resynced")
	cUnpaired   = guest.NewCounter("unpaired_responses")
	cOverflow   = guest.NewCounter("pipeline_overflow")
	cTunnels    = guest.NewCounter("tunnels")
	cUntilClose = guest.NewCounter("bodies_until_close")
)

type analyzer struct{}

// streamMode is the streams=0|1 configuration (default 1).
var streamMode = true

var parser = NewParser()

func (analyzer) Init(cfg guest.Config) error {
	if v, ok := cfg.Get("streams"); ok {
		switch v {
		case "0":
			streamMode = false
		case "1":
			streamMode = true
		default:
			return errors.New("streams: want 0 or 1, got " + v)
		}
	}
	// Stream mode reads no packets (HTTP is TCP only), packet mode no
	// streams: the host then does only the work of the mode chosen.
	guest.SetStreams(streamMode, false)
	return nil
}

// chunkSink writes the parser's messages as events of the current chunk.
type chunkSink struct{ c *guest.Chunk }

var sink chunkSink

func (s *chunkSink) Message(m *Message) {
	if m.Request {
		countMethod(m.Method)
		e := s.c.Event("request").Bytes("method", m.Method).Bytes("uri", m.URI)
		if m.Host != nil {
			e.Bytes("host", m.Host)
		}
		e.Bytes("version", m.Version)
		if m.Length >= 0 {
			e.Int("content_length", m.Length)
		}
		if m.Chunked {
			e.Bool("chunked", true)
		}
		if m.Truncated {
			e.Bool("truncated", true)
		}
		e.Done()
		return
	}
	countStatus(m.Status)
	e := s.c.Event("response").Uint("status", uint64(m.Status)).Bytes("version", m.Version)
	if m.Length >= 0 {
		e.Int("content_length", m.Length)
	}
	if m.Chunked {
		e.Bool("chunked", true)
	}
	if m.Truncated {
		e.Bool("truncated", true)
	}
	if m.Paired {
		e.Bytes("request_method", m.ReqMeth).Bytes("request_uri", m.ReqURI)
		if m.ReqHost != nil {
			e.Bytes("request_host", m.ReqHost)
		}
	}
	e.Done()
}

func (analyzer) Chunk(c *guest.Chunk) {
	if !streamMode {
		return
	}
	before := parser.Stats
	switch c.Kind() {
	case guest.ChunkStart:
		parser.Start(c.Flow())
	case guest.ChunkData:
		sink.c = c
		parser.Data(c.Flow(), c.Dir(), c.Data(), &sink)
	case guest.ChunkGap:
		sink.c = c
		parser.Gap(c.Flow(), c.Dir(), uint64(c.Len()), &sink)
	case guest.ChunkEnd:
		sink.c = c
		parser.End(c.Flow(), c.Reason() == guest.EndFIN || c.Reason() == guest.EndRST, &sink)
	}
	publish(&before, &parser.Stats)
}

// publish adds what the parser counted during one chunk to the counters.
func publish(a, b *StreamStats) {
	requests.Add(b.Requests - a.Requests)
	responses.Add(b.Responses - a.Responses)
	cGaps.Add(b.Gaps - a.Gaps)
	cOversize.Add(b.Oversize - a.Oversize)
	cTruncated.Add(b.Truncated - a.Truncated)
	cNoBuffer.Add(b.NoBuffer - a.NoBuffer)
	cFraming.Add(b.BadFraming - a.BadFraming)
	cEvicted.Add(b.Evicted - a.Evicted)
	cNotHTTP.Add(b.NotHTTP - a.NotHTTP)
	cResynced.Add(b.Resynced - a.Resynced)
	cUnpaired.Add(b.Unpaired - a.Unpaired)
	cOverflow.Add(b.Overflow - a.Overflow)
	cTunnels.Add(b.Tunnels - a.Tunnels)
	cUntilClose.Add(b.UntilClose - a.UntilClose)
}

func countMethod(m []byte) {
	for _, k := range methods {
		if string(m) == k.name {
			k.c.Add(1)
			return
		}
	}
	otherMethod.Add(1)
}

func countStatus(s int) {
	class := s / 100
	if class < 1 || class > 5 {
		class = 0
	}
	status[class].Add(1)
}

func (analyzer) Packet(p *guest.Packet, v *guest.Verdict) {
	if streamMode || p.IPProto() != 6 {
		return
	}
	pl := p.Payload()
	if len(pl) < 3 {
		return
	}
	truncated := p.Truncated()
	if r, ok := ParseRequest(pl, truncated); ok {
		requests.Add(1)
		countMethod(r.Method)
		e := p.Event("request").Bytes("method", r.Method).Bytes("uri", r.URI)
		if r.Host != nil {
			e.Bytes("host", r.Host)
		}
		e.Bytes("version", r.Version).Done()
		v.Match(1)
		return
	}
	if r, ok := ParseResponse(pl, truncated); ok {
		responses.Add(1)
		countStatus(r.Status)
		e := p.Event("response").Uint("status", uint64(r.Status)).Bytes("version", r.Version)
		if r.ContentLength >= 0 {
			e.Int("content_length", r.ContentLength)
		}
		e.Done()
		v.Match(2)
	}
}

func init() {
	// Packets and streams both; Init keeps only the mode streams= chooses
	// (guest.SetStreams).
	//
	// A 16 KiB stream area bounds the bytes one wring_streams call parses:
	// the costliest traffic known (8 KiB header blocks of 4-byte lines,
	// TestHTTPStreamsCostlyTrafficWithinFuel) needs 1.9·10⁷ fuel units a
	// call, under half the host's default 5·10⁷.
	guest.Register(analyzer{}, guest.Options{Need: guest.NeedPayload, PayloadMax: 4096,
		Streams: true, StreamBytes: 16 << 10})
}

func main() {}
