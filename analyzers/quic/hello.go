package main

// hello is what the analyzer reads from a TLS ClientHello (RFC 8446
// §4.1.2). Its slices point into the reassembled CRYPTO stream.
type hello struct {
	legacyVersion uint16
	sni           []byte // the first host_name of server_name, or nil
	hasSNI        bool
	alpn          []byte // ALPN's protocol_name_list, still encoded
	hasALPN       bool
	versions      []byte // supported_versions' list, still encoded
	hasVersions   bool
	malformed     bool // a length inside the message is inconsistent
}

// reader is a bounds-checked big-endian cursor; a read past the end sets
// bad and returns zero values, so a parse checks once at the end.
type reader struct {
	b   []byte
	bad bool
}

//go:noinline
func (r *reader) bytes(n int) []byte {
	if n < 0 || n > len(r.b) {
		r.bad = true
		r.b = nil
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

//go:noinline
func (r *reader) u8() int {
	b := r.bytes(1)
	if b == nil {
		return 0
	}
	return int(b[0])
}

//go:noinline
func (r *reader) u16() int {
	b := r.bytes(2)
	if b == nil {
		return 0
	}
	return int(b[0])<<8 | int(b[1])
}

// vec reads a vector with a length prefix of 1 or 2 bytes.
//
//go:noinline
func (r *reader) vec(prefix int) []byte {
	n := r.u8()
	if prefix == 2 {
		n = n<<8 | r.u8()
	}
	return r.bytes(n)
}

// parseHello parses the body of a ClientHello message (after the 4-byte
// handshake header).
func parseHello(body []byte, h *hello) {
	*h = hello{}
	r := reader{b: body}
	h.legacyVersion = uint16(r.u16())
	r.bytes(32) // random
	r.vec(1)    // legacy_session_id
	r.vec(2)    // cipher_suites
	r.vec(1)    // legacy_compression_methods
	if r.bad {
		h.malformed = true
		return
	}
	if len(r.b) == 0 {
		return // no extensions
	}
	exts := reader{b: r.vec(2)}
	if r.bad || len(r.b) != 0 {
		h.malformed = true
	}
	for len(exts.b) > 0 && !exts.bad {
		typ := exts.u16()
		data := exts.vec(2)
		if exts.bad {
			break
		}
		e := reader{b: data}
		switch typ {
		case 0: // server_name
			list := reader{b: e.vec(2)}
			for len(list.b) > 0 && !list.bad {
				kind := list.u8()
				name := list.vec(2)
				if kind == 0 && !list.bad && !h.hasSNI {
					h.sni, h.hasSNI = name, true
				}
			}
			if e.bad || list.bad {
				h.malformed = true
			}
		case 16: // application_layer_protocol_negotiation
			list := e.vec(2)
			l := reader{b: list}
			for len(l.b) > 0 && !l.bad {
				l.vec(1)
			}
			if e.bad || l.bad {
				h.malformed = true
			} else {
				h.alpn, h.hasALPN = list, true
			}
		case 43: // supported_versions
			list := e.vec(1)
			if e.bad || len(list)%2 != 0 {
				h.malformed = true
			} else {
				h.versions, h.hasVersions = list, true
			}
		}
	}
	if exts.bad {
		h.malformed = true
	}
}

// isGREASE reports whether v is a reserved GREASE value (RFC 8701).
func isGREASE(v uint16) bool { return v&0x0f0f == 0x0a0a && v>>8 == v&0xff }

// maxVersion is the highest TLS version offered: supported_versions
// without GREASE values, else legacy_version.
func (h *hello) maxVersion() uint16 {
	best := uint16(0)
	for i := 0; i+1 < len(h.versions); i += 2 {
		v := uint16(h.versions[i])<<8 | uint16(h.versions[i+1])
		if !isGREASE(v) && v > best {
			best = v
		}
	}
	if best == 0 {
		return h.legacyVersion
	}
	return best
}

// appendALPN renders the protocol names as "h3,h3-29".
func appendALPN(dst, list []byte) []byte {
	r := reader{b: list}
	for i := 0; len(r.b) > 0; i++ {
		name := r.vec(1)
		if r.bad {
			break
		}
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, name...)
	}
	return dst
}

// appendVersion renders a TLS version as "TLS1.3", or "0x7f1c" for one
// without a name.
func appendVersion(dst []byte, v uint16) []byte {
	switch v {
	case 0x0300:
		return append(dst, "SSL3.0"...)
	case 0x0301, 0x0302, 0x0303, 0x0304:
		return append(dst, 'T', 'L', 'S', '1', '.', byte('0'+v&0xff-1))
	}
	return append(dst, '0', 'x', hexDigits[v>>12], hexDigits[v>>8&15], hexDigits[v>>4&15], hexDigits[v&15])
}

const hexDigits = "0123456789abcdef"

func appendHex(dst, b []byte) []byte {
	for _, c := range b {
		dst = append(dst, hexDigits[c>>4], hexDigits[c&15])
	}
	return dst
}

// appendVersions renders supported_versions as "TLS1.3,TLS1.2", GREASE
// values included (as hex), in the order offered.
func appendVersions(dst, list []byte) []byte {
	for i := 0; i+1 < len(list); i += 2 {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendVersion(dst, uint16(list[i])<<8|uint16(list[i+1]))
	}
	return dst
}
