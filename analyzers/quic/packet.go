package main

// Stats counts what the tracker saw and everything it could not use.
type Stats struct {
	Initials           uint64 // client Initial packets decrypted
	ServerInitials     uint64 // server Initial packets (not decrypted: they hold no ClientHello)
	Undecryptable      uint64 // Initial packets whose tag did not match the derived keys
	Hellos             uint64 // ClientHellos reported
	RepeatedHellos     uint64 // ClientHellos sent again after a Retry, not reported twice
	Retries            uint64 // Retry packets
	VersionNegotiation uint64 // Version Negotiation packets
	OtherVersions      uint64 // long header packets of other versions (not decoded)
	Truncated          uint64 // Initial packets the capture cut
	Malformed          uint64 // long header packets or frames that do not parse
	HelloTooLarge      uint64 // streams given up: the ClientHello is larger than maxHello
	TooManyGaps        uint64 // streams given up: more than maxSpans disjoint ranges
	NotClientHello     uint64 // streams given up: the stream starts with another message
	Evicted            uint64 // incomplete streams dropped to make room for a new connection
	SkippedInitials    uint64 // Initial packets past the maxInitials-th of a datagram, not decoded
}

// Report is one ClientHello found, with the connection it came on.
type Report struct {
	Version uint32
	DCID    cid
	SCID    cid
	Packets uint16 // Initial packets that carried its CRYPTO frames
	Hello   hello
}

// maxInitials bounds the Initial packets decoded per datagram (a client
// coalesces at most one Initial with its other packets; each costs a
// decryption, and possibly a key derivation), and maxReports the
// ClientHellos reported per datagram.
const (
	maxInitials = 4
	maxReports  = maxInitials
)

// Tracker decrypts the client Initial packets of UDP datagrams and
// reassembles their ClientHellos. Its memory is fixed when it is made.
type Tracker struct {
	Stats Stats
	conns [maxConns]conn
	// Hashes of each connection's ids (cidHash; 0 for none).
	byDCID, byServer, bySCID [maxConns]uint64
	clock                    uint64
	kdf                      *kdf
	scratch                  keys
	plain                    [maxDatagram]byte
	aad                      [maxDatagram]byte // the header; a token can make it long
	reports                  [maxReports]Report
}

// maxDatagram is the largest datagram decoded; a larger one is counted as
// truncated.
const maxDatagram = 2048

// NewTracker returns an empty tracker.
func NewTracker() *Tracker {
	t := &Tracker{kdf: newKDF()}
	for i := range t.conns {
		t.conns[i].index = i
	}
	return t
}

// varint reads a QUIC variable-length integer (RFC 9000 §16). It has no
// loop: it is inlined into loops whose every iteration is charged fuel for
// the whole function in a Go-compiled Wasm guest.
//
//go:noinline
func varint(b []byte) (v uint64, n int) {
	if len(b) == 0 {
		return 0, 0
	}
	switch b[0] >> 6 {
	case 0:
		return uint64(b[0]), 1
	case 1:
		if len(b) < 2 {
			return 0, 0
		}
		return uint64(b[0]&0x3f)<<8 | uint64(b[1]), 2
	case 2:
		if len(b) < 4 {
			return 0, 0
		}
		return uint64(be32(b) & 0x3fffffff), 4
	}
	if len(b) < 8 {
		return 0, 0
	}
	return be64(b) & 0x3fffffffffffffff, 8
}

