package main

import (
	"bytes"

	"github.com/wringcap/wring/wasm/guest"
)

// Bounds of the stream parser's state (spec/LIMITS.md, "HTTP analyzer").
const (
	maxFlows   = 2048 // flows followed at once; the least recently used is replaced
	headerMax  = 8192 // bytes of one header block kept across chunks
	headerBufs = 128  // header blocks kept across chunks at once (all flows)
	pendingMax = 8    // requests awaiting their response per flow
	keepMethod = 16   // bytes of a request's method kept for its response
	keepHost   = 96   // of its Host
	keepURI    = 256  // of its URI
	lineMax    = 1024 // bytes of a chunk-size line or of one trailer line
	trailerMax = 8192 // bytes of a trailer section
)

// Direction states.
const (
	stHead       uint8 = iota // at (or inside) a header block
	stBody                    // skipping remain body bytes, then stHead
	stChunkSize               // reading a chunk-size line
	stChunkData               // skipping remain chunk bytes, then stChunkEnd
	stChunkEnd                // the CRLF after chunk data
	stTrailer                 // trailer lines up to an empty one
	stUntilClose              // a body delimited by the end of the connection
	stTunnel                  // after 101 or a CONNECT's 2xx: not HTTP any more
	stNotHTTP                 // bytes that are not HTTP/1.x: ignored
	stLost                    // lost sync after a gap or a give-up: wait for a message start
)

// Message is one request or response header block, its fields pointing
// into the parser's buffers or the chunk: valid only during the sink call.
type Message struct {
	Request  bool
	Method   []byte // request
	URI      []byte
	Host     []byte // nil when absent
	Version  []byte
	Status   int   // response
	Length   int64 // Content-Length, -1 when absent or invalid
	Chunked  bool  // Transfer-Encoding ends in chunked
	Paired   bool  // response: the request below is the one it answers
	ReqMeth  []byte
	ReqURI   []byte
	ReqHost  []byte
	Informal bool // response: 1xx, the final response is still to come
	// Truncated: the header block was cut by a gap (the snapshot length):
	// the fields are those of the part captured.
	Truncated bool
}

// Sink receives the parser's messages.
type Sink interface {
	Message(m *Message)
}

// StreamStats are the stream parser's counters.
type StreamStats struct {
	Requests, Responses uint64
	Gaps                uint64 // directions that lost sync at a gap
	Oversize            uint64 // header blocks larger than headerMax
	Truncated           uint64 // header blocks cut by a gap, reported as far as they go
	NoBuffer            uint64 // header blocks split while headerBufs others were
	BadFraming          uint64 // malformed chunked framing, line or trailer too long
	NotHTTP             uint64 // directions whose bytes are not HTTP/1.x
	Resynced            uint64 // directions that found a message start again after losing sync
	Evicted             uint64 // flows replaced while still open
	Unpaired            uint64 // responses without a pending request
	Overflow            uint64 // requests not queued: pendingMax already waiting
	Tunnels             uint64 // flows switched to another protocol (101, CONNECT)
	UntilClose          uint64 // bodies delimited by the connection's end
}

// pending is a request awaiting its response. Like all the parser's state
// it holds no pointers: the guest's garbage collector never scans it, and
// updating it costs no write barrier.
type pending struct {
	mbuf               [keepMethod]byte
	hbuf               [keepHost]byte
	ubuf               [keepURI]byte
	mlen, hlen         uint8
	ulen               uint16
	hasHost, head, con bool
}

type half struct {
	st     uint8
	remain uint64 // body or chunk bytes left
	n      int    // header block bytes kept across chunks
	buf    int32  // 1 + the index of the arena buffer holding them, 0 none
	line   int    // bytes of the current line seen (chunk-size, trailer)
	size   uint64 // chunk size being read
	digits int    // its hex digits
	inExt  bool   // past the digits of the chunk-size line
	total  int    // trailer bytes seen
	resp   bool   // the message being skipped is a response (for counting)
}

type flow struct {
	slot  int // index in Parser.flows and the arena
	dir   [2]half
	q     [pendingMax]pending
	qh    int
	qn    int
	qLost bool // requests were lost: responses are no longer paired
}

// Parser follows HTTP/1.x over reassembled TCP streams.
type Parser struct {
	tab   *guest.FlowSlots
	flows []flow
	arena []byte  // headerBufs buffers of headerMax bytes
	free  []int32 // free buffer indices
	msg   Message
	Stats StreamStats
}

