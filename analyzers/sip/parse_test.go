//go:build !wasip1

package main

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"testing"

	"github.com/wringcap/wring/wasm/guest"
)

func invite(callID, addr string, port int) string {
	sdp := fmt.Sprintf("v=0\r\no=alice 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio %d RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\n", addr, addr, port)
	return fmt.Sprintf("INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP %s:5060\r\nFrom: <sip:alice@example.com>;tag=1\r\nTo: <sip:bob@example.com>\r\nCall-ID: %s\r\nCSeq: 1 INVITE\r\nContent-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s",
		addr, callID, len(sdp), sdp)
}

func ok200(callID, addr string, port int) string {
	sdp := fmt.Sprintf("v=0\r\no=bob 2 2 IN IP4 %s\r\ns=-\r\nt=0 0\r\nm=audio %d RTP/AVP 0\r\nc=IN IP4 %s\r\nm=video 0 RTP/AVP 96\r\n", addr, port, addr)
	return fmt.Sprintf("SIP/2.0 200 OK\r\ni: %s\r\nf: <sip:alice@example.com>;tag=1\r\nt: <sip:bob@example.com>;tag=2\r\nCSeq: 1 INVITE\r\nc: application/sdp\r\nl: %d\r\n\r\n%s", callID, len(sdp), sdp)
}

func bye(callID string) string {
	return "BYE sip:bob@example.com SIP/2.0\r\nCall-ID: " + callID + "\r\nFrom: <sip:alice@example.com>;tag=1\r\nTo: <sip:bob@example.com>;tag=2\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n"
}

func TestParse(t *testing.T) {
	m, ok := Parse([]byte(invite("abc@host", "192.0.2.10", 20000)))
	if !ok || !m.Request || m.Method != "INVITE" || string(m.CallID) != "abc@host" || m.CSeqMethod != "INVITE" || !m.SDP ||
		len(m.Media) != 1 || m.Media[0] != (Media{"audio", netip.MustParseAddr("192.0.2.10"), 20000}) || string(m.From) != "<sip:alice@example.com>;tag=1" {
		t.Fatalf("invite: %v %+v", ok, m)
	}
	m, ok = Parse([]byte(ok200("abc@host", "198.51.100.20", 30000)))
	if !ok || m.Request || m.Status != 200 || m.CSeqMethod != "INVITE" || len(m.Media) != 2 ||
		m.Media[0] != (Media{"audio", netip.MustParseAddr("198.51.100.20"), 30000}) || m.Media[1].Port != 0 || m.Media[1].Addr.IsValid() {
		t.Fatalf("200: %v %+v", ok, m)
	}
	m, ok = Parse([]byte(bye("abc@host")))
	if !ok || m.Method != "BYE" || m.SDP || len(m.Media) != 0 {
		t.Fatalf("bye: %v %+v", ok, m)
	}
	v6 := "SIP/2.0 200 OK\r\nCall-ID: x\r\nCSeq: 5 INVITE\r\nContent-Type: application/sdp\r\n\r\nv=0\r\nc=IN IP6 2001:db8::1\r\nm=audio 4000/2 RTP/SAVP 0\r\n"
	m, ok = Parse([]byte(v6))
	if !ok || len(m.Media) != 1 || m.Media[0].Addr != netip.MustParseAddr("2001:db8::1") || m.Media[0].Port != 4000 {
		t.Fatalf("v6: %v %+v", ok, m)
	}
	for _, bad := range []string{"", "HTTP/1.1 200 OK\r\n\r\n", "SIP/2.0 2x0 OK\r\nCall-ID: a\r\n\r\n", "invite sip:x SIP/2.0\r\nCall-ID: a\r\n\r\n",
		"INVITE sip:x SIP/2.0\r\nFrom: a\r\n\r\n", "SIP/2.0 999 No\r\nCall-ID: a\r\n\r\n"} {
		if m, ok := Parse([]byte(bad)); ok {
			t.Errorf("%q parsed: %+v", bad, m)
		}
	}
	// c= with a family that does not match its address, a non-RTP stream.
	m, _ = Parse([]byte("SIP/2.0 200 OK\r\nCall-ID: y\r\nCSeq: 1 INVITE\r\n\r\nv=0\r\nc=IN IP6 192.0.2.1\r\nm=audio 5000 RTP/AVP 0\r\nm=image 6000 udptl t38\r\n"))
	if len(m.Media) != 1 || m.Media[0].Addr.IsValid() {
		t.Fatalf("bad c=: %+v", m)
	}
}

