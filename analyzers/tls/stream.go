package main

// Stream mode: the analyzer reads each direction of a TCP connection as the
// host reassembled it (spec/ABI.md §10). Like parse.go it imports nothing,
// so `go test` and `go test -fuzz` run it natively.
//
// Per direction it follows the record layer (a header may be split over
// chunks anywhere, even inside its five bytes) and, inside handshake
// records, the handshake messages (a message may span records). The first
// handshake message of a direction gives its role: a ClientHello makes it
// the client's, a ServerHello the server's; anything else gives the
// direction up. The hellos of the role are collected and reported; other
// messages are skipped without being kept. A direction is finished at its
// first ChangeCipherSpec, application data or alert record (after a
// HelloRetryRequest, one ChangeCipherSpec per direction is let through:
// TLS 1.3's middlebox compatibility mode sends one before the second
// ClientHello), and a flow whose directions are both finished costs one
// table lookup per chunk until its end chunk.
//
// Bounds: a fixed flow table (Tracker's size, set once), and a fixed number
// of collection buffers of maxMessage bytes each, lent to the directions
// whose hello is split over chunks (a hello that arrives whole in one chunk
// is parsed where it lies). Whatever runs past a bound is given up and
// counted (StreamStats). The table is allocated by NewTracker, each buffer
// when it is first lent (at most maxBuffers of them, reused after), so
// following a flow allocates nothing once the buffers exist.

// Stream bounds.
const (
	// maxMessage is the bytes of one hello kept: a longer one is reported
	// partial, from its first maxMessage bytes, and counted too large.
	maxMessage = 16 << 10
	// maxBuffers is the collection buffers lent at once (4 MiB).
	maxBuffers = 256

	typeServerHello = 2

	contentCCS   = 20
	contentAlert = 21
	contentApp   = 23
)

// Direction states.
const (
	dirNew     = iota // no byte seen yet
	dirRecords        // following records
	dirDone           // finished or given up
)

// Roles of a direction, from its first handshake message.
const (
	roleUnknown = iota
	roleClient
	roleServer
)

// StreamStats counts what the tracker did and gave up on.
type StreamStats struct {
	Flows        uint64 // flows tracked
	NotTLS       uint64 // directions whose first bytes are no TLS handshake record
	ClientHellos uint64 // ClientHellos reported (partial ones included)
	ServerHellos uint64 // ServerHellos reported (partial ones included)
	Malformed    uint64 // directions given up on an inconsistent record or message
	// Give-ups of a direction (or flow) that had started a TLS handshake
	// or could not be followed.
	Gap       uint64 // bytes lost before the direction's handshake records ended
	Ended     uint64 // the flow ended inside a hello
	TooLarge  uint64 // a hello longer than maxMessage
	NotHello  uint64 // the first handshake message is neither hello
	TableFull uint64 // a new flow found the flow table full
	NoBuffer  uint64 // a split hello found every collection buffer lent
	Unaligned uint64 // data of a flow whose start was not seen, not at offset 0
	Retries   uint64 // HelloRetryRequests seen
}

// ServerHello is what the analyzer reports about one ServerHello (RFC 8446
// §4.1.3). Its byte slices are valid until the next call into the tracker.
type ServerHello struct {
	RecordVersion uint16 // version of the record that started it
	LegacyVersion uint16 // ServerHello.legacy_version (0 when cut before it)
	Selected      uint16 // supported_versions' selected_version, 0 when absent
	Cipher        uint16 // the chosen cipher suite
	HasCipher     bool
	ALPN          []byte // the chosen protocol's name
	HasALPN       bool
	Retry         bool // a HelloRetryRequest (RFC 8446 §4.1.4)
	Partial       bool // cut: the stream ended, lost bytes or ran past maxMessage
	Malformed     bool // a length inside it exceeds its enclosing structure
}

// Version returns the version the server chose: selected_version when
// present, else legacy_version.
func (s *ServerHello) Version() uint16 {
	if s.Selected != 0 {
		return s.Selected
	}
	return s.LegacyVersion
}

