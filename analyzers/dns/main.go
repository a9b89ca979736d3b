// Command dns is wring's bundled DNS analyzer. Built for WASI (analyzers/bundled
// embeds the result), it decodes DNS messages over UDP (ports 53, 5353 mDNS
// and 5355 LLMNR) and TCP (port 53),
// and on the ports listed by ports=N,N,... (UDP and TCP, e.g. ports=8053), and
// reports queries (name, type) and responses (name, type, response code,
// answers) as events, with counters per response code and query type. It
// matches queries (tag 1) and responses (tag 2) in UDP packets.
//
// Over TCP it reads, by default (streams=1), the host's reassembled streams
// (ABI version 2): every message of a connection after its 2-byte length,
// several in one segment or one split across segments, with the same events
// as over UDP (stream events carry no verdict). With streams=0 it reads the
// message at the start of each segment only, as before.
package main

import (
	"errors"

	"github.com/wringcap/wring/wasm/guest"
)

var (
	queries   = guest.NewCounter("queries")
	responses = guest.NewCounter("responses")
	malformed = guest.NewCounter("malformed")
	rcodes    = [6]*guest.Counter{
		guest.NewCounter("rcode.NOERROR"),
		guest.NewCounter("rcode.FORMERR"),
		guest.NewCounter("rcode.SERVFAIL"),
		guest.NewCounter("rcode.NXDOMAIN"),
		guest.NewCounter("rcode.NOTIMP"),
		guest.NewCounter("rcode.REFUSED"),
	}
	rcodeOther = guest.NewCounter("rcode.other")
	qtypes     = []struct {
		t uint16
		c *guest.Counter
	}{
		{1, guest.NewCounter("qtype.A")},
		{28, guest.NewCounter("qtype.AAAA")},
		{5, guest.NewCounter("qtype.CNAME")},
		{12, guest.NewCounter("qtype.PTR")},
		{15, guest.NewCounter("qtype.MX")},
		{16, guest.NewCounter("qtype.TXT")},
		{33, guest.NewCounter("qtype.SRV")},
		{255, guest.NewCounter("qtype.ANY")},
	}
	qtypeOther = guest.NewCounter("qtype.other")
)

type analyzer struct{}

// extra holds the ports=... configuration: more ports, UDP and TCP, that
// carry DNS (the host checks the value: analyzers/bundled declares it).
var extra []uint16

// streamMode is the streams=0|1 configuration (default 1): DNS over TCP
// from reassembled streams, or from the start of each segment.
var streamMode = true

// streamPorts backs Options.StreamPorts: 53, then the ports=... ports, the
// unused slots repeating 53. The SDK reads the options after Init, so Init
// can fill in the configured ports through this shared array (the slice's
// length is fixed when init registers it).
var streamPorts [16]uint16

func (analyzer) Init(cfg guest.Config) error {
	if v, ok := cfg.Get("streams"); ok {
		switch v {
		case "0":
			streamMode = false
		case "1":
			streamMode = true
		default:
			return errors.New("streams: want 0 or 1, got " + quote(v))
		}
	}
	// Packets always (UDP); streams only in stream mode, so that packet
	// mode costs the host no reassembly.
	guest.SetStreams(streamMode, false)
	v, ok := cfg.Get("ports")
	if !ok {
		return nil
	}
	ports, err := parsePorts(v)
	if err != nil {
		return err
	}
	extra = ports
	if streamMode && len(ports) > len(streamPorts)-1 {
		return errors.New("ports: at most 15 ports with streams=1 (53 takes a slot), got " + quote(v))
	}
	copy(streamPorts[1:], ports)
	return nil
}

func isDNSPort(p uint16, tcp bool) bool {
	for _, e := range extra {
		if p == e {
			return true
		}
	}
	if tcp {
		return p == 53
	}
	return p == 53 || p == 5353 || p == 5355
}

// name and answers are scratch buffers reused for every packet.
var (
	name    = make([]byte, 0, 1024)
	answers = make([]byte, 0, 1024)
)

func (analyzer) Packet(p *guest.Packet, v *guest.Verdict) {
	proto := p.IPProto()
	tcp := proto == 6
	if !tcp && proto != 17 || tcp && streamMode {
		return
	}
	if !isDNSPort(p.SrcPort(), tcp) && !isDNSPort(p.DstPort(), tcp) {
		return
	}
	msg := p.Payload()
	if !tcp {
		// The UDP length field bounds the message (the IP length may say more).
		l4 := p.L4Off()
		d := p.Data()
		if l4 < 0 || l4+8 > len(d) {
			return
		}
		ul := int(d[l4+4])<<8 | int(d[l4+5])
		if ul < 8 {
			return
		}
		if ul-8 < len(msg) {
			msg = msg[:ul-8]
		}
	}
	if tcp {
		if len(msg) < 2 {
			return
		}
		msg = msg[2:]
	}
	if tag := report(p, msg, !tcp); tag != 0 {
		v.Match(tag)
	}
}