// NewParser returns a parser with all its memory allocated.
func NewParser() *Parser {
	p := &Parser{tab: guest.NewFlowSlots(maxFlows), flows: make([]flow, maxFlows),
		arena: make([]byte, headerBufs*headerMax), free: make([]int32, headerBufs)}
	for i := range p.free {
		p.free[i] = int32(headerBufs - 1 - i)
	}
	return p
}

// window returns the header buffer of h, taking one from the pool when it
// has none (nil when the pool is empty).
func (p *Parser) window(h *half) []byte {
	if h.buf == 0 {
		if len(p.free) == 0 {
			return nil
		}
		h.buf = p.free[len(p.free)-1] + 1
		p.free = p.free[:len(p.free)-1]
	}
	o := int(h.buf-1) * headerMax
	return p.arena[o : o+headerMax : o+headerMax]
}

// release empties h's header buffer and returns it to the pool.
func (p *Parser) release(h *half) {
	if h.buf != 0 {
		p.free = append(p.free, h.buf-1)
		h.buf = 0
	}
	h.n = 0
}

// Reset forgets every flow and zeroes the counters.
func (p *Parser) Reset() {
	for s := range p.tab.Slots() {
		if id := p.tab.Owner(s); id != 0 {
			p.tab.Remove(id)
			p.reset(s)
		}
	}
	p.Stats = StreamStats{}
}

// Start begins flow id.
func (p *Parser) Start(id uint64) {
	if s := p.tab.Remove(id); s >= 0 {
		p.reset(s)
	}
	p.add(id)
}

func (p *Parser) add(id uint64) int {
	s, ev := p.tab.Add(id)
	if ev != 0 {
		p.Stats.Evicted++
	}
	p.reset(s)
	return s
}

func (p *Parser) reset(s int) {
	f := &p.flows[s]
	f.slot = s
	p.release(&f.dir[0])
	p.release(&f.dir[1])
	f.dir[0], f.dir[1] = half{}, half{}
	f.qh, f.qn, f.qLost = 0, 0, false
}

// End forgets flow id. With cut set, a header block the flow ended inside
// (the capture cut its last segment) is reported as far as it goes,
// marked Truncated. The caller sets it for flows closed by FIN or RST only:
// the host ends idle flows and those open when the capture ends in the
// order of its flow table, which is not fixed, and the events would come
// in a different order from one run to the next.
func (p *Parser) End(id uint64, cut bool, out Sink) {
	s := p.tab.Remove(id)
	if s < 0 {
		return
	}
	f := &p.flows[s]
	for d := range f.dir {
		if h := &f.dir[d]; cut && h.st == stHead && h.n > 0 {
			p.Stats.Truncated++
			p.message(f, h, d, p.window(h)[:h.n], out, true)
		}
	}
	p.reset(s)
}

// Flows returns the number of flows followed.
func (p *Parser) Flows() int { return p.tab.Live() }

// lookup returns the flow, nil when its start was not seen (a replaced
// instance, an evicted flow).
func (p *Parser) lookup(id uint64) *flow {
	s := p.tab.Get(id)
	if s < 0 {
		return nil
	}
	return &p.flows[s]
}

// Gap tells that n bytes of direction d were lost. A header block cut by
// the gap (as the snapshot length cuts a packet) is reported as far as it
// goes, marked Truncated, as Wireshark reports a cut frame.
func (p *Parser) Gap(id uint64, d int, n uint64, out Sink) {
	f := p.lookup(id)
	if f == nil {
		return
	}
	h := &f.dir[d&1]
	switch h.st {
	case stBody, stChunkData:
		if n <= h.remain {
			h.remain -= n
			if h.remain == 0 && h.st == stBody {
				h.st = stHead
			} else if h.remain == 0 {
				h.st, h.line = stChunkEnd, 0
			}
			return
		}
	case stUntilClose, stTunnel, stNotHTTP, stLost:
		return
	case stHead:
		if h.n > 0 {
			p.Stats.Truncated++
			p.message(f, h, d&1, p.window(h)[:h.n], out, true)
		}
	}
	p.Stats.Gaps++
	p.lose(f, h)
}

// lose drops a direction's sync: it waits for a chunk that starts a
// message. Requests lost on the way make the pairing unreliable.
func (p *Parser) lose(f *flow, h *half) {
	h.st = stLost
	p.release(h)
	f.qh, f.qn, f.qLost = 0, 0, true
}

