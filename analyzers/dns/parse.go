package main

// Message is a DNS message header with its sections' bounds.
type Message struct {
	msg                  []byte
	ID                   uint16
	Response             bool
	RCode                int
	QDCount, ANCount     int
	questions, answersAt int // offsets: first question, first answer (-1 unknown)
}

// Question is one entry of the question section.
type Question struct {
	Name  []byte // dotted, "<Root>" for the root
	Type  uint16
	Class uint16
}

// Parse reads the header of a DNS message.
func Parse(b []byte) (Message, bool) {
	if len(b) < 12 {
		return Message{}, false
	}
	m := Message{msg: b, ID: be16(b), Response: b[2]&0x80 != 0, RCode: int(b[3] & 0x0f),
		QDCount: int(be16(b[4:])), ANCount: int(be16(b[6:])), questions: 12, answersAt: -1}
	if b[2]&0x78>>3 > 6 { // opcodes 0..6 are assigned
		return m, false
	}
	return m, true
}

// Question decodes question i, appending its name to buf.
func (m *Message) Question(i int, buf []byte) (Question, bool) {
	off := m.questions
	for k := 0; ; k++ {
		var q Question
		var ok bool
		q.Name, off, ok = readName(m.msg, off, buf[:0])
		if !ok || off+4 > len(m.msg) {
			return Question{}, false
		}
		q.Type, q.Class = be16(m.msg[off:]), be16(m.msg[off+2:])
		off += 4
		if k == i {
			return q, true
		}
	}
}

// Answers renders the answer section's A, AAAA, CNAME, NS and PTR records as
// comma-separated text appended to buf, and returns how many records the
// section holds (as far as they could be decoded).
func (m *Message) Answers(buf []byte) ([]byte, int) {
	off := m.questions
	var scratch [256]byte
	for i := 0; i < m.QDCount; i++ {
		var ok bool
		_, off, ok = readName(m.msg, off, scratch[:0])
		if !ok || off+4 > len(m.msg) {
			return buf, 0
		}
		off += 4
	}
	n := 0
	for i := 0; i < m.ANCount; i++ {
		var ok bool
		_, off, ok = readName(m.msg, off, scratch[:0])
		if !ok || off+10 > len(m.msg) {
			break
		}
		typ := be16(m.msg[off:])
		rdlen := int(be16(m.msg[off+8:]))
		off += 10
		if off+rdlen > len(m.msg) {
			break
		}
		rd := m.msg[off : off+rdlen]
		sep := func() {
			if len(buf) > 0 {
				buf = append(buf, ',')
			}
		}
		switch {
		case typ == 1 && rdlen == 4:
			sep()
			buf = appendIPv4(buf, rd)
		case typ == 28 && rdlen == 16:
			sep()
			buf = appendIPv6(buf, rd)
		case typ == 5 || typ == 2 || typ == 12:
			if name, _, ok := readName(m.msg, off, scratch[:0]); ok {
				sep()
				buf = append(buf, name...)
			}
		}
		off += rdlen
		n++
	}
	return buf, n
}

// readName decodes a possibly compressed name at off, appending its dotted
// form to buf; it returns the offset after the name in the message.
func readName(msg []byte, off int, buf []byte) ([]byte, int, bool) {
	end := -1
	jumps := 0
	for {
		if off >= len(msg) {
			return nil, 0, false
		}
		l := int(msg[off])
		switch {
		case l == 0:
			if end < 0 {
				end = off + 1
			}
			if len(buf) == 0 {
				buf = append(buf, "<Root>"...)
			}
			return buf, end, true
		case l&0xc0 == 0xc0:
			if off+1 >= len(msg) {
				return nil, 0, false
			}
			if end < 0 {
				end = off + 2
			}
			jumps++
			if jumps > 64 {
				return nil, 0, false
			}
			off = int(be16(msg[off:]) & 0x3fff)
		case l&0xc0 != 0:
			return nil, 0, false
		default:
			if off+1+l > len(msg) || len(buf)+l+1 > 1024 {
				return nil, 0, false
			}
			if len(buf) > 0 {
				buf = append(buf, '.')
			}
			buf = append(buf, msg[off+1:off+1+l]...)
			off += 1 + l
		}
	}
}

func be16(b []byte) uint16 { return uint16(b[0])<<8 | uint16(b[1]) }

func appendUint(b []byte, v uint64) []byte {
	var t [20]byte
	i := len(t)
	for {
		i--
		t[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return append(b, t[i:]...)
}

func appendIPv4(b, a []byte) []byte {
	for i, x := range a {
		if i > 0 {
			b = append(b, '.')
		}
		b = appendUint(b, uint64(x))
	}
	return b
}

// appendIPv6 writes the RFC 5952 form (longest zero run compressed).
func appendIPv6(b, a []byte) []byte {
	const hex = "0123456789abcdef"
	var w [8]uint16
	for i := range w {
		w[i] = uint16(a[2*i])<<8 | uint16(a[2*i+1])
	}
	best, bestLen := -1, 1
	for i := 0; i < 8; {
		if w[i] != 0 {
			i++
			continue
		}
		j := i
		for j < 8 && w[j] == 0 {
			j++
		}
		if j-i > bestLen {
			best, bestLen = i, j-i
		}
		i = j
	}
	for i := 0; i < 8; i++ {
		if i == best {
			b = append(b, ':', ':')
			i += bestLen - 1
			continue
		}
		if i > 0 && i != best+bestLen {
			b = append(b, ':')
		}
		v := w[i]
		started := false
		for s := 12; s >= 0; s -= 4 {
			d := v >> uint(s) & 0xf
			if d != 0 || started || s == 0 {
				b = append(b, hex[d])
				started = true
			}
		}
	}
	return b
}
