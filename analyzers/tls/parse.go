package main

// This file holds the analyzer's parsing logic. It has no build constraint
// and imports nothing, so `go test` (and `go test -fuzz`) run it natively.

// TLS record and handshake constants (RFC 8446 §5.1, §4).
const (
	recordHeader    = 5
	contentHandshak = 22
	handshakeHeader = 4
	typeClientHello = 1
	// maxRecord is the largest record length accepted: 2^14 plus the 2048
	// bytes of expansion TLSCiphertext allows.
	maxRecord = 1<<14 + 2048

	extServerName        = 0
	extALPN              = 16
	extSupportedVersions = 43

	maxVersions = 16 // supported_versions entries kept

	// maxExtensions bounds the extensions read of one hello, maxNames the
	// server_name entries and maxProtocols the ALPN names: a crafted
	// 16 KiB hello of 4,000 empty extensions otherwise costs a Go guest
	// enough fuel that a call's worth of them exhausts the host's budget
	// and gets the instance discarded. Real hellos carry about 20
	// extensions. A hello cut by the bound is reported partial.
	maxExtensions = 128
	maxNames      = 16
	maxProtocols  = 128
)

// Hello is what the analyzer reports about one ClientHello. Its byte slices
// point into the payload or the parser's buffer and are valid until the
// next Parse.
type Hello struct {
	RecordVersion uint16 // version field of the record that carried it
	LegacyVersion uint16 // ClientHello.legacy_version (0 when cut before it)

	// Versions holds the supported_versions list (up to maxVersions of
	// them, GREASE included), in the order offered.
	Versions    [maxVersions]uint16
	NVersions   int
	HasVersions bool

	SNI    []byte // the first host_name of server_name, nil when absent or cut
	HasSNI bool

	ALPN    []byte // the raw protocol_name_list of ALPN (u8 length, name)...
	HasALPN bool

	// Partial reports that the ClientHello continues past the bytes seen
	// (the record was split over TCP segments or the capture was cut):
	// fields after the cut are missing, not absent.
	Partial bool
	// Malformed reports a length inside the ClientHello that exceeds its
	// enclosing structure; the fields decoded before it are kept.
	Malformed bool
	// TooManyExtensions reports that reading stopped at the
	// maxExtensions-th extension (Partial is set too).
	TooManyExtensions bool
}

// MaxVersion returns the highest version offered: the largest
// non-GREASE entry of supported_versions when present, else the legacy
// version.
func (h *Hello) MaxVersion() uint16 {
	best := uint16(0)
	if h.HasVersions {
		for _, v := range h.Versions[:h.NVersions] {
			if !grease(v) && v > best {
				best = v
			}
		}
	}
	if best == 0 {
		best = h.LegacyVersion
	}
	return best
}

// OfferedVersion returns MaxVersion and whether it is known: a partial
// ClientHello without supported_versions in the bytes seen may carry the
// extension past the cut, so its legacy version says nothing about the
// highest version offered.
func (h *Hello) OfferedVersion() (uint16, bool) {
	if h.LegacyVersion == 0 || h.Partial && !h.HasVersions {
		return 0, false
	}
	return h.MaxVersion(), true
}

// grease reports a GREASE value (RFC 8701): 0x?a?a with equal bytes.
func grease(v uint16) bool { return v&0x0f0f == 0x0a0a && v>>8 == v&0xff }

// Result is the outcome of parsing one TCP payload.
type Result struct {
	TLS       bool // the payload starts with a plausible TLS record header
	Records   int  // records whose header was read
	Hellos    int  // ClientHellos stored in the caller's slice
	Malformed bool // a record or handshake length is inconsistent
}

// Parser parses TCP payloads. Its buffer joins handshake messages that
// span several records of one payload (record-layer fragmentation); it is
// allocated once, so parsing allocates nothing.
type Parser struct {
	buf []byte
}

// NewParser returns a parser whose handshake buffer holds up to size bytes.
func NewParser(size int) *Parser { return &Parser{buf: make([]byte, 0, size)} }

// validHeader reports whether b (at least recordHeader bytes) looks like a
// TLS record header: a known content type (change_cipher_spec, alert,
// handshake, application_data, heartbeat), version 3.0 to 3.4, and a
// length a record can have.
func validHeader(b []byte) bool {
	if b[0] < 20 || b[0] > 24 || b[1] != 3 || b[2] > 4 {
		return false
	}
	l := int(b[3])<<8 | int(b[4])
	return l <= maxRecord
}