// Datagram reads one UDP payload; flow identifies its 5-tuple in either
// direction and cut says the capture holds less of it than was sent. It
// returns the ClientHellos completed by this datagram, valid until the
// next call.
func (t *Tracker) Datagram(flow uint32, d []byte, cut bool) []Report {
	nrep, initials := 0, 0
	for len(d) > 0 {
		if d[0]&0x80 == 0 {
			break // a short header packet: the rest of the datagram is 1-RTT
		}
		if len(d) < 7 {
			t.Stats.Malformed++
			break
		}
		v := be32(d[1:])
		switch {
		case v == 0:
			t.Stats.VersionNegotiation++
			return t.reports[:nrep]
		case v != version1 && v != version2:
			t.Stats.OtherVersions++
			return t.reports[:nrep]
		}
		if d[0]&0x40 == 0 { // the fixed bit
			t.Stats.Malformed++
			break
		}
		typ := d[0] >> 4 & 3
		if v == version2 {
			typ = (typ + 3) & 3 // v2 numbers the types Retry, Initial, 0-RTT, Handshake
		}
		off := 5
		dcid, n := cidAt(d, off)
		if n < 0 {
			t.Stats.Malformed++
			break
		}
		off += n
		scid, n := cidAt(d, off)
		if n < 0 {
			t.Stats.Malformed++
			break
		}
		off += n
		if typ == 3 { // Retry: no length, ends the datagram
			t.Stats.Retries++
			break
		}
		if typ == 0 { // Initial: a token
			tl, n := varint(d[off:])
			if n == 0 || tl > uint64(len(d)-off-n) {
				t.countCut(cut)
				break
			}
			off += n + int(tl)
		}
		length, n := varint(d[off:])
		if n == 0 {
			t.countCut(cut)
			break
		}
		off += n
		if length > uint64(len(d)-off) {
			t.countCut(cut)
			break
		}
		end := off + int(length)
		if typ == 0 && initials == maxInitials {
			t.Stats.SkippedInitials++
		} else if typ == 0 && nrep < maxReports {
			initials++
			if r := t.initial(flow, v, d[:end], off, dcid, scid); r != nil {
				t.reports[nrep] = *r
				nrep++
			}
		}
		d = d[end:]
	}
	return t.reports[:nrep]
}

func (t *Tracker) countCut(cut bool) {
	if cut {
		t.Stats.Truncated++
	} else {
		t.Stats.Malformed++
	}
}

// cidAt reads a connection id with its length byte at d[off]; n is the
// bytes used, -1 when it does not fit or is longer than maxCID.
//
//go:noinline
func cidAt(d []byte, off int) ([]byte, int) {
	if off >= len(d) {
		return nil, -1
	}
	l := int(d[off])
	if l > maxCID || off+1+l > len(d) {
		return nil, -1
	}
	return d[off+1 : off+1+l], 1 + l
}

// lookup finds the connection a client Initial sent to dcid belongs to,
// and whether dcid is instead a client's own id (a server's Initial).
// The ids are indexed by hash; a hit is confirmed byte by byte.
func (t *Tracker) lookup(flow, v uint32, dcid []byte) (c *conn, fromServer bool) {
	h := cidHash(v, dcid)
	for i := find(&t.byDCID, h, 0); i >= 0; i = find(&t.byDCID, h, i+1) {
		if x := &t.conns[i]; x.dcid.is(dcid) {
			return x, false
		}
	}
	for i := find(&t.byServer, h, 0); i >= 0; i = find(&t.byServer, h, i+1) {
		if x := &t.conns[i]; x.server.is(dcid) {
			return x, false
		}
	}
	for i := find(&t.bySCID, h, 0); i >= 0; i = find(&t.bySCID, h, i+1) {
		// An empty id is shared by many clients: the flow tells them apart.
		if x := &t.conns[i]; x.scid.is(dcid) && (len(dcid) > 0 || x.flow == flow) {
			return x, true
		}
	}
	return nil, false
}

// cidHash is FNV-1a over the version and the id, never 0 (0 marks an
// empty index slot).
//
//go:noinline
func cidHash(v uint32, id []byte) uint64 {
	h := uint64(14695981039346656037)
	h = (h ^ uint64(v)) * 1099511628211
	for _, b := range id {
		h = (h ^ uint64(b)) * 1099511628211
	}
	return h | 1
}

// find returns the first index from i on whose hash is h, or -1.
//
//go:noinline
func find(tab *[maxConns]uint64, h uint64, i int) int {
	for ; i < len(tab); i++ {
		if tab[i] == h {
			return i
		}
	}
	return -1
}

