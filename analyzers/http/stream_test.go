package main

import (
	"fmt"
	"strings"
	"testing"
)

// recorder keeps the parser's messages as text.
type recorder struct{ got []string }

func (r *recorder) Message(m *Message) {
	if m.Request {
		r.got = append(r.got, fmt.Sprintf("req %s %s host=%q len=%d chunked=%v", m.Method, m.URI, m.Host, m.Length, m.Chunked))
		return
	}
	s := fmt.Sprintf("resp %d len=%d chunked=%v", m.Status, m.Length, m.Chunked)
	if m.Paired {
		s += fmt.Sprintf(" for %s %s", m.ReqMeth, m.ReqURI)
	}
	r.got = append(r.got, s)
}

// feedConv runs a conversation through a parser: each step is a direction
// (0 client, 1 server) and its bytes, cut into pieces of at most cut bytes
// (0: whole).
type step struct {
	dir  int
	data string
}

func feedConv(p *Parser, id uint64, steps []step, cut int, out Sink) {
	p.Start(id)
	for _, s := range steps {
		b := []byte(s.data)
		for len(b) > 0 {
			n := len(b)
			if cut > 0 && n > cut {
				n = cut
			}
			p.Data(id, s.dir, b[:n], out)
			b = b[n:]
		}
	}
	p.End(id, true, out)
}

