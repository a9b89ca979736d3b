package main

import (
	"strings"
	"testing"
)

// FuzzStream feeds the stream parser arbitrary chunk sequences: data of
// either direction, gaps, starts and ends over a few flows. It must never
// panic, its state must stay within its bounds, and, for the same bytes
// without gaps, the messages must not depend on how the bytes were cut into
// chunks (whole steps against one byte a chunk).
//
// Input: records of [op][n][n bytes]; op&3 is 0 or 1 (data of that
// direction), 2 (a gap of n bytes) or 3 (start, or end when op&4, of flow
// op>>3&3).
func FuzzStream(f *testing.F) {
	for _, c := range convs {
		var in []byte
		for _, s := range c.steps {
			for d := s.data; len(d) > 0; {
				n := min(len(d), 255)
				in = append(in, byte(s.dir), byte(n))
				in = append(in, d[:n]...)
				d = d[n:]
			}
		}
		f.Add(in)
	}
	f.Add([]byte{3, 0, 0, 5, 'G', 'E', 'T', ' ', '/', 2, 9, 1, 3, 'H', 'T', 'T', 7, 0, 0})
	f.Fuzz(fuzzOne)
}

func fuzzOne(t *testing.T, in []byte) {
	type rec struct {
		op   byte
		data []byte
	}
	var recs []rec
	for len(in) >= 2 {
		op, n := in[0], int(in[1])
		in = in[2:]
		if op&3 <= 1 {
			n = min(n, len(in))
			recs = append(recs, rec{op, in[:n]})
			in = in[n:]
		} else {
			recs = append(recs, rec{op, make([]byte, n)})
		}
	}
	// Everything, over four flows.
	p := fuzzParsers[0]
	p.Reset()
	var d discard
	for _, r := range recs {
		id := uint64(r.op>>3&3) + 1
		switch r.op & 3 {
		case 0, 1:
			p.Data(id, int(r.op&1), r.data, &d)
		case 2:
			p.Gap(id, int(r.op>>2&1), uint64(len(r.data)), &d)
		case 3:
			if r.op&4 != 0 {
				p.End(id, r.op&0x20 != 0, &d)
			} else {
				p.Start(id)
			}
		}
	}
	checkBounds(t, p)
	// The data alone, one flow, whole and byte by byte.
	whole, bytes := fuzzParsers[1], fuzzParsers[2]
	whole.Reset()
	bytes.Reset()
	var rw, rb recorder
	whole.Start(1)
	bytes.Start(1)
	for _, r := range recs {
		if r.op&3 > 1 {
			continue
		}
		whole.Data(1, int(r.op&1), r.data, &rw)
		for i := range r.data {
			bytes.Data(1, int(r.op&1), r.data[i:i+1], &rb)
		}
	}
	checkBounds(t, whole)
	checkBounds(t, bytes)
	// Sync is lost at the same byte however the bytes were cut; after
	// that, where chunks start decides where the parser finds a message
	// again, so only runs that never lost sync must agree on everything.
	ws, bs := whole.Stats, bytes.Stats
	lostW, lostB := ws.Oversize+ws.BadFraming > 0, bs.Oversize+bs.BadFraming > 0
	if lostW != lostB {
		t.Fatalf("sync lost differently: whole %+v, byte by byte %+v", ws, bs)
	}
	if !lostW && (ws != bs || strings.Join(rw.got, "\n") != strings.Join(rb.got, "\n")) {
		t.Fatalf("whole %+v:\n%s\nbyte by byte %+v:\n%s", ws, strings.Join(rw.got, "\n"), bs, strings.Join(rb.got, "\n"))
	}
}

// fuzzParsers are reused: a parser's memory is allocated at once, and
// allocating three per input would slow the fuzzer down a hundredfold.
var fuzzParsers = [3]*Parser{NewParser(), NewParser(), NewParser()}

func checkBounds(t *testing.T, p *Parser) {
	t.Helper()
	if p.Flows() > maxFlows {
		t.Fatalf("%d flows", p.Flows())
	}
	held := 0
	for i := range p.flows {
		f := &p.flows[i]
		if f.qn < 0 || f.qn > pendingMax {
			t.Fatalf("%d pending requests", f.qn)
		}
		for _, h := range f.dir {
			if h.n < 0 || h.n >= headerMax || h.n > 0 && h.buf == 0 {
				t.Fatalf("%d header bytes kept, buffer %d", h.n, h.buf)
			}
			if h.buf != 0 {
				held++
			}
		}
	}
	if held+len(p.free) != headerBufs {
		t.Fatalf("%d header buffers held, %d free, of %d", held, len(p.free), headerBufs)
	}
}
