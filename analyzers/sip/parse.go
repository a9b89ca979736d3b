package main

import (
	"bytes"
	"net/netip"
	"strconv"
)

// Message is what the analyzer reads from a SIP message (RFC 3261) and its
// SDP body (RFC 4566).
type Message struct {
	Request    bool
	Method     string // request method, e.g. INVITE
	Status     int    // response status code, e.g. 200
	CallID     string
	From, To   string
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
func Parse(b []byte) (Message, bool) {
	var m Message
	line, rest := cutLine(b)
	switch {
	case bytes.HasPrefix(line, []byte("SIP/2.0 ")):
		f := line[len("SIP/2.0 "):]
		if len(f) < 3 {
			return m, false
		}
		n, err := strconv.Atoi(string(f[:3]))
		if err != nil || n < 100 || n > 699 || (len(f) > 3 && f[3] != ' ') {
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
		m.Request, m.Method = true, string(line[:sp])
	}
	contentLen, ctype := -1, ""
	for {
		if len(rest) == 0 {
			return m, m.CallID != "" // no blank line: a message without a body, cut short
		}
		line, rest = cutLine(rest)
		if len(line) == 0 {
			break
		}
		name, val, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue // a folded or broken line
		}
		val = bytes.TrimSpace(val)
		switch string(bytes.ToLower(bytes.TrimSpace(name))) {
		case "call-id", "i":
			m.CallID = field(val)
		case "from", "f":
			m.From = field(val)
		case "to", "t":
			m.To = field(val)
		case "cseq":
			if _, meth, ok := bytes.Cut(val, []byte(" ")); ok {
				m.CSeqMethod = field(bytes.TrimSpace(meth))
			}
		case "content-length", "l":
			if n, err := strconv.Atoi(string(val)); err == nil && n >= 0 {
				contentLen = n
			}
		case "content-type", "c":
			ctype = string(bytes.ToLower(val))
		}
	}
	if m.CallID == "" {
		return m, false
	}
	body := rest
	if contentLen >= 0 && contentLen < len(body) {
		body = body[:contentLen]
	}
	if len(body) > 0 && (ctype == "" || bytes.HasPrefix([]byte(ctype), []byte("application/sdp"))) {
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
			f := bytes.Fields(v)
			if len(f) < 3 {
				continue
			}
			port, err := strconv.ParseUint(string(bytes.SplitN(f[1], []byte("/"), 2)[0]), 10, 16)
			if err != nil {
				continue
			}
			if !bytes.HasPrefix(f[2], []byte("RTP/")) {
				continue // not RTP (e.g. a T.38 udptl or a TCP/MSRP stream)
			}
			out = append(out, Media{Kind: field(f[0]), Addr: session, Port: uint16(port)})
			cur = len(out) - 1
		}
	}
	return sawV, out
}

// connAddr reads "IN IP4 192.0.2.1" (a multicast TTL suffix is dropped).
func connAddr(v []byte) (netip.Addr, bool) {
	f := bytes.Fields(v)
	if len(f) < 3 || string(f[0]) != "IN" || (string(f[1]) != "IP4" && string(f[1]) != "IP6") {
		return netip.Addr{}, false
	}
	s := f[2]
	if i := bytes.IndexByte(s, '/'); i >= 0 {
		s = s[:i]
	}
	a, err := netip.ParseAddr(string(s))
	if err != nil || a.Is4() != (string(f[1]) == "IP4") || a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a, true
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

// field returns v as a string of at most maxField bytes.
func field(v []byte) string {
	if len(v) > maxField {
		v = v[:maxField]
	}
	return string(v)
}
