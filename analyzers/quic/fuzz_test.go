package main

import (
	"bytes"
	"testing"

	"github.com/wringcap/wring/internal/quicgen"
)

// FuzzDatagram feeds arbitrary UDP payloads to a tracker that has already
// seen part of a generated set (so known connections, half-reassembled
// streams and fresh ones are all reachable). It must never panic, and what
// it reports must stay within its bounds.
func FuzzDatagram(f *testing.F) {
	_, dgrams, _ := genSet(f, 12, 3, 3)
	for _, d := range dgrams[:8] {
		f.Add(d, false)
		f.Add(d[:len(d)/2], true)
	}
	f.Add([]byte{0x80, 0, 0, 0, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0}, false) // Version Negotiation
	f.Add([]byte{0xc0, 0, 0, 0, 1, 20}, false)
	warm := NewTracker()
	for _, g := range dgrams[:6] {
		warm.Datagram(1, g, false)
	}
	tr := NewTracker()
	f.Fuzz(func(t *testing.T, d []byte, cut bool) {
		*tr = *warm
		before := tr.Stats
		reps := tr.Datagram(1, d, cut)
		if len(reps) > maxReports {
			t.Fatalf("%d reports", len(reps))
		}
		for _, r := range reps {
			if int(r.DCID.n) > maxCID || int(r.SCID.n) > maxCID || len(r.Hello.sni) > maxHello {
				t.Fatalf("report out of bounds: %+v", r)
			}
			appendALPN(nil, r.Hello.alpn)
			appendVersions(nil, r.Hello.versions)
		}
		if tr.Stats.Hellos-before.Hellos != uint64(len(reps)) {
			t.Fatalf("%d reports, hellos counter moved by %d", len(reps), tr.Stats.Hellos-before.Hellos)
		}
	})
}

// FuzzCryptoReassembly cuts a real ClientHello into CRYPTO frames the
// input describes (any offsets, lengths, order, overlaps, some beyond the
// bounds, some with wrong bytes) and feeds them to one connection. When it
// reports the ClientHello complete and every frame carried the true bytes,
// the reassembled message must be the original; a stream given up must be
// counted exactly once; the spans stay sorted, disjoint and bounded.
func FuzzCryptoReassembly(f *testing.F) {
	hello, err := quicgen.ClientHello("fuzz.example", []string{"h3"}, false)
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte{0, 0, 200, 1, 0, 255, 0, 200, 7, 3})
	f.Add([]byte{5, 0, 100, 0, 0, 100, 2, 0, 255, 9, 9, 9})
	f.Add(bytes.Repeat([]byte{3, 1, 7}, 30))
	f.Fuzz(func(t *testing.T, plan []byte) {
		var st Stats
		c := &conn{used: true, largest: -1}
		truthful := true
		done := false
		for len(plan) >= 3 && !done {
			off := (int(plan[0])<<8 | int(plan[1])) % (len(hello) + 64)
			n := int(plan[2]) * 8
			flags := plan[0]
			plan = plan[3:]
			if flags&0x80 != 0 {
				off += maxHello - 100 // near or past the bound
			}
			data := make([]byte, n)
			for i := range data {
				if off+i < len(hello) {
					data[i] = hello[off+i]
				}
			}
			if off+n > len(hello) || flags&0x40 != 0 {
				if flags&0x40 != 0 && n > 0 {
					data[0] ^= 0xff
				}
				truthful = false
			}
			done = c.add(uint64(off), data, &st)
			for i := 0; i < c.nspans; i++ {
				s := c.spans[i]
				if s.start >= s.end || s.end > maxHello || (i > 0 && c.spans[i-1].end >= s.start) {
					t.Fatalf("spans %v", c.spans[:c.nspans])
				}
			}
		}
		given := st.HelloTooLarge + st.TooManyGaps + st.NotClientHello
		if (c.state == gaveUp) != (given == 1) || given > 1 {
			t.Fatalf("state %d, counters %+v", c.state, st)
		}
		if done && truthful && !bytes.Equal(c.hello(), hello[4:]) {
			t.Fatalf("reassembled ClientHello differs from the original")
		}
	})
}

// FuzzFrames feeds arbitrary decrypted Initial payloads to the frame
// parser (what an attacker who derives the public Initial keys controls).
func FuzzFrames(f *testing.F) {
	hello, err := quicgen.ClientHello("frames.example", []string{"h3", "h3-29"}, true)
	if err != nil {
		f.Fatal(err)
	}
	crypto := append([]byte{0x06, 0x00, 0x40 | byte(len(hello)>>8), byte(len(hello))}, hello...)
	f.Add(crypto)
	f.Add(append([]byte{0x02, 0x05, 0x00, 0x01, 0x02, 0x01, 0x01, 0x01}, crypto...))            // ACK with a range
	f.Add(append([]byte{0x03, 0x05, 0x00, 0x00, 0x02, 0x01, 0x02, 0x03, 0x01}, crypto[:40]...)) // ACK with ECN, part of the hello
	f.Add([]byte{0x1c, 0x0a, 0x06, 0x03, 'b', 'y', 'e', 0x00, 0x00, 0x01})                      // CONNECTION_CLOSE, padding, PING
	f.Add([]byte{0x06, 0x80, 0x00, 0x40, 0x00, 0x04, 0x01, 0x00, 0x00, 0x10})                   // CRYPTO near the bound
	f.Fuzz(func(t *testing.T, p []byte) {
		tr := NewTracker()
		c := &tr.conns[0]
		c.used, c.largest = true, -1
		r := tr.frames(c, p)
		if r != nil && (tr.Stats.Hellos != 1 || c.state != reported) {
			t.Fatalf("report with stats %+v state %d", tr.Stats, c.state)
		}
		if r != nil {
			appendALPN(nil, r.Hello.alpn)
		}
	})
}

// FuzzClientHello feeds arbitrary ClientHello bodies to the parser.
func FuzzClientHello(f *testing.F) {
	for i, sni := range []string{"a.example", ""} {
		h, err := quicgen.ClientHello(sni, []string{"h3"}, i == 0)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(h[4:])
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var h hello
		parseHello(body, &h)
		for _, s := range [][]byte{h.sni, h.alpn, h.versions} {
			if len(s) > len(body) {
				t.Fatalf("a field longer than the message")
			}
		}
		appendALPN(nil, h.alpn)
		appendVersions(nil, h.versions)
		h.maxVersion()
	})
}