// Reporter receives the hellos a Tracker finds, during the call that
// completes (or gives up on) them.
type Reporter interface {
	ClientHello(h *Hello)
	ServerHello(s *ServerHello)
}

// dirState is one direction's progress.
type dirState struct {
	next    uint64 // stream offset of the next byte expected
	state   uint8
	role    uint8
	nhdr    uint8 // record header bytes held in hdr
	nhs     uint8 // handshake header bytes held in hs
	hdr     [recordHeader]byte
	hs      [handshakeHeader]byte
	recType uint8
	skipCCS uint8  // ChangeCipherSpec records to let through (after a HelloRetryRequest)
	recLeft uint16 // bytes left of the current record's body
	recVer  uint16 // version of the record the current message started in
	buf     int32  // collection buffer + 1, 0: none
	msgLeft uint32 // bytes left of the current handshake message's body
	have    uint32 // bytes of the collected message held in the buffer
	want    uint32 // the collected message's length, header included
	collect bool   // the current message is being collected
}

// flowState is one flow's entry.
type flowState struct {
	id  uint64
	dir [2]dirState
}

// Tracker follows TLS handshakes in TCP streams. Create it with NewTracker.
type Tracker struct {
	rep     Reporter
	slots   []int32 // open addressing by flow id: entry + 1, 0 empty
	mask    uint64
	flows   []flowState
	free    []int32 // unused entries
	bufs    [][]byte
	freeBuf []int32
	nbufs   int
	hello   Hello
	server  ServerHello
	Stats   StreamStats
	// Changes counts the changes of Stats other than Flows, so a caller
	// can tell cheaply whether anything else was counted.
	Changes uint64
}

// count adds one to a field of t.Stats.
func (t *Tracker) count(c *uint64) {
	*c++
	t.Changes++
}

// NewTracker returns a tracker of up to maxFlows flows at once, reporting
// to r. Its table and buffers are allocated here (buffers on first use, up
// to maxBuffers), so tracking allocates nothing per chunk.
func NewTracker(maxFlows int, r Reporter) *Tracker {
	maxFlows = max(maxFlows, 1)
	n := 2
	for n < 2*maxFlows {
		n <<= 1
	}
	t := &Tracker{rep: r, slots: make([]int32, n), mask: uint64(n - 1),
		flows: make([]flowState, maxFlows), free: make([]int32, maxFlows),
		bufs: make([][]byte, maxBuffers), freeBuf: make([]int32, 0, maxBuffers)}
	for i := range t.free {
		t.free[i] = int32(maxFlows - 1 - i)
	}
	return t
}

// Tracked returns the flows tracked now.
func (t *Tracker) Tracked() int { return len(t.flows) - len(t.free) }

// Lent returns the collection buffers lent now.
func (t *Tracker) Lent() int { return t.nbufs - len(t.freeBuf) }

func (t *Tracker) home(id uint64) uint64 { return (id * 0x9e3779b97f4a7c15 >> 17) & t.mask }

// lookup returns the flow's entry, or nil.
func (t *Tracker) lookup(id uint64) *flowState {
	for i := t.home(id); ; i = (i + 1) & t.mask {
		e := t.slots[i]
		if e == 0 {
			return nil
		}
		if f := &t.flows[e-1]; f.id == id {
			return f
		}
	}
}

// insert adds a flow, or returns nil when the table is full.
func (t *Tracker) insert(id uint64) *flowState {
	if len(t.free) == 0 {
		t.count(&t.Stats.TableFull)
		return nil
	}
	e := t.free[len(t.free)-1]
	t.free = t.free[:len(t.free)-1]
	i := t.home(id)
	for t.slots[i] != 0 {
		i = (i + 1) & t.mask
	}
	t.slots[i] = e + 1
	f := &t.flows[e]
	*f = flowState{id: id}
	t.Stats.Flows++
	return f
}

