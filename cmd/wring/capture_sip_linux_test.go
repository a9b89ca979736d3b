package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/internal/netns"
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

// TestCaptureSIPOpensRTP is issue 16's acceptance 3: `wring capture 'udp
// port 5060' --analyzer sip --grant sip:rules` on a veth keeps every SIP
// packet and the RTP and RTCP of the answered calls only: not the media of
// calls never signalled, nor a call's media after its BYE. Calls whose RTP
// follows the 200 OK at once (in the same burst) lose the packets the
// capture handled before the analyzer's rule took effect: they are
// counted and printed, and must be the first packets of their streams.
// tshark, with RTP heuristics, counts the same packets per SSRC.
func TestCaptureSIPOpensRTP(t *testing.T) {
	netns.Require(t)
	p := netns.New(t, 1)
	out := filepath.Join(t.TempDir(), "sip.pcap")
	events := filepath.Join(t.TempDir(), "events.json")
	args := []string{"capture", "-i", p.IfA, "-w", out, "--events", events, "--duration", "12s",
		"--analyzer", "sip", "--grant", "sip:rules", "udp port 5060"}
	var stderr syncBuf
	code := make(chan int, 1)
	go func() {
		c := -1
		if err := netns.Do(p.NSA, func() error { c = run(args, bytes.NewReader(nil), io.Discard, &stderr); return nil }); err != nil {
			t.Error(err)
		}
		code <- c
	}()
	deadline := time.Now().Add(9 * time.Second)
	for !strings.Contains(stderr.String(), "listening on") {
		if time.Now().After(deadline) {
			t.Fatalf("capture did not start:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	send := func(frames [][]byte) {
		t.Helper()
		if _, err := netns.Send(p.NSB, p.IfB, frames); err != nil {
			t.Fatal(err)
		}
	}
	cs := newSIPCallSet()
	required, optional, answered, never, prompt, promptRTP := cs.required, cs.optional, cs.answered, cs.never, cs.prompt, cs.promptRTP
	// 1. Call set-up, a pause, then the media of the answered calls and
	// of calls never signalled; 2. the first half hang up, a pause, then
	// every answered call sends more media (only the second half's is
	// kept); 3. calls whose media follows the 200 OK in the same burst.
	send(cs.setup)
	time.Sleep(300 * time.Millisecond)
	send(cs.media1)
	send(cs.byes)
	time.Sleep(300 * time.Millisecond)
	send(cs.media2)
	send(cs.burst)
	if c := <-code; c != 0 {
		t.Fatalf("wring %v: exit %d\n%s", args, c, stderr.String())
	}
	t.Logf("%s", stderr.String())

	got := readFrames(t, out)
	notWantedSet := cs.notWanted
	missing, extra, unwanted, promptGot := 0, 0, 0, 0
	for f := range required {
		if !got[f] {
			missing++
		}
	}
	for f := range got {
		switch {
		case required[f]:
		case optional[f]:
			promptGot++
		case notWantedSet[f]:
			unwanted++
		default:
			extra++
		}
	}
	if missing != 0 || unwanted != 0 || extra != 0 {
		t.Errorf("OUT: %d required frames missing, %d frames of unsignalled or ended calls, %d unknown frames (of %d written)", missing, unwanted, extra, len(got))
	}
	// The prompt calls' missed packets are the first of their streams: a
	// stream's kept packets are a suffix.
	for _, c := range prompt {
		for _, ssrc := range []uint32{c.ssrcA, c.ssrcB} {
			first := -1
			for f := range got {
				if s, seq, ok := rtpOf([]byte(f)); ok && s == ssrc && (first < 0 || int(seq) < first) {
					first = int(seq)
				}
			}
			kept := 0
			for f := range got {
				if s, _, ok := rtpOf([]byte(f)); ok && s == ssrc {
					kept++
				}
			}
			if first >= 0 && kept != 20-first+1 {
				t.Errorf("call %s ssrc %#x: %d packets kept from seq %d: not the stream's last ones", c.id, ssrc, kept, first)
			}
		}
	}
	fmt.Printf("sip: %d SIP and media frames required, all written; %d of %d RTP/RTCP frames sent right after their 200 OK were missed before the rule took effect\n",
		len(required), promptRTP-promptGot, promptRTP)
	t.Logf("missed between the 200 OK and the rule taking effect: %d of %d RTP/RTCP frames (10 calls, sent in the same burst as the 200 OK)", promptRTP-promptGot, promptRTP)

	m := flowReportRe.FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("no flow report:\n%s", stderr.String())
	}
	if m[1] != "60" || m[3] != "20" || m[6] != "0" {
		t.Errorf("flow report %q: want 60 added (RTP and RTCP of 30 calls), 20 removed (10 BYEs), 0 refused", m[0])
	}

	// tshark agrees per stream.
	perSSRC := map[uint32]int{}
	for f := range got {
		if s, _, ok := rtpOf([]byte(f)); ok {
			perSSRC[s]++
		}
	}
	if _, err := exec.LookPath("tshark"); err != nil {
		corpus.Unavailable(t, "tshark is not installed")
		return
	}
	ts, err := exec.Command("tshark", "-n", "-r", out, "-o", "rtp.heuristic_rtp:TRUE", "-Y", "rtp", "-T", "fields", "-e", "rtp.ssrc").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	tsCount := map[uint32]int{}
	for _, l := range strings.Fields(string(ts)) {
		v, err := strconv.ParseUint(strings.TrimPrefix(l, "0x"), 16, 32)
		if err != nil {
			t.Fatalf("tshark ssrc %q: %v", l, err)
		}
		tsCount[uint32(v)]++
	}
	if len(tsCount) != len(perSSRC) {
		t.Errorf("tshark sees %d RTP streams, wring wrote %d", len(tsCount), len(perSSRC))
	}
	for s, n := range perSSRC {
		if tsCount[s] != n {
			t.Errorf("ssrc %#x: tshark counts %d RTP packets, OUT holds %d", s, tsCount[s], n)
		}
	}
	wantStreams := 2*20 + 2*len(prompt) // every answered call's two streams, and the prompt calls' (unless all missed)
	t.Logf("tshark: %d RTP streams, %d packets; expected streams at most %d", len(tsCount), sumCounts(tsCount), wantStreams)
	for _, c := range answered {
		for _, s := range []uint32{c.ssrcA, c.ssrcB} {
			wantN := 30
			if c.ssrcA-0x1000 >= 10 {
				wantN = 40
			}
			if tsCount[s] != wantN {
				t.Errorf("call %s ssrc %#x: tshark counts %d, want %d", c.id, s, tsCount[s], wantN)
			}
		}
	}
	for _, c := range never {
		if tsCount[c.ssrcA]+tsCount[c.ssrcB] != 0 {
			t.Errorf("call %s, never signalled: RTP in OUT", c.id)
		}
	}
}

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
