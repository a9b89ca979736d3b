package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

type msgRecorder struct{ got []string }

func (r *msgRecorder) Message(msg []byte) {
	m, ok := Parse(msg)
	if !ok {
		r.got = append(r.got, fmt.Sprintf("bad %d bytes", len(msg)))
		return
	}
	q, _ := m.Question(0, nil)
	r.got = append(r.got, fmt.Sprintf("id=%d resp=%v %s/%d len=%d", m.ID, m.Response, q.Name, q.Type, len(msg)))
}

// query builds a DNS message for name with id, padded to at least pad
// bytes with an additional-section-free tail (ignored by the decoder).
func query(id uint16, name string, resp bool, pad int) []byte {
	b := []byte{byte(id >> 8), byte(id), 1, 0, 0, 1, 0, 0, 0, 0, 0, 0}
	if resp {
		b[2] |= 0x80
	}
	for _, l := range strings.Split(name, ".") {
		b = append(b, byte(len(l)))
		b = append(b, l...)
	}
	b = append(b, 0, 0, 1, 0, 1)
	for len(b) < pad {
		b = append(b, 0)
	}
	return b
}

func framed(msgs ...[]byte) []byte {
	var out []byte
	for _, m := range msgs {
		out = append(out, byte(len(m)>>8), byte(len(m)))
		out = append(out, m...)
	}
	return out
}

func TestStreamMessages(t *testing.T) {
	stream := framed(query(1, "a.example", false, 0), query(2, "b.example", false, 0), []byte{}, query(3, "big.example", true, 3000))
	want := []string{
		"id=1 resp=false a.example/1 len=27",
		"id=2 resp=false b.example/1 len=27",
		"id=3 resp=true big.example/1 len=3000",
	}
	for _, cut := range []int{0, 1, 2, 3, 5, 29, 100, 1500} {
		p := NewStreamParser()
		var r msgRecorder
		p.Start(9)
		for b := stream; len(b) > 0; {
			n := len(b)
			if cut > 0 && n > cut {
				n = cut
			}
			p.Data(9, 0, b[:n], &r)
			b = b[n:]
		}
		p.End(9)
		if strings.Join(r.got, "\n") != strings.Join(want, "\n") {
			t.Errorf("pieces of %d: got\n%s", cut, strings.Join(r.got, "\n"))
		}
		if p.Stats.Empty != 1 || p.Stats.Messages != 3 || p.Flows() != 0 {
			t.Errorf("pieces of %d: %+v, %d flows", cut, p.Stats, p.Flows())
		}
	}
}

func TestStreamGapsAndBounds(t *testing.T) {
	p := NewStreamParser()
	var r msgRecorder
	p.Start(1)
	m1, m2 := query(1, "a.example", false, 0), query(2, "b.example", false, 0)
	s := framed(m1, m2)
	// A gap inside the first message loses it and keeps the framing.
	p.Data(1, 0, s[:10], &r)
	p.Gap(1, 0, 5)
	p.Data(1, 0, s[15:], &r)
	if len(r.got) != 1 || !strings.HasPrefix(r.got[0], "id=2 ") || p.Stats.Gaps != 1 {
		t.Fatalf("%q %+v", r.got, p.Stats)
	}
	// A gap over a length prefix loses the direction, counted once.
	p.Gap(1, 0, 3)
	p.Data(1, 0, framed(m1), &r)
	if len(r.got) != 1 || p.Stats.Gaps != 2 {
		t.Fatalf("%q %+v", r.got, p.Stats)
	}
	// The other direction is not affected.
	p.Data(1, 1, framed(m2), &r)
	if len(r.got) != 2 {
		t.Fatalf("%q", r.got)
	}
	// A message larger than msgMax is handed over cut, counted.
	big := query(7, "x.example", true, 40000)
	p.Start(2)
	f := framed(big)
	p.Data(2, 1, f[:100], &r)
	p.Data(2, 1, f[100:], &r)
	if p.Stats.Cut != 1 || !strings.HasPrefix(r.got[len(r.got)-1], fmt.Sprintf("id=7 resp=true x.example/1 len=%d", msgMax)) {
		t.Fatalf("%q %+v", r.got, p.Stats)
	}
	if n := p.flows[p.tab.Get(2)][1].n; n != 0 {
		t.Fatalf("%d bytes kept after the message", n)
	}
	// A flow whose start was not seen is ignored.
	p.Data(3, 0, framed(m1), &r)
	if len(r.got) != 3 {
		t.Fatalf("%q", r.got)
	}
	// More flows than slots: the oldest are replaced and counted.
	for id := uint64(10); id < 10+2*maxFlows; id++ {
		p.Start(id)
	}
	if p.Flows() != maxFlows || p.Stats.Evicted == 0 {
		t.Fatalf("%d flows %+v", p.Flows(), p.Stats)
	}
}

