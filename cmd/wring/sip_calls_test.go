package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"regexp"
	"sync"
)

// syncBuf is a bytes.Buffer safe for one writer and concurrent readers.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// udpFrame is an Ethernet/IPv4/UDP frame (UDP checksum 0: none).
func udpFrame(src, dst [4]byte, sport, dport uint16, payload []byte) []byte {
	f := []byte{0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00}
	ip := make([]byte, 28, 28+len(payload))
	ip[0], ip[8], ip[9] = 0x45, 64, 17
	binary.BigEndian.PutUint16(ip[2:], uint16(28+len(payload)))
	copy(ip[12:], src[:])
	copy(ip[16:], dst[:])
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(ip[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(ip[10:], ^uint16(sum))
	binary.BigEndian.PutUint16(ip[20:], sport)
	binary.BigEndian.PutUint16(ip[22:], dport)
	binary.BigEndian.PutUint16(ip[24:], uint16(8+len(payload)))
	return append(f, append(ip, payload...)...)
}

// sipCall is one generated call: two media endpoints and the SSRCs of its
// two RTP streams.
type sipCall struct {
	id           string
	a, b         [4]byte // caller, callee (SIP and media)
	aPort, bPort uint16  // RTP ports; RTCP is +1
	ssrcA, ssrcB uint32  // caller's and callee's streams
	seq          uint16  // RTP packets sent per direction so far
}

func (c *sipCall) sdp(addr [4]byte, port uint16, who string) string {
	ip := fmt.Sprintf("%d.%d.%d.%d", addr[0], addr[1], addr[2], addr[3])
	return fmt.Sprintf("v=0\r\no=%s 1 1 IN IP4 %s\r\ns=call\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n", who, ip, ip, port)
}

func (c *sipCall) msg(first, cseq, body string) []byte {
	h := fmt.Sprintf("%s\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK%s\r\nFrom: <sip:alice@example.com>;tag=a%s\r\nTo: <sip:bob@example.com>;tag=b%s\r\nCall-ID: %s\r\nCSeq: %s\r\nMax-Forwards: 70\r\n",
		first, c.id, c.id, c.id, c.id, cseq)
	if body != "" {
		h += "Content-Type: application/sdp\r\n"
	}
	return []byte(h + fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body), body))
}

func (c *sipCall) invite() []byte {
	return udpFrame(c.a, c.b, 5060, 5060, c.msg("INVITE sip:bob@example.com SIP/2.0", "1 INVITE", c.sdp(c.a, c.aPort, "alice")))
}
func (c *sipCall) ok() []byte {
	return udpFrame(c.b, c.a, 5060, 5060, c.msg("SIP/2.0 200 OK", "1 INVITE", c.sdp(c.b, c.bPort, "bob")))
}
func (c *sipCall) ack() []byte {
	return udpFrame(c.a, c.b, 5060, 5060, c.msg("ACK sip:bob@example.com SIP/2.0", "1 ACK", ""))
}
func (c *sipCall) bye() []byte {
	return udpFrame(c.a, c.b, 5060, 5060, c.msg("BYE sip:bob@example.com SIP/2.0", "2 BYE", ""))
}

// rtp returns n RTP packets per direction, alternating, and one RTCP
// sender report per direction.
func (c *sipCall) rtp(n int) [][]byte {
	var out [][]byte
	for i := 0; i < n; i++ {
		c.seq++
		for dir := 0; dir < 2; dir++ {
			p := make([]byte, 12+160)
			p[0], p[1] = 0x80, 0
			binary.BigEndian.PutUint16(p[2:], c.seq)
			binary.BigEndian.PutUint32(p[4:], uint32(c.seq)*160)
			if dir == 0 {
				binary.BigEndian.PutUint32(p[8:], c.ssrcA)
				out = append(out, udpFrame(c.a, c.b, c.aPort, c.bPort, p))
			} else {
				binary.BigEndian.PutUint32(p[8:], c.ssrcB)
				out = append(out, udpFrame(c.b, c.a, c.bPort, c.aPort, p))
			}
		}
	}
	for dir := 0; dir < 2; dir++ {
		r := make([]byte, 28)
		r[0], r[1] = 0x80, 200
		binary.BigEndian.PutUint16(r[2:], 6)
		binary.BigEndian.PutUint32(r[20:], uint32(c.seq)) // sender's packet count: makes the frame unique
		if dir == 0 {
			binary.BigEndian.PutUint32(r[4:], c.ssrcA)
			out = append(out, udpFrame(c.a, c.b, c.aPort+1, c.bPort+1, r))
		} else {
			binary.BigEndian.PutUint32(r[4:], c.ssrcB)
			out = append(out, udpFrame(c.b, c.a, c.bPort+1, c.aPort+1, r))
		}
	}
	return out
}

func mkCalls(prefix string, n int, net1, net2 byte, portA, portB uint16, ssrc uint32) []*sipCall {
	var cs []*sipCall
	for i := 0; i < n; i++ {
		cs = append(cs, &sipCall{id: fmt.Sprintf("%s%d@wring.test", prefix, i), a: [4]byte{10, net1, 0, 10}, b: [4]byte{10, net2, 0, 20},
			aPort: portA + uint16(4*i), bPort: portB + uint16(4*i), ssrcA: ssrc + uint32(i), ssrcB: ssrc + 0x100 + uint32(i)})
	}
	return cs
}

var flowReportRe = regexp.MustCompile(`(?m)^wring: analyzer sip: flow rules: (\d+) added, (\d+) refreshed, (\d+) removed, (\d+) expired, (\d+) alive; (\d+) refused`)

// rtpOf reads the SSRC and sequence number of an RTP frame written by
// sipCall.rtp (IPv4, UDP, version 2, payload type 0).
func rtpOf(f []byte) (ssrc uint32, seq uint16, ok bool) {
	if len(f) < 14+28+12 || f[23] != 17 {
		return 0, 0, false
	}
	p := f[14+28:]
	if p[0] != 0x80 || p[1] != 0 {
		return 0, 0, false
	}
	return binary.BigEndian.Uint32(p[8:]), binary.BigEndian.Uint16(p[2:]), true
}

func sumCounts(m map[uint32]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
