// Command http is wring's bundled HTTP/1.x analyzer. Built for WASI
// (analyzers/bundled embeds the result), it reads the first bytes of each TCP
// payload and reports requests (method, host, URI) and responses (status
// code, content length) as events, with counters per method and per status
// class. It matches requests (tag 1) and responses (tag 2).
//
// It looks at one packet at a time: a request line or header block split
// across TCP segments is reported from its first segment only (without the
// Host header when that header is in a later segment).
package main

import "github.com/wringcap/wring/wasm/guest"

var (
	methods = []struct {
		name string
		c    *guest.Counter
	}{
		{"GET", guest.NewCounter("method.GET")},
		{"POST", guest.NewCounter("method.POST")},
		{"HEAD", guest.NewCounter("method.HEAD")},
		{"PUT", guest.NewCounter("method.PUT")},
		{"DELETE", guest.NewCounter("method.DELETE")},
		{"OPTIONS", guest.NewCounter("method.OPTIONS")},
		{"CONNECT", guest.NewCounter("method.CONNECT")},
		{"TRACE", guest.NewCounter("method.TRACE")},
		{"PATCH", guest.NewCounter("method.PATCH")},
	}
	otherMethod = guest.NewCounter("method.other")
	status      = [6]*guest.Counter{
		guest.NewCounter("status.other"),
		guest.NewCounter("status.1xx"),
		guest.NewCounter("status.2xx"),
		guest.NewCounter("status.3xx"),
		guest.NewCounter("status.4xx"),
		guest.NewCounter("status.5xx"),
	}
	requests  = guest.NewCounter("requests")
	responses = guest.NewCounter("responses")
)

type analyzer struct{}

func (analyzer) Init(guest.Config) error { return nil }

func (analyzer) Packet(p *guest.Packet, v *guest.Verdict) {
	if p.IPProto() != 6 {
		return
	}
	pl := p.Payload()
	if len(pl) < 3 {
		return
	}
	truncated := p.Truncated()
	if r, ok := ParseRequest(pl, truncated); ok {
		requests.Add(1)
		counted := false
		for _, m := range methods {
			if string(r.Method) == m.name {
				m.c.Add(1)
				counted = true
				break
			}
		}
		if !counted {
			otherMethod.Add(1)
		}
		e := p.Event("request").Bytes("method", r.Method).Bytes("uri", r.URI)
		if r.Host != nil {
			e.Bytes("host", r.Host)
		}
		e.Bytes("version", r.Version).Done()
		v.Match(1)
		return
	}
	if r, ok := ParseResponse(pl, truncated); ok {
		responses.Add(1)
		class := r.Status / 100
		if class < 1 || class > 5 {
			class = 0
		}
		status[class].Add(1)
		e := p.Event("response").Uint("status", uint64(r.Status)).Bytes("version", r.Version)
		if r.ContentLength >= 0 {
			e.Int("content_length", r.ContentLength)
		}
		e.Done()
		v.Match(2)
	}
}

func init() {
	guest.Register(analyzer{}, guest.Options{Need: guest.NeedPayload, PayloadMax: 4096})
}

func main() {}