// remove deletes a flow (backward-shift deletion keeps probe chains whole).
func (t *Tracker) remove(id uint64) {
	i := t.home(id)
	for {
		e := t.slots[i]
		if e == 0 {
			return
		}
		if t.flows[e-1].id == id {
			break
		}
		i = (i + 1) & t.mask
	}
	e := t.slots[i]
	for d := range t.flows[e-1].dir {
		t.release(&t.flows[e-1].dir[d])
	}
	t.free = append(t.free, e-1)
	for j := (i + 1) & t.mask; ; j = (j + 1) & t.mask {
		s := t.slots[j]
		if s == 0 {
			break
		}
		h := t.home(t.flows[s-1].id)
		// Move s into the hole at i when its home is not in (i, j].
		if (j-h)&t.mask >= (j-i)&t.mask {
			t.slots[i] = s
			i = j
		}
	}
	t.slots[i] = 0
}

// Start begins a flow (a start chunk).
func (t *Tracker) Start(id uint64) {
	if t.lookup(id) == nil {
		t.insert(id)
	}
}

// Data hands over a direction's bytes from stream offset off (a data
// chunk).
func (t *Tracker) Data(id uint64, dir int, off uint64, b []byte) {
	f := t.lookup(id)
	if f == nil {
		if off != 0 {
			// A flow whose start this tracker did not see (the host
			// replaced a failed instance, or the table was full).
			t.count(&t.Stats.Unaligned)
			return
		}
		if f = t.insert(id); f == nil {
			return
		}
	}
	d := &f.dir[dir&1]
	if d.state == dirDone {
		return
	}
	if off != d.next {
		t.giveUp(f, d, &t.Stats.Gap)
		return
	}
	d.next += uint64(len(b))
	t.records(f, d, b)
}

// Gap reports n bytes of a direction lost from offset off (a gap chunk).
func (t *Tracker) Gap(id uint64, dir int, off uint64, n uint32) {
	f := t.lookup(id)
	if f == nil {
		return
	}
	if d := &f.dir[dir&1]; d.state != dirDone {
		t.giveUp(f, d, &t.Stats.Gap)
	}
}

// End ends a flow (an end chunk): a hello still being collected is reported
// partial.
func (t *Tracker) End(id uint64) {
	f := t.lookup(id)
	if f == nil {
		return
	}
	for i := range f.dir {
		if d := &f.dir[i]; d.state == dirRecords && (d.collect || d.nhdr > 0 || d.recLeft > 0 || d.nhs > 0 || d.msgLeft > 0) {
			t.giveUp(f, d, &t.Stats.Ended)
		}
	}
	t.remove(id)
}

// giveUp finishes a direction, reporting a hello being collected as
// partial, and counts why in c.
func (t *Tracker) giveUp(f *flowState, d *dirState, c *uint64) {
	if d.collect && d.have > 0 {
		b := t.bufs[d.buf-1][:d.have]
		t.report(f, d, b, int(d.want)-handshakeHeader, true, false)
	}
	if d.state != dirNew || c == &t.Stats.Gap {
		t.count(c)
	}
	t.finish(d)
}

// finish marks a direction done and returns its buffer.
func (t *Tracker) finish(d *dirState) {
	t.release(d)
	d.state, d.collect = dirDone, false
}

func (t *Tracker) release(d *dirState) {
	if d.buf != 0 {
		t.freeBuf = append(t.freeBuf, d.buf-1)
		d.buf = 0
	}
}

