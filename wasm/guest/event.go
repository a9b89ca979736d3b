package guest

// Event writes one event into the event area. Fields are appended in order;
// Done finishes it. If the area is full the event is counted as lost and its
// fields are ignored. Strings longer than 65535 bytes are cut.
type Event struct {
	start int
	n     int
	nf    uint16
	lost  bool
}

var (
	events []byte // the event area, header included
	ev     Event
)

func startEvent(index uint32, kind string) *Event {
	ev = Event{start: eventsHeader + int(le32(events)), lost: false}
	ev.n = ev.start
	if len(kind) > 255 {
		kind = kind[:255]
	}
	if !ev.room(eventHeader + 1 + len(kind)) {
		return &ev
	}
	b := events[ev.n:]
	put32(b[4:], index)
	b[8] = byte(len(kind))
	copy(b[9:], kind)
	ev.n += eventHeader + 1 + len(kind)
	return &ev
}

func (e *Event) room(n int) bool {
	if e.lost || e.n+n > len(events) || e.n+n-e.start > 65535 {
		e.lost = true
		return false
	}
	return true
}

func (e *Event) key(typ byte, k string, n int) []byte {
	if len(k) > 255 {
		k = k[:255]
	}
	if !e.room(2 + len(k) + n) {
		return nil
	}
	b := events[e.n:]
	b[0], b[1] = typ, byte(len(k))
	copy(b[2:], k)
	e.n += 2 + len(k) + n
	e.nf++
	return b[2+len(k):]
}

// String adds a string field.
func (e *Event) String(k, v string) *Event {
	if len(v) > 65535 {
		v = v[:65535]
	}
	if b := e.key(fieldString, k, 2+len(v)); b != nil {
		put16(b, uint16(len(v)))
		copy(b[2:], v)
	}
	return e
}

// Bytes adds a string field from bytes.
func (e *Event) Bytes(k string, v []byte) *Event {
	if len(v) > 65535 {
		v = v[:65535]
	}
	if b := e.key(fieldString, k, 2+len(v)); b != nil {
		put16(b, uint16(len(v)))
		copy(b[2:], v)
	}
	return e
}

// Uint adds an unsigned integer field.
func (e *Event) Uint(k string, v uint64) *Event {
	if b := e.key(fieldUint, k, 8); b != nil {
		put64(b, v)
	}
	return e
}

// Int adds a signed integer field.
func (e *Event) Int(k string, v int64) *Event {
	if b := e.key(fieldInt, k, 8); b != nil {
		put64(b, uint64(v))
	}
	return e
}

// Bool adds a boolean field.
func (e *Event) Bool(k string, v bool) *Event {
	if b := e.key(fieldBool, k, 1); b != nil {
		b[0] = 0
		if v {
			b[0] = 1
		}
	}
	return e
}

// Addr adds an IP address field (4 or 16 bytes; other lengths are ignored).
func (e *Event) Addr(k string, a []byte) *Event {
	if len(a) != 4 && len(a) != 16 {
		return e
	}
	if b := e.key(fieldAddr, k, 1+len(a)); b != nil {
		b[0] = byte(len(a))
		copy(b[1:], a)
	}
	return e
}

// Done finishes the event.
func (e *Event) Done() {
	if e.lost {
		put32(events[4:], le32(events[4:])+1)
		return
	}
	b := events[e.start:]
	put16(b, uint16(e.n-e.start))
	put16(b[2:], e.nf)
	put32(events, uint32(e.n-eventsHeader))
}
