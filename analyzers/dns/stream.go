package main

import "github.com/wringcap/wring/wasm/guest"

// Bounds of the DNS-over-TCP stream parser (spec/LIMITS.md, "DNS analyzer").
const (
	maxFlows = 128   // flows followed at once; the least recently used is replaced
	msgMax   = 16384 // bytes of one message kept across chunks; the rest is skipped
)

// Direction states.
const (
	stLen  uint8 = iota // reading the 2-byte length prefix
	stMsg               // reading a message of want bytes
	stLost              // lost sync at a gap: the rest of the direction is ignored
)

// StreamStats are the stream parser's counters.
type StreamStats struct {
	Messages uint64 // messages handed to the sink
	Gaps     uint64 // messages lost in a gap, or directions that lost sync
	Cut      uint64 // messages longer than msgMax, handed over cut
	Empty    uint64 // zero-length messages
	Evicted  uint64 // flows replaced while still open
}

// Sink receives whole DNS messages (without their length prefix); the
// bytes are valid only during the call.
type Sink interface {
	Message(msg []byte)
}

type half struct {
	st   uint8
	lenB [2]byte
	lenN int
	want int  // message length from the prefix
	seen int  // message bytes seen so far
	n    int  // message bytes kept (in the parser's arena)
	skip bool // the message is lost (a gap inside it): skip its bytes
}

// StreamParser follows DNS messages over reassembled TCP streams (RFC 1035
// §4.2.2: each message after a 2-byte length).
//
// Its state holds no pointers: the guest's garbage collector never scans
// it, and updating it costs no write barrier.
type StreamParser struct {
	tab   *guest.FlowSlots
	flows [][2]half
	arena []byte // msgMax bytes per direction of each slot
	Stats StreamStats
}

// NewStreamParser returns a parser with all its memory allocated.
func NewStreamParser() *StreamParser {
	return &StreamParser{tab: guest.NewFlowSlots(maxFlows), flows: make([][2]half, maxFlows), arena: make([]byte, maxFlows*2*msgMax)}
}

// Reset forgets every flow and zeroes the counters.
func (p *StreamParser) Reset() {
	for s := range p.tab.Slots() {
		if id := p.tab.Owner(s); id != 0 {
			p.tab.Remove(id)
			p.reset(s)
		}
	}
	p.Stats = StreamStats{}
}

func (p *StreamParser) reset(s int) {
	p.flows[s] = [2]half{}
}

func (p *StreamParser) add(id uint64) int {
	s, ev := p.tab.Add(id)
	if ev != 0 {
		p.Stats.Evicted++
	}
	p.reset(s)
	return s
}

// Start begins flow id.
func (p *StreamParser) Start(id uint64) {
	if s := p.tab.Remove(id); s >= 0 {
		p.reset(s)
	}
	p.add(id)
}

// End forgets flow id.
func (p *StreamParser) End(id uint64) {
	if s := p.tab.Remove(id); s >= 0 {
		p.reset(s)
	}
}

// Flows returns the number of flows followed.
func (p *StreamParser) Flows() int { return p.tab.Live() }

// lookup returns the flow's slot, -1 for a flow whose start was not seen
// (its bytes may start inside a message: it is ignored).
func (p *StreamParser) lookup(id uint64) int {
	return p.tab.Get(id)
}

// Gap tells that n bytes of direction d were lost.
func (p *StreamParser) Gap(id uint64, d int, n uint64) {
	s := p.lookup(id)
	if s < 0 {
		return
	}
	h := &p.flows[s][d&1]
	switch h.st {
	case stLost:
		return
	case stMsg:
		if uint64(h.want-h.seen) >= n {
			// The message is lost, the next length prefix is still known.
			if !h.skip {
				p.Stats.Gaps++
			}
			h.skip = true
			h.seen += int(n)
			h.n = 0
			if h.seen == h.want {
				h.st, h.lenN, h.skip = stLen, 0, false
			}
			return
		}
		if !h.skip {
			p.Stats.Gaps++
		}
	default:
		p.Stats.Gaps++
	}
	h.st, h.n = stLost, 0
}

// Data hands over direction d's next bytes.
func (p *StreamParser) Data(id uint64, d int, b []byte, out Sink) {
	s := p.lookup(id)
	if s < 0 {
		return
	}
	d &= 1
	h := &p.flows[s][d]
	o := (s*2 + d) * msgMax
	buf := p.arena[o : o+msgMax : o+msgMax]
	for len(b) > 0 {
		switch h.st {
		case stLost:
			return
		case stLen:
			h.lenB[h.lenN] = b[0]
			h.lenN++
			b = b[1:]
			if h.lenN == 2 {
				h.want, h.seen, h.skip = int(h.lenB[0])<<8|int(h.lenB[1]), 0, false
				h.lenN = 0
				if h.want == 0 {
					p.Stats.Empty++
					continue
				}
				h.st = stMsg
				// The whole message in this chunk: no copy.
				if len(b) >= h.want {
					p.Stats.Messages++
					out.Message(b[:h.want])
					b = b[h.want:]
					h.st = stLen
				}
			}
		case stMsg:
			n := min(len(b), h.want-h.seen)
			if !h.skip {
				h.n += copy(buf[h.n:], b[:n])
			}
			h.seen += n
			b = b[n:]
			if h.seen == h.want {
				if !h.skip {
					if h.want > msgMax {
						p.Stats.Cut++
					}
					p.Stats.Messages++
					out.Message(buf[:h.n])
				}
				h.st, h.n, h.skip = stLen, 0, false
			}
		}
	}
}