// records follows the record layer over b.
func (t *Tracker) records(f *flowState, d *dirState, b []byte) {
	for len(b) > 0 && d.state != dirDone {
		if d.recLeft == 0 {
			if d.state == dirNew && b[0] != contentHandshak {
				t.count(&t.Stats.NotTLS)
				t.finish(d)
				return
			}
			d.state = dirRecords
			n := copy(d.hdr[d.nhdr:], b)
			d.nhdr += uint8(n)
			b = b[n:]
			if d.nhdr < recordHeader {
				return
			}
			d.nhdr = 0
			h := d.hdr[:]
			if !validHeader(h) {
				if d.role == roleUnknown && d.recType == 0 {
					t.count(&t.Stats.NotTLS) // the first record header is none
					t.finish(d)
					return
				}
				t.malformed(f, d)
				return
			}
			d.recType = h[0]
			d.recLeft = uint16(int(h[3])<<8 | int(h[4]))
			switch d.recType {
			case contentHandshak:
				if d.msgLeft == 0 && d.nhs == 0 && !d.collect {
					d.recVer = uint16(h[1])<<8 | uint16(h[2])
				}
				continue
			case contentCCS:
				if d.skipCCS > 0 && d.nhs == 0 && d.msgLeft == 0 && !d.collect {
					d.skipCCS--
					continue
				}
			case 24: // heartbeat: skipped
				continue
			}
			// ChangeCipherSpec, alert, application data: the plaintext
			// handshake is over in this direction.
			if d.collect || d.nhs > 0 || d.msgLeft > 0 {
				t.malformed(f, d) // a handshake message was cut short
				return
			}
			if d.role == roleUnknown {
				t.count(&t.Stats.NotHello)
			}
			t.finish(d)
			return
		}
		n := min(int(d.recLeft), len(b))
		body := b[:n]
		b = b[n:]
		d.recLeft -= uint16(n)
		if d.recType == contentHandshak {
			t.handshake(f, d, body)
		}
	}
}

// handshake follows the handshake messages over body, bytes of handshake
// records.
func (t *Tracker) handshake(f *flowState, d *dirState, body []byte) {
	for len(body) > 0 && d.state != dirDone {
		if d.msgLeft == 0 && d.nhs == 0 && !d.collect {
			// A message starts here: whole in body, it is read in place.
			if len(body) >= handshakeHeader {
				l := int(body[1])<<16 | int(body[2])<<8 | int(body[3])
				if !t.roleOf(d, body[0]) {
					return
				}
				if handshakeHeader+l <= len(body) {
					if t.wanted(d, body[0]) {
						t.report(f, d, body[:handshakeHeader+l], l, false, false)
					}
					body = body[handshakeHeader+l:]
					continue
				}
			}
		}
		if !d.collect && d.msgLeft == 0 {
			// Collect the message header.
			n := copy(d.hs[d.nhs:], body)
			d.nhs += uint8(n)
			body = body[n:]
			if d.nhs < handshakeHeader {
				if !t.roleOf(d, d.hs[0]) {
					return
				}
				// The header itself is split: an interesting message
				// starts collecting now, so the buffer holds it whole.
				if t.wanted(d, d.hs[0]) && !t.startCollect(f, d, d.hs[:d.nhs], 0) {
					return
				}
				continue
			}
			d.nhs = 0
			l := uint32(d.hs[1])<<16 | uint32(d.hs[2])<<8 | uint32(d.hs[3])
			if !t.roleOf(d, d.hs[0]) {
				return
			}
			if t.wanted(d, d.hs[0]) {
				if !t.startCollect(f, d, d.hs[:], handshakeHeader+l) {
					return
				}
				if l == 0 {
					t.complete(f, d)
				}
				continue
			}
			d.msgLeft = l
			continue
		}
		if d.collect {
			buf := t.bufs[d.buf-1]
			if d.want == 0 {
				// The header was split: complete it first.
				n := copy(buf[d.have:handshakeHeader], body)
				d.have += uint32(n)
				body = body[n:]
				if d.have < handshakeHeader {
					continue
				}
				d.want = handshakeHeader + (uint32(buf[1])<<16 | uint32(buf[2])<<8 | uint32(buf[3]))
				if d.want == handshakeHeader {
					t.complete(f, d)
				}
				continue
			}
			n := min(int(d.want-d.have), len(body))
			room := min(n, maxMessage-int(d.have))
			copy(buf[d.have:], body[:room])
			d.have += uint32(room)
			body = body[n:]
			if room < n {
				t.giveUp(f, d, &t.Stats.TooLarge)
				return
			}
			if d.have == d.want {
				t.complete(f, d)
			}
			continue
		}
		n := min(int(d.msgLeft), len(body))
		d.msgLeft -= uint32(n)
		body = body[n:]
	}
}

