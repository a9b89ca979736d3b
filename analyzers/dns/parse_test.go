package main

import (
	"encoding/hex"
	"testing"
)

func msg(h string) []byte {
	b, err := hex.DecodeString(h)
	if err != nil {
		panic(err)
	}
	return b
}

func TestQuestionAndAnswers(t *testing.T) {
	// A response for www.example.com A with a CNAME (compressed) and an A
	// record.
	b := msg("1234818000010002000000000377777707657861" + "6d706c6503636f6d0000010001" +
		"c00c000500010000003c0006036364" + "6ec010" +
		"c02b000100010000003c00045db8d822")
	m, ok := Parse(b)
	if !ok || !m.Response || m.ID != 0x1234 || m.QDCount != 1 || m.ANCount != 2 {
		t.Fatalf("%+v %v", m, ok)
	}
	q, ok := m.Question(0, nil)
	if !ok || string(q.Name) != "www.example.com" || q.Type != 1 {
		t.Fatalf("%q %d %v", q.Name, q.Type, ok)
	}
	ans, n := m.Answers(nil)
	if n != 2 || string(ans) != "cdn.example.com,93.184.216.34" {
		t.Fatalf("%q %d", ans, n)
	}
}

func TestNameLoopsAndRoot(t *testing.T) {
	// A name that points at itself must end, not loop.
	b := msg("000000000001000000000000" + "c00c" + "00010001")
	m, _ := Parse(b)
	if _, ok := m.Question(0, nil); ok {
		t.Fatal("accepted a self-referencing name")
	}
	root := msg("000000000001000000000000" + "0000020001")
	m, _ = Parse(root)
	if q, ok := m.Question(0, nil); !ok || string(q.Name) != "<Root>" || q.Type != 2 {
		t.Fatalf("%q %v", q.Name, ok)
	}
}

func TestIPv6Text(t *testing.T) {
	for in, want := range map[string]string{
		"20010db8000000000000000000000001": "2001:db8::1",
		"00000000000000000000000000000000": "::",
		"fe800000000000000202b3fffe1e8329": "fe80::202:b3ff:fe1e:8329",
		"20010db8000100000001000000000001": "2001:db8:1:0:1::1",
	} {
		if got := string(appendIPv6(nil, msg(in))); got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
}

func FuzzDNS(f *testing.F) {
	f.Add(msg("1234818000010002000000000377777707657861" + "6d706c6503636f6d0000010001" + "c00c000500010000003c0006036364" + "6ec010"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, ok := Parse(b)
		if !ok {
			return
		}
		for i := 0; i < m.QDCount && i < 8; i++ {
			if q, ok := m.Question(i, nil); ok && len(q.Name) > 1100 {
				t.Fatalf("name of %d bytes", len(q.Name))
			}
		}
		m.Answers(nil)
	})
}