// Parse reads the TLS records at the start of a TCP payload and stores up
// to len(out) ClientHellos in out. Handshake records that follow one
// another are joined, so a ClientHello fragmented over several records of
// the payload is read whole. A payload that ends inside a record yields
// what precedes the cut, with Partial set.
func (p *Parser) Parse(payload []byte, out []Hello) Result {
	var r Result
	if len(payload) < recordHeader || !validHeader(payload) {
		return r
	}
	r.TLS = true
	hs := p.buf[:0]
	var hsVersion uint16
	cut := false
	off := 0
	for off+recordHeader <= len(payload) {
		h := payload[off:]
		if !validHeader(h) {
			if off > 0 {
				break // something else follows the records
			}
			r.Malformed = true
			return r
		}
		r.Records++
		typ, ver := h[0], uint16(h[1])<<8|uint16(h[2])
		l := int(h[3])<<8 | int(h[4])
		body := h[recordHeader:]
		if l < len(body) {
			body = body[:l]
		} else if l > len(body) {
			cut = true
		}
		if typ != contentHandshak {
			p.hellos(hs, hsVersion, false, out, &r)
			hs = hs[:0]
		} else {
			if len(hs) == 0 {
				hsVersion = ver
			}
			room := cap(hs) - len(hs)
			if len(body) > room {
				body, cut = body[:room], true
			}
			hs = append(hs, body...)
		}
		if cut {
			break
		}
		off += recordHeader + l
	}
	if off < len(payload) && off+recordHeader > len(payload) && !cut {
		cut = true // a record header cut by the end of the payload
	}
	p.hellos(hs, hsVersion, cut, out, &r)
	return r
}

// hellos decodes the handshake messages in hs and stores the ClientHellos.
// cut says the handshake stream was cut at its end.
func (p *Parser) hellos(hs []byte, recVersion uint16, cut bool, out []Hello, r *Result) {
	for len(hs) >= handshakeHeader {
		typ := hs[0]
		l := int(hs[1])<<16 | int(hs[2])<<8 | int(hs[3])
		body := hs[handshakeHeader:]
		partial := false
		if l <= len(body) {
			body = body[:l]
		} else {
			partial = true
		}
		// A ClientHello body starts with legacy_version 3.x: without it,
		// a record that continues a fragmented handshake message and
		// happens to start with byte 1 would read as a new ClientHello.
		if typ == typeClientHello && (len(body) < 2 || body[0] == 3 && body[1] <= 4) {
			if r.Hellos < len(out) {
				h := &out[r.Hellos]
				*h = Hello{RecordVersion: recVersion}
				parseClientHello(body, l, h)
				if partial {
					if !cut {
						// The stream ended (a non-handshake record
						// followed) before the message did.
						h.Malformed, r.Malformed = true, true
					}
					h.Partial = true
				}
				r.Hellos++
			}
		}
		if partial {
			return
		}
		hs = hs[handshakeHeader+l:]
	}
}

// cursor reads a ClientHello body: b holds the bytes present. Reading past
// the enclosing structure's end is malformed; within it but past the bytes
// present, a cut (partial).
type cursor struct {
	b         []byte
	pos       int
	partial   bool
	malformed bool
	many      bool // stopped at the maxExtensions-th extension
}

// take returns the next n bytes, or nil when they are not all there.
func (c *cursor) take(n int, end int) []byte {
	if c.pos+n > end {
		c.malformed = true // longer than its enclosing structure
		return nil
	}
	if c.pos+n > len(c.b) {
		c.partial = true
		return nil
	}
	v := c.b[c.pos : c.pos+n]
	c.pos += n
	return v
}

func be16(b []byte) uint16 { return uint16(b[0])<<8 | uint16(b[1]) }

// parseClientHello fills h from a ClientHello body (RFC 8446 §4.1.2):
// legacy_version, random, legacy_session_id, cipher_suites,
// legacy_compression_methods, extensions.
func parseClientHello(body []byte, declared int, h *Hello) {
	c := cursor{b: body}
	defer func() {
		h.Partial = h.Partial || c.partial
		h.Malformed = h.Malformed || c.malformed
		h.TooManyExtensions = c.many
	}()
	v := c.take(2, declared)
	if v == nil {
		return
	}
	h.LegacyVersion = be16(v)
	if c.take(32, declared) == nil {
		return
	}
	for _, size := range []int{1, 2, 1} { // session id, cipher suites, compression methods
		lb := c.take(size, declared)
		if lb == nil {
			return
		}
		n := int(lb[0])
		if size == 2 {
			n = int(be16(lb))
		}
		if c.take(n, declared) == nil {
			return
		}
	}
	if c.pos == declared {
		return // no extensions
	}
	lb := c.take(2, declared)
	if lb == nil {
		return
	}
	end := c.pos + int(be16(lb))
	if end > declared {
		c.malformed = true
		end = declared
	}
	c.pos = extensions(&c, end, h, clientExtension)
}

