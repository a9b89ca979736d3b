package main

// helloRetry is the random of a HelloRetryRequest (RFC 8446 §4.1.3): the
// SHA-256 of "HelloRetryRequest".
const helloRetry = "\xcf\x21\xad\x74\xe5\x9a\x61\x11\xbe\x1d\x8c\x02\x1e\x65\xb8\x91" +
	"\xc2\xa2\x11\x16\x7a\xbb\x8c\x5e\x07\x9e\x09\xe2\xc8\xa8\x33\x9c"

// parseServerHello fills s from a ServerHello body (RFC 8446 §4.1.3):
// legacy_version, random, legacy_session_id_echo, cipher_suite,
// legacy_compression_method, extensions. declared is the body's length as
// its header states it; body holds the bytes present (fewer when cut).
func parseServerHello(body []byte, declared int, s *ServerHello) {
	c := cursor{b: body}
	defer func() {
		s.Partial = s.Partial || c.partial
		s.Malformed = s.Malformed || c.malformed
	}()
	v := c.take(2, declared)
	if v == nil {
		return
	}
	s.LegacyVersion = be16(v)
	r := c.take(32, declared)
	if r == nil {
		return
	}
	s.Retry = string(r) == helloRetry
	lb := c.take(1, declared)
	if lb == nil || c.take(int(lb[0]), declared) == nil {
		return
	}
	cs := c.take(2, declared)
	if cs == nil {
		return
	}
	s.Cipher, s.HasCipher = be16(cs), true
	if c.take(1, declared) == nil {
		return
	}
	if c.pos == declared {
		return // no extensions (TLS 1.2 and older may omit them)
	}
	lb = c.take(2, declared)
	if lb == nil {
		return
	}
	end := c.pos + int(be16(lb))
	if end > declared {
		c.malformed = true
		end = declared
	}
	c.pos = extensions(&c, end, s, serverExtension)
}

// serverExtension reads one ServerHello extension the analyzer reports.
//
//go:noinline
func serverExtension(typ uint16, data []byte, s *ServerHello) {
	switch typ {
	case extSupportedVersions:
		if len(data) == 2 {
			s.Selected = be16(data)
		} else {
			s.Malformed = true
		}
	case extALPN:
		// protocol_name_list holding exactly one name (RFC 7301 §3.1).
		if len(data) >= 3 && int(be16(data)) == len(data)-2 && int(data[2]) == len(data)-3 {
			s.ALPN, s.HasALPN = data[3:], true
		} else {
			s.Malformed = true
		}
	}
}
