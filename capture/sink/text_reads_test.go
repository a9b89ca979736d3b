package sink

import "testing"

// TestUDPDecoderOrder: a datagram between two decoded ports goes to the
// decoder udp_print tries first.
func TestUDPDecoderOrder(t *testing.T) {
	for _, c := range []struct {
		sport, dport uint16
		proto        string
	}{
		{3503, 4567, "wb"},      // wb (destination only) before lspping
		{4567, 3503, "lspping"}, // wb matches the destination only
		{88, 1701, "krb"},       // krb before l2tp
		{525, 88, "timed"},
		{7002, 2104, "zephyr"}, // zephyr before rx
		{7002, 9999, "rx"},
		{9999, 9998, ""},
	} {
		got := ""
		for i := range udpDecoders {
			if d := &udpDecoders[i]; d.match(c.sport, c.dport) {
				got = d.proto
				break
			}
		}
		if got != c.proto {
			t.Errorf("%d > %d: decoder %q, want %q", c.sport, c.dport, got, c.proto)
		}
	}
}

// TestPayloadReads: a modelled decoder jumps exactly when its reads run
// past the captured bytes.
func TestPayloadReads(t *testing.T) {
	// An L2TP control message with one 8-byte AVP, then the header of a
	// second AVP announced by the length but not captured.
	l2tp := []byte{0xc8, 0x02, 0x00, 0x16, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01}
	for _, c := range []struct {
		name   string
		reads  func(p *printer, cp, length int)
		data   []byte
		length int
		jumps  bool
	}{
		{"l2tp complete", (*printer).l2tpReads, l2tp, 20, false},
		{"l2tp cut", (*printer).l2tpReads, l2tp, 22, true},
		{"autorp short", (*printer).autorpReads, []byte{0x11, 1, 0, 10, 0, 0, 0, 0}, 8, false},
		{"autorp rp cut", (*printer).autorpReads, []byte{0x11, 1, 0, 10, 0, 0, 0, 0, 10, 0}, 20, true},
		{"ssh line", (*printer).sshReads, []byte("SSH-2.0-x\r\n"), 11, false},
		{"ssh cut", (*printer).sshReads, []byte("SSH-2.0"), 20, true},
		{"openflow whole", (*printer).openflowReads, []byte{1, 0, 0, 8, 0, 0, 0, 1}, 8, false},
		{"openflow body cut", (*printer).openflowReads, []byte{1, 0, 0, 16, 0, 0, 0, 1, 0}, 16, true},
		{"timed name unterminated", (*printer).timedReads, append(make([]byte, 12), 'a', 'b'), 14, true},
		{"timed name", (*printer).timedReads, append(make([]byte, 12), 'a', 0), 14, false},
		{"resp array", (*printer).respReads, []byte("*1\r\n$4\r\nPING\r\n"), 14, false},
		{"resp inline cut", (*printer).respReads, []byte("PING"), 10, true},
		{"resp bulk cut", (*printer).respReads, []byte("$4\r\nPI"), 10, false}, // checked, no jump
		{"resp length cut", (*printer).respReads, []byte("*12"), 10, true},
		{"telnet sb cut", (*printer).telnetReads, []byte{255, 250, 24, 1}, 10, true},
		{"telnet will", (*printer).telnetReads, []byte{255, 251, 1}, 3, false},
	} {
		p := printer{pkt: c.data, end: len(c.data)}
		c.reads(&p, 0, c.length)
		if p.jumped != c.jumps {
			t.Errorf("%s: jumped %v, want %v", c.name, p.jumped, c.jumps)
		}
	}
}