// Data hands over direction d's next bytes.
//
// A flow whose start was not seen is taken up, in the lost state, at a
// chunk that starts a message.
func (p *Parser) Data(id uint64, d int, b []byte, out Sink) {
	f := p.lookup(id)
	if f == nil {
		if !startsMessage(b) {
			return
		}
		f = &p.flows[p.add(id)]
		f.dir[0].st, f.dir[1].st = stLost, stLost
		f.qLost = true
	}
	h := &f.dir[d&1]
	if h.st == stLost {
		if !startsMessage(b) {
			return
		}
		h.st = stHead
		p.Stats.Resynced++
	}
	for len(b) > 0 {
		switch h.st {
		case stHead:
			b = p.head(f, h, d&1, b, out)
		case stBody, stChunkData:
			n := uint64(len(b))
			if n > h.remain {
				n = h.remain
			}
			b = b[n:]
			h.remain -= n
			if h.remain == 0 {
				if h.st == stBody {
					h.st = stHead
				} else {
					h.st, h.line = stChunkEnd, 0
				}
			}
		case stChunkSize:
			b = p.chunkSize(f, h, b)
		case stChunkEnd:
			// CRLF (or a bare LF) after the chunk's data.
			c := b[0]
			b = b[1:]
			switch {
			case c == '\n':
				h.st, h.line, h.size, h.digits, h.inExt = stChunkSize, 0, 0, 0, false
			case c == '\r' && h.line == 0:
				h.line = 1
			default:
				p.Stats.BadFraming++
				p.lose(f, h)
				return
			}
		case stTrailer:
			b = p.trailer(f, h, b)
		default: // stUntilClose, stTunnel, stNotHTTP, stLost
			return
		}
	}
}

// startsMessage reports whether b begins like a request or status line.
func startsMessage(b []byte) bool {
	if len(b) >= 5 && string(b[:5]) == "HTTP/" {
		return true
	}
	sp := bytes.IndexByte(b[:min(len(b), 21)], ' ')
	return sp > 0 && knownMethod(b[:sp])
}