// slot returns the connection to reuse for a new one: a free one, else
// the least recently used, whose incomplete stream is counted as evicted.
func (t *Tracker) slot() *conn {
	var old *conn
	for i := range t.conns {
		x := &t.conns[i]
		if !x.used {
			return x
		}
		if old == nil || x.stamp < old.stamp {
			old = x
		}
	}
	if old.state == collecting && old.nspans > 0 {
		t.Stats.Evicted++
	}
	return old
}

// initial handles one Initial packet p, its packet number at pnOff.
func (t *Tracker) initial(flow, v uint32, p []byte, pnOff int, dcid, scid []byte) *Report {
	c, fromServer := t.lookup(flow, v, dcid)
	// A client's first Initial carries a destination id of at least 8
	// bytes (RFC 9000 §7.2); an unknown shorter one is a server's Initial
	// to a client's short (often empty) id.
	if c == nil && len(dcid) < 8 {
		t.Stats.ServerInitials++
		return nil
	}
	if fromServer {
		t.Stats.ServerInitials++
		if c.server.n == 0 && len(scid) > 0 {
			c.server.set(scid)
			t.byServer[c.index] = cidHash(v, scid)
		}
		return nil
	}
	if pnOff+4+16 > len(p) {
		t.Stats.Malformed++ // too short to hold a header protection sample
		return nil
	}
	if len(p) > maxDatagram {
		t.Stats.Truncated++
		return nil
	}
	ks := &t.scratch
	largest := int64(-1)
	if c != nil {
		ks, largest = &c.keys, c.largest
	} else {
		t.kdf.derive(ks, v, dcid)
	}
	var mask [16]byte
	ks.hp.encrypt(mask[:], p[pnOff+4:pnOff+20])
	first := p[0] ^ mask[0]&0x0f
	pnLen := int(first&3) + 1
	if pnOff+pnLen > len(t.aad) {
		t.Stats.Malformed++
		return nil
	}
	aad := t.aad[:pnOff+pnLen]
	copy(aad, p[:pnOff+pnLen])
	aad[0] = first
	var trunc uint64
	for i := range pnLen {
		aad[pnOff+i] ^= mask[1+i]
		trunc = trunc<<8 | uint64(aad[pnOff+i])
	}
	pn := decodePN(largest, trunc, pnLen*8)
	nonce := ks.iv
	for i := range 8 {
		nonce[11-i] ^= byte(pn >> (8 * i))
	}
	sealed := p[pnOff+pnLen:]
	if len(sealed) < tagSize || !ks.aead.open(t.plain[:], &nonce, aad, sealed) {
		t.Stats.Undecryptable++
		return nil
	}
	plain := t.plain[:len(sealed)-tagSize]
	t.Stats.Initials++
	if c == nil {
		c = t.slot()
		// Field by field: a composite literal of conn would build its
		// 16 KiB buffer on the stack first.
		c.used, c.state, c.version, c.flow, c.largest, c.packets, c.nspans = true, collecting, v, flow, -1, 0, 0
		c.keys = *ks
		c.server = cid{}
		c.dcid.set(dcid)
		c.scid.set(scid)
		t.byDCID[c.index] = cidHash(v, dcid)
		t.byServer[c.index] = 0
		t.bySCID[c.index] = cidHash(v, scid)
	}
	t.clock++
	c.stamp = t.clock
	c.largest = max(c.largest, int64(pn))
	return t.frames(c, plain)
}

// decodePN expands a truncated packet number of bits bits next to the
// largest one decrypted so far (RFC 9000 §17.1, Appendix A.3).
func decodePN(largest int64, trunc uint64, bits int) uint64 {
	expected := uint64(largest + 1)
	win := uint64(1) << bits
	hwin, mask := win/2, win-1
	cand := expected&^mask | trunc
	switch {
	case cand+hwin <= expected && cand < 1<<62-win:
		return cand + win
	case cand > expected+hwin && cand >= win:
		return cand - win
	}
	return cand
}

