package nats

import "bytes"

// maxToken bounds a subject token; longer names are cut.
const maxToken = 64

func tokenByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// appendToken appends s as a subject token: each byte outside
// A-Z a-z 0-9 _ - becomes '_', at most maxToken bytes, "_" when empty.
func appendToken(dst, s []byte) []byte {
	if len(s) == 0 {
		return append(dst, '_')
	}
	if len(s) > maxToken {
		s = s[:maxToken]
	}
	for _, c := range s {
		if !tokenByte(c) {
			c = '_'
		}
		dst = append(dst, c)
	}
	return dst
}

// Token is s as a subject token (the host name, for instance).
func Token(s string) string { return string(appendToken(nil, []byte(s))) }

var (
	analyzerKey = []byte(`{"analyzer":"`)
	eventKey    = []byte(`,"event":"`)
)

// eventNames returns the analyzer and event kind of an event line, which
// starts {"analyzer":"NAME","event":"KIND" (spec/JSON.md). A line of any
// other shape gives nil names: it is still published, under "_".
func eventNames(line []byte) (analyzer, kind []byte) {
	if !bytes.HasPrefix(line, analyzerKey) {
		return nil, nil
	}
	rest := line[len(analyzerKey):]
	a, n := jsonStringBody(rest)
	if n < 0 {
		return nil, nil
	}
	rest = rest[n:]
	if !bytes.HasPrefix(rest, eventKey) {
		return a, nil
	}
	rest = rest[len(eventKey):]
	k, n := jsonStringBody(rest)
	if n < 0 {
		return a, nil
	}
	return a, k
}

// jsonStringBody returns the raw bytes of a JSON string body up to its
// closing quote and the bytes consumed (quote included), or -1 when the
// string does not end. Escapes are left as they are: appendToken turns the
// backslash into '_'.
func jsonStringBody(b []byte) ([]byte, int) {
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return b[:i], i + 1
		}
	}
	return nil, -1
}

// appendSubject appends prefix.host.analyzer.kind for an event line.
func appendSubject(dst []byte, prefix, host string, line []byte) []byte {
	a, k := eventNames(line)
	dst = append(dst, prefix...)
	dst = append(dst, '.')
	dst = append(dst, host...)
	dst = append(dst, '.')
	dst = appendToken(dst, a)
	dst = append(dst, '.')
	return appendToken(dst, k)
}