// plausible reports whether the first bytes of a message (at least one) can
// still become a request or status line.
func plausible(b []byte) bool {
	const v = "HTTP/"
	n := min(len(b), len(v))
	if string(b[:n]) == v[:n] {
		return true
	}
	for i, c := range b {
		if c == ' ' {
			return i > 0
		}
		if i >= 20 || !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// headerEnd returns the offset just past the empty line that ends the
// header block in b, searching from from, or -1.
func headerEnd(b []byte, from int) int {
	// One bytes.IndexByte a line: a Go loop over every byte costs several
	// times more fuel in a Wasm guest.
	for i := max(from, 0); i < len(b); i++ {
		k := bytes.IndexByte(b[i:], '\n')
		if k < 0 {
			return -1
		}
		i += k
		if i+1 < len(b) && b[i+1] == '\n' {
			return i + 2
		}
		if i+2 < len(b) && b[i+1] == '\r' && b[i+2] == '\n' {
			return i + 3
		}
	}
	return -1
}

// head reads a header block: from b alone when it holds all of it,
// otherwise through the direction's window of the arena.
func (p *Parser) head(f *flow, h *half, d int, b []byte, out Sink) []byte {
	if h.n == 0 {
		// Empty lines before a message are ignored (RFC 9112 §2.2).
		for len(b) > 0 && (b[0] == '\r' || b[0] == '\n') {
			b = b[1:]
		}
		if len(b) == 0 {
			return b
		}
		if !plausible(b) {
			p.Stats.NotHTTP++
			h.st = stNotHTTP
			return nil
		}
		// At most headerMax bytes, as when the block is kept across chunks:
		// the result does not depend on where the segments were cut.
		if e := headerEnd(b[:min(len(b), headerMax)], 0); e >= 0 {
			p.message(f, h, d, b[:e], out, false)
			return b[e:]
		}
		if len(b) >= headerMax {
			p.Stats.Oversize++
			p.lose(f, h)
			return nil
		}
		buf := p.window(h)
		if buf == nil {
			p.Stats.NoBuffer++
			p.lose(f, h)
			return nil
		}
		h.n = copy(buf, b)
		return nil
	}
	buf := p.window(h)
	old := h.n
	h.n += copy(buf[old:], b)
	cur := buf[:h.n]
	if old <= 20 && !plausible(cur) { // plausible looks at 21 bytes at most
		p.Stats.NotHTTP++
		h.st = stNotHTTP
		p.release(h)
		return nil
	}
	e := headerEnd(cur, old-3)
	if e < 0 {
		if h.n == headerMax {
			p.Stats.Oversize++
			p.lose(f, h)
		}
		return nil
	}
	p.message(f, h, d, buf[:e], out, false)
	p.release(h)
	return b[e-old:]
}

// message reports a complete header block and sets up its body.
func (p *Parser) message(f *flow, h *half, d int, blk []byte, out Sink, truncated bool) {
	m := &p.msg
	*m = Message{Length: -1}
	m.Truncated = truncated
	// A whole block: the first line is parsed alone, the header lines by
	// scanHeaders (ParseRequest's loop costs far more fuel per line). A
	// cut block goes through the packet parser's rules for cut lines.
	first := blk
	if !truncated {
		first = blk[:bytes.IndexByte(blk, '\n')+1]
	}
	if r, ok := ParseRequest(first, truncated); ok {
		m.Request, m.Method, m.URI, m.Host, m.Version = true, r.Method, r.URI, r.Host, r.Version
	} else if r, ok := ParseResponse(first, truncated); ok {
		m.Version, m.Status = r.Version, r.Status
	} else {
		p.Stats.NotHTTP++
		h.st = stNotHTTP
		return
	}
	rest := blk[len(first):]
	if truncated {
		// The complete lines after the first; the last one may be cut.
		rest = blk[bytes.IndexByte(blk, '\n')+1:]
		rest = rest[:bytes.LastIndexByte(rest, '\n')+1]
	}
	host, hasHost, length, chunked := scanHeaders(rest)
	m.Length, m.Chunked = length, chunked
	if !truncated && m.Request && hasHost {
		m.Host = host
	}
	if m.Request {
		p.Stats.Requests++
		p.push(f, m)
		out.Message(m)
		p.body(h, m.Length, m.Chunked, false)
		return
	}
	p.Stats.Responses++
	m.Informal = m.Status >= 100 && m.Status < 200
	var req *pending
	if f.qn > 0 && !f.qLost {
		req = &f.q[f.qh]
		m.Paired, m.ReqMeth, m.ReqURI = true, req.mbuf[:req.mlen], req.ubuf[:req.ulen]
		if req.hasHost {
			m.ReqHost = req.hbuf[:req.hlen]
		}
	} else {
		p.Stats.Unpaired++
	}
	out.Message(m)
	switch {
	case m.Status == 101 || req != nil && req.con && m.Status >= 200 && m.Status < 300:
		// The connection carries another protocol from here on.
		p.Stats.Tunnels++
		f.dir[0].st, f.dir[1].st = stTunnel, stTunnel
		p.release(&f.dir[0])
		p.release(&f.dir[1])
	case m.Informal:
		h.st = stHead
	case req != nil && req.head || m.Status == 204 || m.Status == 304:
		h.st = stHead
	default:
		if m.Length < 0 && !m.Chunked {
			p.Stats.UntilClose++
			h.st = stUntilClose
		} else {
			p.body(h, m.Length, m.Chunked, true)
		}
	}
	if !m.Informal && f.qn > 0 {
		f.qh = (f.qh + 1) % pendingMax
		f.qn--
	}
}

// body sets up the skipping of a message body.
func (p *Parser) body(h *half, length int64, chunked, resp bool) {
	h.resp = resp
	switch {
	case chunked:
		h.st, h.line, h.size, h.digits, h.inExt = stChunkSize, 0, 0, 0, false
	case length > 0:
		h.st, h.remain = stBody, uint64(length)
	default:
		h.st = stHead
	}
}

// push queues a request for pairing with its response.
func (p *Parser) push(f *flow, m *Message) {
	if f.qn == pendingMax {
		p.Stats.Overflow++
		f.qLost = true
		return
	}
	if f.qLost {
		return
	}
	q := &f.q[(f.qh+f.qn)%pendingMax]
	f.qn++
	q.mlen = uint8(copy(q.mbuf[:], m.Method))
	q.ulen = uint16(copy(q.ubuf[:], m.URI))
	q.hlen = uint8(copy(q.hbuf[:], m.Host))
	q.hasHost = m.Host != nil
	q.head = string(m.Method) == "HEAD"
	q.con = string(m.Method) == "CONNECT"
}

// scanHeaders reads Host, Content-Length and Transfer-Encoding from header
// lines (up to an empty line). The last of each wins, as in ParseRequest; a
// chunked transfer coding wins over Content-Length (RFC 9112 §6.3).
//
// It is kept small on purpose: a Go function compiled to Wasm is charged
// fuel by its size on every jump taken inside it, and this loop runs once
// a header line.
func scanHeaders(b []byte) (host []byte, hasHost bool, length int64, chunked bool) {
	length = -1
	for {
		b = b[skipLines(b):]
		if len(b) == 0 || b[0] == '\r' || b[0] == '\n' {
			break
		}
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			i = len(b) // a last line without its line break (a cut block)
		}
		line := b[:i]
		b = b[min(i+1, len(b)):]
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		host, hasHost, length, chunked = framingLine(line, host, hasHost, length, chunked)
	}
	if chunked {
		length = -1
	}
	return host, hasHost, length, chunked
}

// skipLines returns the offset of the first line of b that starts with
// h, c or t (either case), or is empty; len(b) if none does. Its loop is
// the only one run for every header line, and it is as small as
// headerEnd's.
func skipLines(b []byte) int {
	i := 0
	for i < len(b) {
		if c := b[i] | 0x20; c == 'h' || c == 'c' || c == 't' || b[i] == '\r' || b[i] == '\n' {
			return i
		}
		k := bytes.IndexByte(b[i:], '\n')
		if k < 0 {
			return len(b)
		}
		i += k + 1
	}
	return i
}

// framingLine applies one header line that may be Host, Content-Length
// or Transfer-Encoding. It is not inlined, so that scanHeaders stays small.
//
//go:noinline
func framingLine(line, host []byte, hasHost bool, length int64, chunked bool) ([]byte, bool, int64, bool) {
	name, value, ok := header(line)
	switch {
	case !ok:
	case equalFold(name, "host"):
		host, hasHost = value, true
	case equalFold(name, "content-length"):
		length = parseLength(value)
	case equalFold(name, "transfer-encoding"):
		chunked = lastCodingChunked(value)
	}
	return host, hasHost, length, chunked
}

// lastCodingChunked reports whether the last transfer coding of a
// Transfer-Encoding value is chunked.
func lastCodingChunked(v []byte) bool {
	if i := bytes.LastIndexByte(v, ','); i >= 0 {
		v = v[i+1:]
	}
	for len(v) > 0 && (v[0] == ' ' || v[0] == '\t') {
		v = v[1:]
	}
	if i := bytes.IndexByte(v, ';'); i >= 0 {
		v = v[:i]
	}
	for len(v) > 0 && (v[len(v)-1] == ' ' || v[len(v)-1] == '\t') {
		v = v[:len(v)-1]
	}
	return equalFold(v, "chunked")
}

// chunkSize reads a chunk-size line: hex digits, extensions, CRLF.
func (p *Parser) chunkSize(f *flow, h *half, b []byte) []byte {
	for i, c := range b {
		h.line++
		if h.line > lineMax {
			p.Stats.BadFraming++
			p.lose(f, h)
			return nil
		}
		if c == '\n' {
			if h.digits == 0 {
				p.Stats.BadFraming++
				p.lose(f, h)
				return nil
			}
			if h.size == 0 {
				h.st, h.line, h.total = stTrailer, 0, 0
			} else {
				h.st, h.remain = stChunkData, h.size
			}
			return b[i+1:]
		}
		if h.inExt {
			continue
		}
		var v byte
		switch {
		case c >= '0' && c <= '9':
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v = c - 'A' + 10
		case c == ';' || c == ' ' || c == '\t' || c == '\r':
			if h.digits == 0 {
				p.Stats.BadFraming++
				p.lose(f, h)
				return nil
			}
			h.inExt = true
			continue
		default:
			p.Stats.BadFraming++
			p.lose(f, h)
			return nil
		}
		if h.digits == 15 {
			p.Stats.BadFraming++ // more than 2^60 bytes: not a real chunk
			p.lose(f, h)
			return nil
		}
		h.size = h.size<<4 | uint64(v)
		h.digits++
	}
	return nil
}

// trailer skips trailer lines up to the empty line that ends the message.
func (p *Parser) trailer(f *flow, h *half, b []byte) []byte {
	for i, c := range b {
		h.total++
		if h.total > trailerMax {
			p.Stats.BadFraming++
			p.lose(f, h)
			return nil
		}
		if c == '\n' {
			if h.line == 0 {
				h.st = stHead
				return b[i+1:]
			}
			h.line = 0
			continue
		}
		if c != '\r' || h.line > 0 {
			h.line++
		}
	}
	return nil
}