// frames reads the frames of a decrypted Initial packet (RFC 9000 §12.4:
// PADDING, PING, ACK, CRYPTO and CONNECTION_CLOSE may appear in one) and
// returns a report when a CRYPTO frame completes the ClientHello.
func (t *Tracker) frames(c *conn, p []byte) *Report {
	carried, done := false, false
	for len(p) > 0 {
		typ, n := varint(p)
		if n == 0 {
			t.Stats.Malformed++
			break
		}
		p = p[n:]
		ok := true
		switch typ {
		case 0x00, 0x01: // PADDING (usually a long run) and PING
			p = p[padOrPing(p):]
		case 0x02, 0x03: // ACK
			p, ok = skipACK(p, typ == 0x03)
		case 0x06: // CRYPTO
			off, n1 := varint(p)
			l, n2 := varint(p[min(n1, len(p)):])
			if n1 == 0 || n2 == 0 || l > uint64(len(p)-n1-n2) {
				ok = false
				break
			}
			data := p[n1+n2 : n1+n2+int(l)]
			p = p[n1+n2+int(l):]
			carried = true
			if !done && c.add(off, data, &t.Stats) {
				done = true // later frames of this packet are retransmissions
			}
		case 0x1c: // CONNECTION_CLOSE
			var rl uint64
			p, ok = skipVarints(p, 2) // error code, frame type
			if ok {
				var n int
				rl, n = varint(p)
				ok = n > 0 && rl <= uint64(len(p)-n)
				if ok {
					p = p[n+int(rl):]
				}
			}
		default:
			ok = false
		}
		if !ok {
			t.Stats.Malformed++
			break
		}
	}
	if carried {
		c.packets++
	}
	if !done {
		return nil
	}
	return t.complete(c)
}

// skipVarints skips n variable-length integers.
//
//go:noinline
func skipVarints(p []byte, n int) ([]byte, bool) {
	for range n {
		_, k := varint(p)
		if k == 0 {
			return p, false
		}
		p = p[k:]
	}
	return p, true
}

// skipACK skips an ACK frame's fields after its type (RFC 9000 §19.3).
func skipACK(p []byte, ecn bool) ([]byte, bool) {
	p, ok := skipVarints(p, 2) // largest acknowledged, delay
	if !ok {
		return p, false
	}
	ranges, k := varint(p)
	if k == 0 {
		return p, false
	}
	p = p[k:]
	if p, ok = skipVarints(p, 1); !ok { // first range
		return p, false
	}
	// Each range is two varints of at least a byte each.
	if ranges > uint64(len(p)/2) {
		return p, false
	}
	if p, ok = skipVarints(p, 2*int(ranges)); !ok {
		return p, false
	}
	if ecn {
		return skipVarints(p, 3)
	}
	return p, true
}

// complete parses the connection's finished ClientHello and returns its
// report, or nil when the same client already had one reported: after a
// Retry a client sends its ClientHello again, to a new connection id but
// from the same source id and address.
func (t *Tracker) complete(c *conn) *Report {
	c.state = reported
	for i := range t.conns {
		x := &t.conns[i]
		if x != c && x.used && x.state == reported && x.flow == c.flow && x.version == c.version && x.scid == c.scid {
			t.Stats.RepeatedHellos++
			return nil
		}
	}
	t.Stats.Hellos++
	r := &t.reports[maxReports-1] // scratch; Datagram copies it into place
	*r = Report{Version: c.version, DCID: c.dcid, SCID: c.scid, Packets: c.packets}
	parseHello(c.hello(), &r.Hello)
	return r
}

// padOrPing returns the number of PADDING and PING frames (one byte
// each) p starts with: a run of them costs one small loop, not a pass of
// the frame loop per byte.
//
//go:noinline
func padOrPing(p []byte) int {
	for i, b := range p {
		if b > 1 {
			return i
		}
	}
	return len(p)
}