// roleOf sets the direction's role from its first handshake message type,
// or gives the direction up when that is neither hello.
func (t *Tracker) roleOf(d *dirState, typ byte) bool {
	if d.role != roleUnknown {
		return true
	}
	switch typ {
	case typeClientHello:
		d.role = roleClient
	case typeServerHello:
		d.role = roleServer
	default:
		t.count(&t.Stats.NotHello)
		t.finish(d)
		return false
	}
	return true
}

// wanted reports whether a message of type typ is reported in d.
func (t *Tracker) wanted(d *dirState, typ byte) bool {
	return d.role == roleClient && typ == typeClientHello || d.role == roleServer && typ == typeServerHello
}

// startCollect lends d a buffer and copies the message's first bytes into
// it; want is the message's length with its header, 0 when not yet known.
func (t *Tracker) startCollect(f *flowState, d *dirState, first []byte, want uint32) bool {
	var i int32
	switch {
	case len(t.freeBuf) > 0:
		i = t.freeBuf[len(t.freeBuf)-1]
		t.freeBuf = t.freeBuf[:len(t.freeBuf)-1]
	case t.nbufs < maxBuffers:
		i = int32(t.nbufs)
		t.bufs[i] = make([]byte, maxMessage)
		t.nbufs++
	default:
		t.count(&t.Stats.NoBuffer)
		t.finish(d)
		return false
	}
	d.buf, d.collect = i+1, true
	d.have, d.want = uint32(copy(t.bufs[i], first)), want
	d.nhs = 0
	return true
}

// complete reports the collected message and returns the buffer.
func (t *Tracker) complete(f *flowState, d *dirState) {
	b := t.bufs[d.buf-1][:d.have]
	t.report(f, d, b, int(d.want)-handshakeHeader, false, false)
	t.release(d)
	d.collect, d.have, d.want = false, 0, 0
}

// malformed reports a hello being collected as malformed and partial, and
// gives the direction up.
func (t *Tracker) malformed(f *flowState, d *dirState) {
	if d.collect && d.have > 0 {
		b := t.bufs[d.buf-1][:d.have]
		t.report(f, d, b, int(d.want)-handshakeHeader, true, true)
	}
	t.count(&t.Stats.Malformed)
	t.finish(d)
}

// report parses the message msg (its header included, cut when partial;
// declared is its body's declared length, negative when its header was
// cut) and hands the hello to the reporter.
func (t *Tracker) report(f *flowState, d *dirState, msg []byte, declared int, partial, malformed bool) {
	if len(msg) < handshakeHeader {
		// Only part of the header: nothing to report.
		return
	}
	body := msg[handshakeHeader:]
	if d.role == roleClient {
		h := &t.hello
		*h = Hello{RecordVersion: d.recVer}
		parseClientHello(body, declared, h)
		h.Partial = h.Partial || partial
		h.Malformed = h.Malformed || malformed
		t.count(&t.Stats.ClientHellos)
		t.rep.ClientHello(h)
		return
	}
	s := &t.server
	*s = ServerHello{RecordVersion: d.recVer}
	parseServerHello(body, declared, s)
	s.Partial = s.Partial || partial
	s.Malformed = s.Malformed || malformed
	t.count(&t.Stats.ServerHellos)
	if s.Retry {
		t.count(&t.Stats.Retries)
		// TLS 1.3 middlebox compatibility: either side may send a
		// ChangeCipherSpec before its next hello.
		for i := range f.dir {
			f.dir[i].skipCCS = 1
		}
	}
	t.rep.ServerHello(s)
}
