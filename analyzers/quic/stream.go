package main

// The client's Initial CRYPTO stream holds its ClientHello and nothing
// else. It may arrive in several CRYPTO frames, spread over several
// Initial packets and out of order; each connection collects it in a
// fixed buffer. Bounds: maxHello bytes of stream per connection,
// maxSpans disjoint received ranges, maxConns connections (so at most
// maxConns*maxHello bytes in total). Whatever runs past a bound is given
// up on and counted (Stats).

const (
	maxHello = 16 << 10 // stream bytes kept per connection
	maxSpans = 8        // disjoint ranges received before the stream is given up
	maxConns = 64       // connections tracked at once
	maxCID   = 20       // connection id bytes (RFC 9000 §17.2)
)

// Stream states.
const (
	collecting = iota // waiting for more of the ClientHello
	reported          // the ClientHello was parsed and reported
	gaveUp            // a bound was hit, or the stream is no ClientHello
)

type span struct{ start, end int }

// conn is one client's Initial state, found by its destination
// connection id.
type conn struct {
	used    bool
	index   int // in Tracker.conns
	state   uint8
	version uint32
	flow    uint32
	dcid    cid // the id the keys derive from
	scid    cid // the client's source id: the server's Initials are sent to it
	server  cid // the server's source id, once seen: the client's later Initials are sent to it
	stamp   uint64
	largest int64  // largest packet number decrypted, -1 before the first
	packets uint16 // Initial packets that carried CRYPTO frames
	keys    keys
	nspans  int
	spans   [maxSpans]span
	buf     [maxHello]byte
}

// cid is a connection id of at most maxCID bytes.
type cid struct {
	n uint8
	b [maxCID]byte
}

func (c *cid) set(b []byte) { c.n = uint8(copy(c.b[:], b)) }

func (c *cid) is(b []byte) bool { return int(c.n) == len(b) && string(c.b[:c.n]) == string(b) }

func (c *cid) bytes() []byte { return c.b[:c.n] }

// add stores one CRYPTO frame's data at off (last writer wins where
// frames overlap) and reports whether the ClientHello is now complete. It
// sets c.state to gaveUp, counting why in st, when a bound is hit.
func (c *conn) add(off uint64, data []byte, st *Stats) bool {
	if c.state != collecting {
		return false
	}
	if off > maxHello || uint64(len(data)) > maxHello-off {
		st.HelloTooLarge++
		c.state = gaveUp
		return false
	}
	if len(data) == 0 {
		return false
	}
	start := int(off)
	end := start + len(data)
	copy(c.buf[start:end], data)
	if !c.merge(span{start, end}) {
		st.TooManyGaps++
		c.state = gaveUp
		return false
	}
	if c.spans[0].start != 0 || c.spans[0].end < 4 {
		return false
	}
	if c.buf[0] != 1 { // handshake type client_hello
		st.NotClientHello++
		c.state = gaveUp
		return false
	}
	need := 4 + (int(c.buf[1])<<16 | int(c.buf[2])<<8 | int(c.buf[3]))
	if need > maxHello {
		st.HelloTooLarge++
		c.state = gaveUp
		return false
	}
	return c.spans[0].end >= need
}

// merge inserts s into the sorted, disjoint spans, joining those it
// touches; it reports false when that would need more than maxSpans.
//
//go:noinline
func (c *conn) merge(s span) bool {
	var out [maxSpans + 1]span
	n := 0
	placed := false
	for _, x := range c.spans[:c.nspans] {
		switch {
		case x.end < s.start:
			out[n] = x
			n++
		case s.end < x.start:
			if !placed {
				out[n] = s
				n++
				placed = true
			}
			out[n] = x
			n++
		default: // overlapping or adjacent: widen s
			s.start = min(s.start, x.start)
			s.end = max(s.end, x.end)
		}
	}
	if !placed {
		out[n] = s
		n++
	}
	if n > maxSpans {
		return false
	}
	c.nspans = copy(c.spans[:], out[:n])
	return true
}

// hello returns the complete ClientHello's body.
func (c *conn) hello() []byte {
	n := int(c.buf[1])<<16 | int(c.buf[2])<<8 | int(c.buf[3])
	return c.buf[4 : 4+n]
}
