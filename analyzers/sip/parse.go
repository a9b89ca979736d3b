package main

import (
	"bytes"
	"net/netip"
)

// Message is what the analyzer reads from a SIP message (RFC 3261) and its
// SDP body (RFC 4566).
type Message struct {
	Request    bool
	Method     string // request method, e.g. INVITE
	Status     int    // response status code, e.g. 200
	CallID     []byte // these three point into the message
	From, To   []byte
	CSeqMethod string  // the method of the CSeq header (what a response answers)
	SDP        bool    // the body is SDP
	Media      []Media // the m= lines of the SDP, in order
}

// Media is one m= line with its connection address (the media-level c=,
// else the session-level one).
type Media struct {
	Kind string // audio, video, ...
	Addr netip.Addr
	Port uint16 // 0: the stream is refused or disabled
}

// Limits of what Parse reads: longer fields are cut, more media dropped.
const (
	maxField = 256
	maxMedia = 8
)

// Parse reads a SIP message from a UDP payload. It reports false for bytes
// that are not a SIP request or response.
func Parse(b []byte) (Message, bool) { return parse(b, nil) }

// parse is Parse appending the media to media (a scratch slice).
func parse(b []byte, media []Media) (Message, bool) {
	m := Message{Media: media}
	line, rest := cutLine(b)
	switch {
	case bytes.HasPrefix(line, []byte("SIP/2.0 ")):
		f := line[len("SIP/2.0 "):]
		if len(f) < 3 {
			return m, false
		}
		n, ok := atoi(f[:3])
		if !ok || n < 100 || n > 699 || (len(f) > 3 && f[3] != ' ') {
			return m, false
		}
		m.Status = n
	default:
		sp := bytes.IndexByte(line, ' ')
		if sp <= 0 || !bytes.HasSuffix(line, []byte(" SIP/2.0")) || sp+len(" SIP/2.0") >= len(line) {
			return m, false
		}
		for _, c := range line[:sp] {
			if c < 'A' || c > 'Z' {
				return m, false
			}
		}
		m.Request, m.Method = true, method(line[:sp])
	}
	contentLen, typed, sdpBody := -1, false, false
	for {
		if len(rest) == 0 {
			return m, len(m.CallID) > 0 // no blank line: a message without a body, cut short
		}
		line, rest = cutLine(rest)
		if len(line) == 0 {
			break
		}
		colon := bytes.IndexByte(line, ':')
		if colon < 0 {
			continue // a folded or broken line
		}
		name, val := trim(line[:colon]), trim(line[colon+1:])
		switch {
		case is(name, "call-id") || is(name, "i"):
			m.CallID = clip(val)
		case is(name, "from") || is(name, "f"):
			m.From = clip(val)
		case is(name, "to") || is(name, "t"):
			m.To = clip(val)
		case is(name, "cseq"):
			if sp := bytes.IndexByte(val, ' '); sp >= 0 {
				m.CSeqMethod = method(trim(val[sp+1:]))
			}
		case is(name, "content-length") || is(name, "l"):
			if n, ok := atoi(val); ok {
				contentLen = n
			}
		case is(name, "content-type") || is(name, "c"):
			sdpBody = len(val) >= 15 && is(val[:15], "application/sdp")
			typed = true
		}
	}
	if len(m.CallID) == 0 {
		return m, false
	}
	body := rest
	if contentLen >= 0 && contentLen < len(body) {
		body = body[:contentLen]
	}
	if len(body) > 0 && (!typed || sdpBody) {
		m.SDP, m.Media = parseSDP(body, m.Media)
	}
	return m, true
}

