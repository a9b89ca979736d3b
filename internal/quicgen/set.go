package quicgen

import (
	"fmt"
	"math/rand/v2"
)

// Conn is one generated client connection and what a decoder should report
// for it.
type Conn struct {
	Version    uint32
	DCID, SCID []byte
	SNI        string
	ALPN       []string
	Hello      []byte // the ClientHello message
	Frame      int    // the 1-based frame whose datagram completes the ClientHello
	Packets    int    // Initial packets carrying its CRYPTO frames, up to that frame
	Datagrams  int    // datagrams sent for it
	Src        [4]byte
	Sport      uint16
}

var (
	names = []string{"example.com", "quic.example.org", "a.very.long.server.name.under.a.deep.tree.example.net", "x.test", ""}
	alpns = [][]string{{"h3"}, {"h3", "h3-29"}, {"hq-interop"}, {"h3", "doq", "hq-interop"}}
)

// Set generates n client connections (seed picks their shapes) in one
// capture to 10.0.0.1:443: ClientHellos split into CRYPTO frames of random
// sizes over one or more Initial packets, sent in order, reversed or
// shuffled, some packets sent twice, some coalesced two to a datagram,
// connections interleaved; every vers-th connection uses QUIC version 2
// (vers 0: none).
func Set(n int, seed uint64, vers int) (*Pcap, []Conn, error) {
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	type dgram struct {
		conn   int
		frames [][][2]int // per packet, the byte ranges of the hello it carries
		data   []byte
	}
	conns := make([]Conn, n)
	var queues [][]dgram
	for i := range conns {
		c := &conns[i]
		c.Version = Version1
		if vers > 0 && i%vers == vers-1 {
			c.Version = Version2
		}
		c.SNI = names[i%len(names)]
		c.ALPN = alpns[(i/len(names))%len(alpns)]
		hello, err := ClientHello(c.SNI, c.ALPN, i%3 == 0)
		if err != nil {
			return nil, nil, fmt.Errorf("connection %d: %w", i, err)
		}
		c.Hello = hello
		c.DCID = randBytes(rng, 8+rng.IntN(13))
		c.SCID = randBytes(rng, rng.IntN(21))
		c.Src = [4]byte{10, 1, byte(i >> 8), byte(i)}
		c.Sport = uint16(40000 + i)
		// Cut the hello into frames of 40..1100 bytes.
		var frames []Frame
		for off := 0; off < len(hello); {
			l := min(len(hello)-off, 40+rng.IntN(1061))
			frames = append(frames, Frame{Offset: off, Data: hello[off : off+l]})
			off += l
		}
		// Pack frames into packets, at most ~1100 bytes of data each.
		var pkts [][]Frame
		for _, f := range frames {
			k := len(pkts) - 1
			if k < 0 || size(pkts[k])+len(f.Data) > 1100 || rng.IntN(3) == 0 {
				pkts = append(pkts, nil)
				k++
			}
			pkts[k] = append(pkts[k], f)
		}
		for _, p := range pkts {
			if len(p) > 1 && rng.IntN(2) == 0 {
				p[0], p[len(p)-1] = p[len(p)-1], p[0] // frames out of order within a packet
			}
		}
		switch rng.IntN(3) {
		case 1:
			for a, b := 0, len(pkts)-1; a < b; a, b = a+1, b-1 {
				pkts[a], pkts[b] = pkts[b], pkts[a]
			}
		case 2:
			rng.Shuffle(len(pkts), func(a, b int) { pkts[a], pkts[b] = pkts[b], pkts[a] })
		}
		if len(pkts) > 1 && rng.IntN(4) == 0 {
			pkts = append(pkts, pkts[0]) // a retransmission
		}
		var token []byte
		if rng.IntN(4) == 0 {
			token = randBytes(rng, 16+rng.IntN(40))
		}
		coalesce := rng.IntN(5) == 0
		var q []dgram
		for k := 0; k < len(pkts); k++ {
			p := Packet{Version: c.Version, DCID: c.DCID, SCID: c.SCID, Token: token, PN: uint64(k), PNLen: 1 + rng.IntN(4),
				Ping: rng.IntN(4) == 0, Ack: rng.IntN(6) == 0, Frames: pkts[k], MinSize: 1200}
			d := dgram{conn: i}
			d.frames = append(d.frames, ranges(pkts[k]))
			if coalesce && k+1 < len(pkts) {
				// Two packets in one datagram: the first unpadded.
				p.MinSize = 0
				b1, err := p.Build()
				if err != nil {
					return nil, nil, err
				}
				k++
				p2 := Packet{Version: c.Version, DCID: c.DCID, SCID: c.SCID, Token: token, PN: uint64(k), PNLen: 2, Frames: pkts[k], MinSize: 1200 - len(b1)}
				b2, err := p2.Build()
				if err != nil {
					return nil, nil, err
				}
				d.data = append(b1, b2...)
				d.frames = append(d.frames, ranges(pkts[k]))
			} else {
				b, err := p.Build()
				if err != nil {
					return nil, nil, err
				}
				d.data = b
			}
			q = append(q, d)
		}
		queues = append(queues, q)
	}
	// Interleave: take the next datagram of a random connection with some
	// left, among a window of four so connections overlap.
	w := NewPcap()
	covered := make([][]bool, n)
	for i := range covered {
		covered[i] = make([]bool, len(conns[i].Hello))
	}
	next := 0
	var active []int
	for len(active) > 0 || next < n {
		for len(active) < 4 && next < n {
			active = append(active, next)
			next++
		}
		j := rng.IntN(len(active))
		ci := active[j]
		d := queues[ci][0]
		queues[ci] = queues[ci][1:]
		if len(queues[ci]) == 0 {
			active = append(active[:j], active[j+1:]...)
		}
		c := &conns[ci]
		w.UDP(c.Src, [4]byte{10, 0, 0, 1}, c.Sport, 443, d.data)
		c.Datagrams++
		for _, p := range d.frames {
			if c.Frame != 0 {
				break
			}
			c.Packets++
			for _, r := range p {
				for x := r[0]; x < r[1]; x++ {
					covered[ci][x] = true
				}
			}
			if all(covered[ci]) {
				c.Frame = w.Frames()
			}
		}
	}
	return w, conns, nil
}

func ranges(fs []Frame) [][2]int {
	var r [][2]int
	for _, f := range fs {
		r = append(r, [2]int{f.Offset, f.Offset + len(f.Data)})
	}
	return r
}

func size(fs []Frame) int {
	n := 0
	for _, f := range fs {
		n += len(f.Data) + 8
	}
	return n
}

func all(b []bool) bool {
	for _, x := range b {
		if !x {
			return false
		}
	}
	return true
}

func randBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}
