package main

import "bytes"

// Request is a parsed request line with its Host header.
type Request struct {
	Method, URI, Version, Host []byte
}

// Response is a parsed status line with its Content-Length header (-1 when
// absent or invalid).
type Response struct {
	Version       []byte
	Status        int
	ContentLength int64
}

// ParseRequest recognises "METHOD SP request-target SP HTTP/d.d CRLF" at the
// start of b (a line ending in a bare LF is accepted) and reads the headers
// that follow in b. When the packet was cut short (truncated), the bytes
// after the last line break count as a last line, and a request line cut
// inside its target or version is accepted, as Wireshark does.
func ParseRequest(b []byte, truncated bool) (Request, bool) {
	var r Request
	line, rest, ok := cutLine(b, truncated)
	if !ok {
		return r, false
	}
	sp := bytes.IndexByte(line, ' ')
	if sp < 0 && truncated && rest == nil && knownMethod(line) {
		r.Method = line // the line was cut right after the method
		return r, true
	}
	if sp <= 0 || sp > 20 || !isToken(line[:sp]) {
		return r, false
	}
	r.Method = line[:sp]
	tail := line[sp+1:]
	sp2 := bytes.LastIndexByte(tail, ' ')
	switch {
	case sp2 > 0:
		r.URI, r.Version = tail[:sp2], tail[sp2+1:]
		if !isVersion(r.Version) {
			if !truncated || rest != nil || !versionPrefix(r.Version) {
				return r, false
			}
		}
	case truncated && rest == nil && knownMethod(r.Method):
		r.URI = tail // the line was cut inside the target
	default:
		return r, false
	}
	if bytes.IndexByte(r.URI, ' ') >= 0 {
		return r, false
	}
	for {
		line, rest, ok = cutLine(rest, truncated)
		if !ok || len(line) == 0 {
			break
		}
		if name, value, ok := header(line); ok && equalFold(name, "host") {
			r.Host = value
		}
	}
	return r, true
}

// ParseResponse recognises "HTTP/d.d SP ddd" at the start of b. When the
// packet was cut short (truncated), a status line without its line break
// still counts once its status code is whole, as Wireshark reports it.
func ParseResponse(b []byte, truncated bool) (Response, bool) {
	r := Response{ContentLength: -1}
	line, rest, ok := cutLine(b, truncated)
	if !ok || len(line) < 12 || !isVersion(line[:8]) || line[8] != ' ' {
		return r, false
	}
	for _, c := range line[9:12] {
		if c < '0' || c > '9' {
			return r, false
		}
		r.Status = r.Status*10 + int(c-'0')
	}
	if len(line) > 12 && line[12] != ' ' {
		return r, false
	}
	r.Version = line[:8]
	for {
		line, rest, ok = cutLine(rest, truncated)
		if !ok || len(line) == 0 {
			break
		}
		if rest == nil {
			break // a header line cut by the snapshot length: its value may be cut too
		}
		if name, value, ok := header(line); ok && equalFold(name, "content-length") {
			r.ContentLength = parseLength(value)
		}
	}
	return r, true
}

// cutLine splits the first line off b. Without a line break it fails,
// unless the packet was truncated: then all of b is the line (without a
// bare CR the cut left at its end) and rest is nil.
func cutLine(b []byte, truncated bool) (line, rest []byte, ok bool) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		if !truncated || len(b) == 0 {
			return nil, nil, false
		}
		if b[len(b)-1] == '\r' {
			b = b[:len(b)-1]
		}
		return b, nil, true
	}
	line = b[:i]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	return line, b[i+1:], true
}

func header(line []byte) (name, value []byte, ok bool) {
	i := bytes.IndexByte(line, ':')
	if i <= 0 {
		return nil, nil, false
	}
	value = line[i+1:]
	for len(value) > 0 && (value[0] == ' ' || value[0] == '\t') {
		value = value[1:]
	}
	for len(value) > 0 && (value[len(value)-1] == ' ' || value[len(value)-1] == '\t') {
		value = value[:len(value)-1]
	}
	return line[:i], value, true
}

func parseLength(b []byte) int64 {
	if len(b) == 0 || len(b) > 18 {
		return -1
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int64(c-'0')
	}
	return n
}

func isVersion(b []byte) bool {
	return len(b) == 8 && string(b[:5]) == "HTTP/" && b[5] >= '0' && b[5] <= '9' && b[6] == '.' && b[7] >= '0' && b[7] <= '9'
}

// isToken accepts upper-case method tokens (letters, digits, - and _).
func isToken(b []byte) bool {
	for _, c := range b {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return len(b) > 0
}

// equalFold reports whether b equals lower with ASCII letters folded to
// lower case: header names are ASCII tokens, so Unicode folding
// (bytes.EqualFold would also match the Kelvin sign to k) is not wanted.
func equalFold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// methods Wireshark recognises at the start of a request without a version.
var knownMethods = []string{"GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "CONNECT", "TRACE", "PATCH"}

func knownMethod(m []byte) bool {
	for _, k := range knownMethods {
		if string(m) == k {
			return true
		}
	}
	return false
}

// versionPrefix accepts a version cut short: "H", "HT", ... "HTTP/1.".
func versionPrefix(v []byte) bool {
	const full = "HTTP/1.1"
	return len(v) < len(full) && string(v) == full[:len(v)]
}