// eventer is what events are written about: a packet or a chunk.
type eventer interface {
	Event(kind string) *guest.Event
}

// report counts one DNS message and writes its events; it returns the tag
// of a packet verdict (1 query, 2 response, 0 none). cutHeader reports a
// message cut inside its header whose flags say query (UDP, where the
// datagram is all there is).
func report(p eventer, msg []byte, cutHeader bool) uint32 {
	m, ok := Parse(msg)
	if !ok && cutHeader && len(msg) >= 4 && len(msg) < 12 && msg[2]&0x80 == 0 {
		// A message cut inside its header: the flags say query.
		queries.Add(1)
		p.Event("query").Done()
		return 1
	}
	if !ok {
		if len(msg) > 0 {
			malformed.Add(1)
		}
		return 0
	}
	if !m.Response {
		queries.Add(1)
		if _, ok := m.Question(0, name[:0]); !ok || m.QDCount == 0 {
			// No decodable question (a cut or empty message): report the
			// query without a name, as Wireshark does.
			p.Event("query").Uint("id", uint64(m.ID)).Done()
		}
		for i := 0; i < m.QDCount; i++ {
			q, ok := m.Question(i, name[:0])
			if !ok {
				break
			}
			countType(q.Type)
			p.Event("query").Bytes("name", q.Name).Uint("type", uint64(q.Type)).Uint("id", uint64(m.ID)).Done()
		}
		return 1
	}
	responses.Add(1)
	if m.RCode < len(rcodes) {
		rcodes[m.RCode].Add(1)
	} else {
		rcodeOther.Add(1)
	}
	e := p.Event("response").Uint("id", uint64(m.ID)).Uint("rcode", uint64(m.RCode))
	if m.QDCount > 0 {
		if q, ok := m.Question(0, name[:0]); ok {
			e.Bytes("name", q.Name).Uint("type", uint64(q.Type))
		}
	}
	list, n := m.Answers(answers[:0])
	e.Uint("answers", uint64(n))
	if len(list) > 0 {
		e.Bytes("answer", list)
	}
	e.Done()
	return 2
}

// chunkSink writes the stream parser's messages as events of the current
// chunk.
type chunkSink struct{ c *guest.Chunk }

var sink chunkSink

func (s *chunkSink) Message(msg []byte) { report(s.c, msg, false) }

var (
	parser = NewStreamParser()

	cStreamMsgs = guest.NewCounter("tcp.messages")
	cGaps       = guest.NewCounter("gave_up.gaps")
	cCut        = guest.NewCounter("tcp.cut_messages")
	cEmpty      = guest.NewCounter("tcp.empty_messages")
	cEvicted    = guest.NewCounter("gave_up.evicted")
)

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
		parser.Gap(c.Flow(), c.Dir(), uint64(c.Len()))
	case guest.ChunkEnd:
		parser.End(c.Flow())
	}
	a, b := &before, &parser.Stats
	cStreamMsgs.Add(b.Messages - a.Messages)
	cGaps.Add(b.Gaps - a.Gaps)
	cCut.Add(b.Cut - a.Cut)
	cEmpty.Add(b.Empty - a.Empty)
	cEvicted.Add(b.Evicted - a.Evicted)
}

func countType(t uint16) {
	for _, q := range qtypes {
		if q.t == t {
			q.c.Add(1)
			return
		}
	}
	qtypeOther.Add(1)
}

func init() {
	for i := range streamPorts {
		streamPorts[i] = 53
	}
	// Packets (UDP, and TCP with streams=0) and streams (TCP) both; Init
	// drops the streams with streams=0 (guest.SetStreams). A 4 KiB
	// stream area bounds one call's work: back-to-back minimal queries
	// cost about 41,000 fuel units each with their event, 8.8·10⁶ a call
	// (TestDNSStreamsCostlyTrafficWithinFuel runs them at half the default).
	guest.Register(analyzer{}, guest.Options{Need: guest.NeedPayload, PayloadMax: 1500,
		Streams: true, StreamPorts: streamPorts[:], StreamBytes: 4 << 10})
}

func main() {}