// TestCalls: the flows of an answered call, both directions, RTP and RTCP,
// are added at the 200 OK and removed at the BYE; a refused add is counted.
func TestCalls(t *testing.T) {
	var added, removed [][]byte
	guest.FlowHook = func(del bool, rec []byte) int32 {
		n := len(rec) / 64
		for i := 0; i < n; i++ {
			r := append([]byte(nil), rec[i*64:(i+1)*64]...)
			if del {
				removed = append(removed, r)
			} else {
				added = append(added, r)
			}
		}
		return int32(n)
	}
	defer func() { guest.FlowHook = nil }()
	cs := newCalls(2, 5000)
	step := func(s string, now int64) {
		m, ok := Parse([]byte(s))
		if !ok {
			t.Fatalf("not parsed: %q", s)
		}
		cs.handle(&m, now)
	}
	step(invite("c1", "192.0.2.10", 20000), 1)
	if len(added) != 0 {
		t.Fatal("flows added before the answer")
	}
	step(ok200("c1", "198.51.100.20", 30000), 2)
	if len(added) != 2 || cs.opened != 2 {
		t.Fatalf("%d flows added at the 200, want 2 (RTP, RTCP; video refused)", len(added))
	}
	le := binary.LittleEndian
	for i, r := range added {
		sp, dp := le.Uint16(r[4:]), le.Uint16(r[6:])
		if r[0] != 4 || r[1] != 17 || r[2] != 1 || r[3] != byte(guest.FlowKeep) || sp != uint16(20000+i) || dp != uint16(30000+i) ||
			le.Uint32(r[12:]) != 5000 || netip.AddrFrom4([4]byte(r[24:28])).String() != "192.0.2.10" || netip.AddrFrom4([4]byte(r[40:44])).String() != "198.51.100.20" {
			t.Errorf("flow %d: % x", i, r)
		}
	}
	step(bye("c1"), 3)
	if len(removed) != 2 || cs.closed != 2 || len(cs.m) != 0 {
		t.Fatalf("bye removed %d flows, %d calls left", len(removed), len(cs.m))
	}
	// Refused by the host's quota: only the first is kept.
	guest.FlowHook = func(del bool, rec []byte) int32 { return -(1*256 + guest.FlowErrQuota) }
	step(invite("c2", "192.0.2.11", 20002), 4)
	step(ok200("c2", "198.51.100.21", 30002), 5)
	if cs.opened != 1 || cs.refused != 1 || len(cs.m["c2"].flows) != 1 {
		t.Fatalf("refused: opened %d refused %d", cs.opened, cs.refused)
	}
	// The table holds 2 calls: a third evicts the oldest.
	step(invite("c3", "192.0.2.12", 20004), 6)
	if _, ev := cs.handle(&Message{Request: true, Method: "INVITE", CallID: []byte("c4")}, 7); !ev || cs.m["c2"] != nil {
		t.Fatalf("no eviction: %v", cs.m)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(invite("abc@host", "192.0.2.10", 20000)))
	f.Add([]byte(ok200("abc@host", "198.51.100.20", 30000)))
	f.Add([]byte(bye("abc@host")))
	f.Add([]byte("SIP/2.0 200 OK\r\nCall-ID: x\r\nCSeq: 5 INVITE\r\nl: 3\r\n\r\nv=0\r\nc=IN IP6 2001:db8::1\r\nm=audio 4000/2 RTP/SAVP 0\r\n"))
	f.Add([]byte("ACK sip:x SIP/2.0\ni:1\n\nv=0\nc=IN IP4 224.2.1.1/127\nm=audio 1 RTP/AVP 0\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, ok := Parse(b)
		if !ok {
			return
		}
		if len(m.CallID) == 0 || len(m.CallID) > maxField || len(m.From) > maxField || len(m.Media) > maxMedia {
			t.Fatalf("%+v", m)
		}
		if m.Request == (m.Status != 0) {
			t.Fatalf("request %v with status %d", m.Request, m.Status)
		}
		for _, md := range m.Media {
			if md.Addr.IsValid() && md.Addr.Zone() != "" {
				t.Fatalf("zone in %v", md.Addr)
			}
		}
		// The call state takes any parsed message without panicking.
		cs := newCalls(4, 1000)
		cs.handle(&m, 1)
		m.Request, m.Status, m.CSeqMethod = false, 200, "INVITE"
		cs.handle(&m, 2)
	})
}
