package main

import "testing"

func TestParseRequest(t *testing.T) {
	for _, c := range []struct {
		in                      string
		truncated, ok           bool
		method, uri, host, vers string
	}{
		{"GET /a?b=c HTTP/1.1\r\nHost: x.org\r\nAccept: */*\r\n\r\n", false, true, "GET", "/a?b=c", "x.org", "HTTP/1.1"},
		{"POST / HTTP/1.0\nhost:  y  \n\n", false, true, "POST", "/", "y", "HTTP/1.0"},
		{"GET / HTTP/1.1\r\nHost: cdn.ex", true, true, "GET", "/", "cdn.ex", "HTTP/1.1"},
		{"GET / HTTP/1.1\r\nHost: cdn.ex", false, true, "GET", "/", "", "HTTP/1.1"},
		{"GET /favic", true, true, "GET", "/favic", "", ""},
		{"GET /favic", false, false, "", "", "", ""},
		{"GET", true, true, "GET", "", "", ""},
		{"GET / ", true, true, "GET", "/", "", ""},
		{"get / HTTP/1.1\r\n", false, false, "", "", "", ""},
		{"GET / HTTP/9\r\n", false, false, "", "", "", ""},
		{"HTTP/1.1 200 OK\r\n", false, false, "", "", "", ""},
		{"\x16\x03\x01\x02\x00", true, false, "", "", "", ""},
		// A request line whose LF the snapshot length cut off.
		{"GET /index.html HTTP/1.1\r", true, true, "GET", "/index.html", "", "HTTP/1.1"},
		{"GET /index.html HTTP/1.1\r", false, false, "", "", "", ""},
	} {
		r, ok := ParseRequest([]byte(c.in), c.truncated)
		if !ok && !c.ok {
			continue
		}
		if ok != c.ok || string(r.Method) != c.method || string(r.URI) != c.uri || string(r.Host) != c.host || string(r.Version) != c.vers {
			t.Errorf("%q truncated=%v: %v %q %q %q %q", c.in, c.truncated, ok, r.Method, r.URI, r.Host, r.Version)
		}
	}
}

func TestParseResponse(t *testing.T) {
	r, ok := ParseResponse([]byte("HTTP/1.1 404 Not Found\r\nContent-Length: 12\r\n\r\n"), false)
	if !ok || r.Status != 404 || r.ContentLength != 12 {
		t.Fatalf("%+v %v", r, ok)
	}
	r, ok = ParseResponse([]byte("HTTP/1.1 200\r\nContent-Length: x\r\n"), false)
	if !ok || r.Status != 200 || r.ContentLength != -1 {
		t.Fatalf("%+v %v", r, ok)
	}
	if _, ok := ParseResponse([]byte("HTTP/1.1 2x0 OK\r\n"), false); ok {
		t.Fatal("accepted a bad status")
	}
}

// TestParseResponseCut is issue 15's reproducer: a status line cut by the
// snapshot length (a 96-byte capture over Ethernet, IPv4 and TCP with
// timestamps leaves 30 bytes of payload) still reports its status, as
// tshark does; a status line cut inside the code, or a packet that was not
// cut, does not.
func TestParseResponseCut(t *testing.T) {
	const line = "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 1234\r\n\r\n"
	for _, c := range []struct {
		n         int // bytes of payload captured
		truncated bool
		status    int
		length    int64
	}{
		{30, true, 500, -1},                   // "HTTP/1.1 500 Internal Server E"
		{12, true, 500, -1},                   // "HTTP/1.1 500"
		{35, true, 500, -1},                   // the line and a bare CR
		{36, true, 500, -1},                   // the whole line
		{53, true, 500, -1},                   // Content-Length: 123 (cut: not reported)
		{56, true, 500, -1},                   // the header line without its line break: it may be cut
		{11, true, 0, 0},                      // "HTTP/1.1 50": no status yet
		{30, false, 0, 0},                     // not cut: a segment boundary, not a line
		{len(line), false, 500, 1234},         // the whole response
		{len(line) - 2, true, 500, 1234},      // all but the blank line
		{len("HTTP/1.1 500 "), true, 500, -1}, // cut after the code's space
	} {
		r, ok := ParseResponse([]byte(line[:c.n]), c.truncated)
		if c.status == 0 {
			if ok {
				t.Errorf("%q truncated=%v: reported %+v", line[:c.n], c.truncated, r)
			}
			continue
		}
		if !ok || r.Status != c.status || r.ContentLength != c.length || string(r.Version) != "HTTP/1.1" {
			t.Errorf("%q truncated=%v: %+v %v, want status %d, length %d", line[:c.n], c.truncated, r, ok, c.status, c.length)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), true)
	f.Add([]byte("HTTP/1.0 301 Moved\r\nContent-Length: 5\r\n"), false)
	f.Fuzz(func(t *testing.T, b []byte, truncated bool) {
		if r, ok := ParseRequest(b, truncated); ok && len(r.Method) == 0 {
			t.Fatalf("request without a method: %q", b)
		}
		if r, ok := ParseResponse(b, truncated); ok && (r.Status < 0 || r.Status > 999) {
			t.Fatalf("status %d", r.Status)
		}
	})
}