// parseSDP reads the m= lines and their connection addresses.
func parseSDP(b []byte, out []Media) (bool, []Media) {
	var session netip.Addr
	sawV := false
	cur := -1 // index in out of the current m= section
	for len(b) > 0 {
		var line []byte
		line, b = cutLine(b)
		if len(line) < 2 || line[1] != '=' {
			continue
		}
		v := line[2:]
		switch line[0] {
		case 'v':
			sawV = true
		case 'c':
			a, ok := connAddr(v)
			if !ok {
				continue
			}
			if cur < 0 {
				session = a
			} else {
				out[cur].Addr = a
			}
		case 'm':
			cur = -1
			if len(out) == maxMedia {
				continue
			}
			kind, r := nextWord(v)
			portF, r := nextWord(r)
			proto, _ := nextWord(r)
			if len(proto) == 0 {
				continue
			}
			if i := bytes.IndexByte(portF, '/'); i >= 0 {
				portF = portF[:i]
			}
			port, ok := atoi(portF)
			if !ok || port > 65535 {
				continue
			}
			if !bytes.HasPrefix(proto, []byte("RTP/")) {
				continue // not RTP (e.g. a T.38 udptl or a TCP/MSRP stream)
			}
			out = append(out, Media{Kind: mediaKind(kind), Addr: session, Port: uint16(port)})
			cur = len(out) - 1
		}
	}
	return sawV, out
}

// connAddr reads "IN IP4 192.0.2.1" (a multicast TTL suffix is dropped).
func connAddr(v []byte) (netip.Addr, bool) {
	in, r := nextWord(v)
	fam, r := nextWord(r)
	s, _ := nextWord(r)
	v4 := string(fam) == "IP4"
	if string(in) != "IN" || (!v4 && string(fam) != "IP6") || len(s) == 0 {
		return netip.Addr{}, false
	}
	if i := bytes.IndexByte(s, '/'); i >= 0 {
		s = s[:i]
	}
	if v4 {
		return parse4(s)
	}
	a, err := netip.ParseAddr(string(s))
	if err != nil || !a.Is6() || a.Is4In6() || a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a, true
}

// parse4 reads a dotted-quad IPv4 address.
func parse4(s []byte) (netip.Addr, bool) {
	var a [4]byte
	part, n, digits := 0, 0, 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			if digits == 0 || part > 3 {
				return netip.Addr{}, false
			}
			a[part] = byte(n)
			part, n, digits = part+1, 0, 0
			continue
		}
		c := s[i]
		if c < '0' || c > '9' || digits == 3 || (digits > 0 && n == 0) {
			return netip.Addr{}, false
		}
		n = n*10 + int(c-'0')
		digits++
		if n > 255 {
			return netip.Addr{}, false
		}
	}
	if part != 4 {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4(a), true
}

// nextWord returns the first blank-separated word of b and the rest.
func nextWord(b []byte) (word, rest []byte) {
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	j := i
	for j < len(b) && b[j] != ' ' && b[j] != '\t' {
		j++
	}
	return b[i:j], b[j:]
}

// trim removes blanks at both ends.
func trim(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// is compares b with a lower-case ASCII word, ignoring case.
func is(b []byte, w string) bool {
	if len(b) != len(w) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != w[i] {
			return false
		}
	}
	return true
}

// atoi reads a decimal number of at most 9 digits.
func atoi(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// mediaKind returns the media type, sharing the common ones' strings.
func mediaKind(b []byte) string {
	switch {
	case is(b, "audio"):
		return "audio"
	case is(b, "video"):
		return "video"
	}
	return field(b)
}

// cutLine splits at the first line end (CRLF, or a bare LF).
func cutLine(b []byte) (line, rest []byte) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return b, nil
	}
	line, rest = b[:i], b[i+1:]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	return line, rest
}

// clip returns v cut to maxField bytes.
func clip(v []byte) []byte {
	if len(v) > maxField {
		return v[:maxField]
	}
	return v
}

// field returns v as a string of at most maxField bytes.
func field(v []byte) string {
	if len(v) > maxField {
		v = v[:maxField]
	}
	return string(v)
}

// method returns a method name, sharing the common ones' strings.
func method(b []byte) string {
	switch string(b) {
	case "INVITE":
		return "INVITE"
	case "ACK":
		return "ACK"
	case "BYE":
		return "BYE"
	case "CANCEL":
		return "CANCEL"
	case "OPTIONS":
		return "OPTIONS"
	case "REGISTER":
		return "REGISTER"
	}
	return field(b)
}