// extensions reads the extensions of a hello from c.pos to end, handing
// those the analyzer reads to fn, and returns where it stopped. The loop
// is a function of its own, with fn out of line, because Go's wasm code
// charges a whole function's body at each jump of its loop: inside
// parseClientHello an empty extension cost about 6,000 fuel units.
func extensions[H any](c *cursor, end int, h H, fn func(typ uint16, data []byte, h H)) int {
	pos, b := c.pos, c.b
	for k := 0; pos+4 <= end; k++ {
		if k == maxExtensions {
			c.partial, c.many = true, true
			return pos
		}
		if pos+4 > len(b) {
			c.partial = true
			return pos
		}
		typ, n := be16(b[pos:]), int(be16(b[pos+2:]))
		if pos+4+n > end {
			c.malformed = true
			return pos
		}
		if pos+4+n > len(b) {
			c.partial = true // a cut extension is not reported, even in part
			return pos
		}
		if typ == extServerName || typ == extALPN || typ == extSupportedVersions {
			fn(typ, b[pos+4:pos+4+n], h)
		}
		pos += 4 + n
	}
	if pos < end {
		c.malformed = true // 1 to 3 bytes, too short for an extension header
	}
	return pos
}

// clientExtension reads one ClientHello extension the analyzer reports.
//
//go:noinline
func clientExtension(typ uint16, data []byte, h *Hello) {
	switch typ {
	case extServerName:
		if !h.HasSNI {
			h.SNI, h.HasSNI = serverName(data)
		}
	case extALPN:
		if len(data) >= 2 && int(be16(data)) <= len(data)-2 {
			h.ALPN, h.HasALPN = data[2:2+int(be16(data))], true
		}
	case extSupportedVersions:
		if len(data) >= 1 && int(data[0]) <= len(data)-1 {
			h.HasVersions = true
			list := data[1 : 1+int(data[0])]
			for i := 0; i+2 <= len(list) && h.NVersions < maxVersions; i += 2 {
				h.Versions[h.NVersions] = be16(list[i:])
				h.NVersions++
			}
		}
	}
}

// serverName returns the first host_name entry of a server_name extension.
func serverName(data []byte) ([]byte, bool) {
	if len(data) < 2 {
		return nil, false
	}
	list := data[2:]
	if n := int(be16(data)); n < len(list) {
		list = list[:n]
	}
	for k := 0; len(list) >= 3 && k < maxNames; k++ {
		typ, n := list[0], int(be16(list[1:]))
		if 3+n > len(list) {
			return nil, false
		}
		if typ == 0 {
			return list[3 : 3+n], true
		}
		list = list[3+n:]
	}
	return nil, false
}

// VersionName returns the name of a protocol version ("TLS1.2"), or its
// hexadecimal form ("0x7f1c") for others.
func VersionName(v uint16) string { return string(AppendVersion(nil, v)) }

// AppendVersion appends VersionName(v) to b without allocating.
func AppendVersion(b []byte, v uint16) []byte {
	switch v {
	case 0x0300:
		return append(b, "SSL3.0"...)
	case 0x0301, 0x0302, 0x0303, 0x0304:
		return append(b, 'T', 'L', 'S', '1', '.', byte('0'+v&0xff-1))
	}
	const hex = "0123456789abcdef"
	return append(b, '0', 'x', hex[v>>12], hex[v>>8&0xf], hex[v>>4&0xf], hex[v&0xf])
}

// AppendALPN appends the protocol names of a raw ALPN list, comma
// separated; a name whose length runs past the list ends it, and so does
// the maxProtocols-th.
func AppendALPN(b, list []byte) []byte {
	first := true
	for k := 0; len(list) >= 1 && k < maxProtocols; k++ {
		n := int(list[0])
		if 1+n > len(list) {
			break
		}
		if !first {
			b = append(b, ',')
		}
		b = append(b, list[1:1+n]...)
		first = false
		list = list[1+n:]
	}
	return b
}