var convs = []struct {
	name  string
	steps []step
	want  []string
}{
	{"pipelined", []step{
		{0, "GET /a HTTP/1.1\r\nHost: h\r\n\r\nHEAD /b HTTP/1.1\r\nHost: h\r\n\r\nPOST /c HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"},
		{1, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcHTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"},
	}, []string{
		`req GET /a host="h" len=-1 chunked=false`,
		`req HEAD /b host="h" len=-1 chunked=false`,
		`req POST /c host="h" len=5 chunked=false`,
		"resp 200 len=3 chunked=false for GET /a",
		"resp 200 len=1000 chunked=false for HEAD /b",
		"resp 201 len=0 chunked=false for POST /c",
	}},
	{"chunked", []step{
		{0, "GET /x HTTP/1.1\r\nHost: h\r\n\r\n"},
		{1, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5;ext=1\r\nHTTP/\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Trailer: 1\r\n\r\n"},
		{0, "GET /y HTTP/1.1\r\nHost: h\r\n\r\n"},
		{1, "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n"},
		{0, "GET /z HTTP/1.1\r\n\r\n"},
		{1, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"},
		{0, "GET /w HTTP/1.1\r\n\r\n"},
		{1, "HTTP/1.0 200 OK\r\n\r\nuntil the end HTTP/1.1 200 OK\r\n\r\n"},
	}, []string{
		`req GET /x host="h" len=-1 chunked=false`,
		"resp 200 len=-1 chunked=true for GET /x",
		`req GET /y host="h" len=-1 chunked=false`,
		"resp 304 len=99 chunked=false for GET /y",
		`req GET /z host="" len=-1 chunked=false`,
		"resp 100 len=-1 chunked=false for GET /z",
		"resp 204 len=-1 chunked=false for GET /z",
		`req GET /w host="" len=-1 chunked=false`,
		"resp 200 len=-1 chunked=false for GET /w",
	}},
	{"chunked request", []step{
		{0, "POST /up HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET /next HTTP/1.1\r\n\r\n"},
	}, []string{
		`req POST /up host="" len=-1 chunked=true`,
		`req GET /next host="" len=-1 chunked=false`,
	}},
	{"upgrade", []step{
		{0, "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\n"},
		{1, "HTTP/1.1 101 Switching Protocols\r\n\r\n"},
		{0, "GET /not-http HTTP/1.1\r\n\r\n"},
	}, []string{
		`req GET /ws host="" len=-1 chunked=false`,
		"resp 101 len=-1 chunked=false for GET /ws",
	}},
	{"not http", []step{
		{0, "\x16\x03\x01\x02\x00\x01\x00GET / HTTP/1.1\r\n\r\n"},
		{1, "SSH-2.0-OpenSSH\r\n\r\n"},
	}, nil},
}

func TestStreamConversations(t *testing.T) {
	for _, c := range convs {
		// Every piece size, down to one byte a chunk: the result must not
		// depend on where the segments were cut.
		for _, cut := range []int{0, 1, 2, 3, 7, 16, 64} {
			p := NewParser()
			var r recorder
			feedConv(p, 7, c.steps, cut, &r)
			if strings.Join(r.got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("%s, pieces of %d: got\n%s\nwant\n%s", c.name, cut, strings.Join(r.got, "\n"), strings.Join(c.want, "\n"))
			}
			if p.Flows() != 0 {
				t.Errorf("%s: %d flows left after the end", c.name, p.Flows())
			}
		}
	}
}

func TestStreamGaps(t *testing.T) {
	p := NewParser()
	var r recorder
	p.Start(1)
	// A gap inside a body of known length is skipped without losing sync.
	p.Data(1, 0, []byte("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nab"), &r)
	p.Gap(1, 0, 5, &r)
	p.Data(1, 0, []byte("cde"), &r)
	p.Data(1, 0, []byte("GET /after HTTP/1.1\r\n\r\n"), &r)
	// A gap inside a header block loses sync until a chunk starts a message.
	p.Data(1, 0, []byte("GET /cut HTTP/1.1\r\nHo"), &r)
	p.Gap(1, 0, 100, &r)
	p.Data(1, 0, []byte("st: x\r\n\r\n"), &r)
	p.Data(1, 0, []byte("GET /resync HTTP/1.1\r\n\r\n"), &r)
	want := []string{
		`req POST / host="" len=10 chunked=false`,
		`req GET /after host="" len=-1 chunked=false`,
		`req GET /cut host="" len=-1 chunked=false`, // reported cut, at the gap
		`req GET /resync host="" len=-1 chunked=false`,
	}
	if strings.Join(r.got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(r.got, "\n"), strings.Join(want, "\n"))
	}
	if p.Stats.Gaps != 1 || p.Stats.Resynced != 1 || p.Stats.Truncated != 1 {
		t.Fatalf("stats %+v", p.Stats)
	}
	// A flow that ends inside a header block (the capture cut its last
	// segment) reports the part captured.
	p.Start(2)
	p.Data(2, 0, []byte("GET /favic"), &r)
	p.End(2, true, &r)
	if got := r.got[len(r.got)-1]; got != `req GET /favic host="" len=-1 chunked=false` || p.Stats.Truncated != 2 {
		t.Fatalf("got %q, stats %+v", got, p.Stats)
	}
	// Responses after lost requests are not paired.
	p.Data(1, 1, []byte("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), &r)
	if got := r.got[len(r.got)-1]; got != "resp 200 len=0 chunked=false" || p.Stats.Unpaired != 1 {
		t.Fatalf("got %q, stats %+v", got, p.Stats)
	}
}

func TestStreamBounds(t *testing.T) {
	p := NewParser()
	var r recorder
	// An endless header block is given up at headerMax, counted.
	p.Start(1)
	line := []byte("X-Filler: " + strings.Repeat("a", 90) + "\r\n")
	p.Data(1, 0, []byte("GET / HTTP/1.1\r\n"), &r)
	for i := 0; i < 200; i++ {
		p.Data(1, 0, line, &r)
	}
	if p.Stats.Oversize != 1 || len(r.got) != 0 {
		t.Fatalf("oversize: %+v %q", p.Stats, r.got)
	}
	if n := p.flows[p.tab.Get(1)].dir[0].n; n != 0 {
		t.Fatalf("%d header bytes kept after the give-up", n)
	}
	// More flows than slots: the oldest are replaced, counted, and the
	// table never holds more than maxFlows.
	for id := uint64(2); id < 2+3*maxFlows; id++ {
		p.Start(id)
		p.Data(id, 0, []byte("GET /"), &r)
	}
	if p.Flows() != maxFlows || p.Stats.Evicted != 2*maxFlows+1 {
		t.Fatalf("flows %d, stats %+v", p.Flows(), p.Stats)
	}
	// Requests beyond pendingMax are reported but not queued.
	p.Start(9)
	for i := 0; i < pendingMax+3; i++ {
		p.Data(9, 0, []byte("GET / HTTP/1.1\r\n\r\n"), &r)
	}
	if p.Stats.Overflow != 3 {
		t.Fatalf("overflow %+v", p.Stats)
	}
	// Header blocks kept across chunks share headerBufs buffers: one more
	// is given up, counted.
	p.Reset()
	for id := uint64(1); id <= headerBufs+1; id++ {
		p.Start(id)
		p.Data(id, 0, []byte("GET / HTTP/1.1\r\nHost: a"), &r)
	}
	if p.Stats.NoBuffer != 1 || len(p.free) != 0 {
		t.Fatalf("pool: %+v, %d free", p.Stats, len(p.free))
	}
	p.End(1, true, &r)
	if len(p.free) != 1 {
		t.Fatalf("%d buffers free after an end", len(p.free))
	}
	// A bad chunk size is counted.
	p.Start(10)
	p.Data(10, 1, []byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"), &r)
	if p.Stats.BadFraming != 1 {
		t.Fatalf("framing %+v", p.Stats)
	}
}

// TestStreamNoAllocs checks that the per-chunk path allocates nothing once
// a flow's header buffer exists.
func TestStreamNoAllocs(t *testing.T) {
	p := NewParser()
	var r discard
	req := []byte("GET /index.html HTTP/1.1\r\nHost: example.org\r\nAccept: */*\r\n\r\n")
	resp := []byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n")
	p.Start(1)
	id := uint64(100)
	allocs := testing.AllocsPerRun(200, func() {
		p.Data(1, 0, req[:10], &r)
		p.Data(1, 0, req[10:], &r)
		p.Data(1, 1, resp, &r)
		id++
		p.Start(id)
		p.Data(id, 0, req, &r)
		p.Gap(id, 1, 10, &r)
		p.End(id, true, &r)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per run", allocs)
	}
}

type discard struct{ n int }

func (d *discard) Message(*Message) { d.n++ }
