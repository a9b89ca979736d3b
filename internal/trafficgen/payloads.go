package trafficgen

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strings"
)

// hostNames are the names HTTP, TLS, DNS and SIP traffic refers to.
var hostNames = []string{
	"example.com", "www.example.org", "api.example.net", "cdn.example.com",
	"wring.test", "mail.example.org", "login.example.com", "static.example.net",
}

var httpPaths = []string{"/", "/index.html", "/api/v1/items?id=42", "/static/app.js",
	"/images/logo.png", "/login", "/search?q=packet+capture", "/favicon.ico"}

var userAgents = []string{"curl/8.5.0", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
	"Wget/1.21.4", "wring-trafficgen/1"}

func pick[T any](rng *rand.Rand, s []T) T { return s[rng.IntN(len(s))] }

// httpRequest returns a complete HTTP/1.1 request.
func httpRequest(rng *rand.Rand, host string) []byte {
	var b strings.Builder
	method := "GET"
	body := ""
	if rng.IntN(5) == 0 {
		method = "POST"
		body = fmt.Sprintf(`{"id":%d,"name":"item-%d"}`, rng.IntN(1000), rng.IntN(1000))
	}
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\nAccept: */*\r\n", method, pick(rng, httpPaths), host, pick(rng, userAgents))
	if body != "" {
		fmt.Fprintf(&b, "Content-Type: application/json\r\nContent-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n")
	b.WriteString(body)
	return []byte(b.String())
}

var httpStatuses = []string{"200 OK", "200 OK", "200 OK", "304 Not Modified", "404 Not Found", "301 Moved Permanently", "500 Internal Server Error"}

// httpResponse returns a complete HTTP/1.1 response with a small body.
func httpResponse(rng *rand.Rand) []byte {
	status := pick(rng, httpStatuses)
	body := ""
	if !strings.HasPrefix(status, "304") {
		n := 20 + rng.IntN(900)
		body = "<html><body>" + strings.Repeat("x", n) + "</body></html>\n"
	}
	return []byte(fmt.Sprintf("HTTP/1.1 %s\r\nServer: nginx\r\nContent-Type: text/html\r\nContent-Length: %d\r\nConnection: keep-alive\r\n\r\n%s", status, len(body), body))
}

// tlsClientHello returns a TLS record holding a ClientHello with the
// server_name extension (and supported_versions, so it reads as TLS 1.3).
func tlsClientHello(rng *rand.Rand, sni string) []byte {
	u16 := func(b []byte, v int) []byte { return binary.BigEndian.AppendUint16(b, uint16(v)) }
	var ext []byte
	// server_name (0): list length, name type 0 (host_name), name length, name.
	name := []byte(sni)
	ext = u16(ext, 0)
	ext = u16(ext, len(name)+5)
	ext = u16(ext, len(name)+3)
	ext = append(ext, 0)
	ext = u16(ext, len(name))
	ext = append(ext, name...)
	// supported_groups (10): x25519, secp256r1.
	ext = append(ext, 0, 10, 0, 6, 0, 4, 0, 0x1d, 0, 0x17)
	// signature_algorithms (13): ecdsa_secp256r1_sha256, rsa_pss_rsae_sha256.
	ext = append(ext, 0, 13, 0, 6, 0, 4, 0x04, 0x03, 0x08, 0x04)
	// supported_versions (43): TLS 1.3, TLS 1.2.
	ext = append(ext, 0, 43, 0, 5, 4, 0x03, 0x04, 0x03, 0x03)
	// application_layer_protocol_negotiation (16): h2, http/1.1.
	ext = append(ext, 0, 16, 0, 14, 0, 12, 2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1')

	var body []byte
	body = append(body, 0x03, 0x03) // legacy_version TLS 1.2
	for range 32 {
		body = append(body, byte(rng.Uint32()))
	}
	body = append(body, 32) // legacy_session_id
	for range 32 {
		body = append(body, byte(rng.Uint32()))
	}
	suites := []uint16{0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030}
	body = u16(body, 2*len(suites))
	for _, s := range suites {
		body = u16(body, int(s))
	}
	body = append(body, 1, 0) // compression methods: null
	body = u16(body, len(ext))
	body = append(body, ext...)

	hs := []byte{1, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))} // ClientHello
	hs = append(hs, body...)
	rec := []byte{22, 0x03, 0x01} // handshake record, TLS 1.0 record version
	rec = u16(rec, len(hs))
	return append(rec, hs...)
}

var sipUsers = []string{"alice", "bob", "carol", "dave"}

// sipMessage returns a SIP request or response without a body.
func sipMessage(rng *rand.Rand, srcIP, dstIP string) []byte {
	from, to := pick(rng, sipUsers), pick(rng, sipUsers)
	domain := pick(rng, hostNames)
	callID := fmt.Sprintf("%08x@%s", rng.Uint32(), srcIP)
	branch := fmt.Sprintf("z9hG4bK%06x", rng.IntN(1<<24))
	tag := fmt.Sprintf("%06x", rng.IntN(1<<24))
	seq := 1 + rng.IntN(100)
	method := pick(rng, []string{"INVITE", "REGISTER", "OPTIONS", "BYE"})
	var first, cseq string
	if rng.IntN(3) == 0 {
		first = "SIP/2.0 200 OK"
	} else {
		first = fmt.Sprintf("%s sip:%s@%s SIP/2.0", method, to, domain)
	}
	cseq = fmt.Sprintf("%d %s", seq, method)
	return []byte(fmt.Sprintf("%s\r\nVia: SIP/2.0/UDP %s:5060;branch=%s\r\nMax-Forwards: 70\r\nFrom: <sip:%s@%s>;tag=%s\r\nTo: <sip:%s@%s>\r\nCall-ID: %s\r\nCSeq: %s\r\nContact: <sip:%s@%s:5060>\r\nContent-Length: 0\r\n\r\n",
		first, srcIP, branch, from, domain, tag, to, domain, callID, cseq, from, srcIP))
}

// rtpPacket returns an RTP packet (version 2, PCMU) with 160 bytes of
// audio.
func rtpPacket(rng *rand.Rand) []byte {
	b := make([]byte, 12, 12+160)
	b[0] = 0x80
	b[1] = 0 // PCMU
	binary.BigEndian.PutUint16(b[2:], uint16(rng.Uint32()))
	binary.BigEndian.PutUint32(b[4:], rng.Uint32())
	binary.BigEndian.PutUint32(b[8:], rng.Uint32())
	for range 160 {
		b = append(b, byte(0xff-rng.IntN(16)))
	}
	return b
}