func TestStreamNoAllocs(t *testing.T) {
	p := NewStreamParser()
	var r countSink
	s := framed(query(1, "a.example", false, 0), query(2, "b.example", true, 300))
	p.Start(1)
	id := uint64(1)
	allocs := testing.AllocsPerRun(200, func() {
		p.Data(1, 0, s[:40], &r)
		p.Data(1, 0, s[40:], &r)
		id++
		p.Start(id)
		p.Data(id, 1, s[:1], &r)
		p.Gap(id, 1, 4)
		p.End(id)
	})
	if allocs != 0 || r.n == 0 {
		t.Fatalf("%v allocations per run, %d messages", allocs, r.n)
	}
}

type countSink struct{ n int }

func (c *countSink) Message([]byte) { c.n++ }

var fuzzParsers = [3]*StreamParser{NewStreamParser(), NewStreamParser(), NewStreamParser()}

// FuzzStream feeds the DNS-over-TCP parser arbitrary chunk sequences
// (records [op][n][n bytes] as in analyzers/http's FuzzStream: op&3 0/1
// data, 2 gap, 3 start or end of flow op>>3&3). It must not panic, must stay
// within its bounds, and without gaps the messages must not depend on how
// the bytes were cut.
func FuzzStream(f *testing.F) {
	s := framed(query(1, "a.example", false, 0), query(2, "b.example", true, 40))
	f.Add(append([]byte{0, byte(len(s))}, s...))
	f.Add(append([]byte{3, 0, 1, 7}, s[:7]...))
	f.Add([]byte{0, 2, 0xff, 0xff, 2, 200, 0, 3, 1, 2, 3})
	f.Fuzz(func(t *testing.T, in []byte) {
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
		p := fuzzParsers[0]
		p.Reset()
		var c countSink
		for _, r := range recs {
			id := uint64(r.op>>3&3) + 1
			switch r.op & 3 {
			case 0, 1:
				p.Data(id, int(r.op&1), r.data, &c)
			case 2:
				p.Gap(id, int(r.op>>2&1), uint64(len(r.data)))
			case 3:
				if r.op&4 != 0 {
					p.End(id)
				} else {
					p.Start(id)
				}
			}
			checkBounds(t, p)
		}
		whole, single := fuzzParsers[1], fuzzParsers[2]
		whole.Reset()
		single.Reset()
		whole.Start(1)
		single.Start(1)
		var rw, rs msgCollector
		for _, r := range recs {
			if r.op&3 > 1 {
				continue
			}
			whole.Data(1, int(r.op&1), r.data, &rw)
			for i := range r.data {
				single.Data(1, int(r.op&1), r.data[i:i+1], &rs)
			}
		}
		if whole.Stats != single.Stats || !bytes.Equal(bytes.Join(rw.got, []byte{0}), bytes.Join(rs.got, []byte{0})) {
			t.Fatalf("whole %+v %d messages, byte by byte %+v %d", whole.Stats, len(rw.got), single.Stats, len(rs.got))
		}
	})
}

type msgCollector struct{ got [][]byte }

func (c *msgCollector) Message(m []byte) { c.got = append(c.got, bytes.Clone(m)) }

func checkBounds(t *testing.T, p *StreamParser) {
	t.Helper()
	if p.Flows() > maxFlows {
		t.Fatalf("%d flows", p.Flows())
	}
	for i := range p.flows {
		for _, h := range p.flows[i] {
			if h.n < 0 || h.n > msgMax || h.seen > h.want || h.lenN > 1 {
				t.Fatalf("state out of bounds: %d bytes kept, %d of %d, %d length bytes", h.n, h.seen, h.want, h.lenN)
			}
		}
	}
}
