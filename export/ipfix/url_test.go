package ipfix

import (
	"strings"
	"testing"
	"time"
)

func TestParseURL(t *testing.T) {
	good := []struct {
		in   string
		want Config
	}{
		{"ipfix://127.0.0.1:4739", Config{Network: "udp", Addr: "127.0.0.1:4739"}},
		{"ipfix+udp://collector.example:2055", Config{Network: "udp", Addr: "collector.example:2055"}},
		{"IPFIX+TCP://[2001:db8::1]:4739", Config{Network: "tcp", Addr: "[2001:db8::1]:4739"}},
		{"ipfix://h:1?mtu=9000&domain=4294967295&template_interval=30s&template_messages=5&flush=250ms&queue=16",
			Config{Network: "udp", Addr: "h:1", MTU: 9000, Domain: 1<<32 - 1, TemplateInterval: 30 * time.Second, TemplateMessages: 5,
				FlushInterval: 250 * time.Millisecond, Queue: 16}},
	}
	for _, g := range good {
		got, err := ParseURL(g.in)
		if err != nil || got != g.want {
			t.Errorf("%s: %+v, %v; want %+v", g.in, got, err, g.want)
		}
	}
	bad := []struct{ in, says string }{
		{"127.0.0.1:4739", "want ipfix://"},
		{"netflow://h:1", `scheme "netflow"`},
		{"ipfix://h", "want HOST:PORT"},
		{"ipfix://:4739", "empty host"},
		{"ipfix://h:0", `port "0"`},
		{"ipfix://h:65536", `port "65536"`},
		{"ipfix://h:http", `port "http"`},
		{"ipfix://h:1/path", "a path at column 12"},
		{"ipfix://u@h:1", "user information at column 10"},
		{"ipfix://h:1#x", "a fragment"},
		{"ipfix://h:1?", "empty query"},
		{"ipfix://h:1?mtu", `option "mtu"`},
		{"ipfix://h:1?mtu=100", "option mtu=100: want an integer from 256 to 65535"},
		{"ipfix://h:1?mtu=1400&mtu=1400", "mtu given twice"},
		{"ipfix://h:1?colour=red", "option colour=red: unknown option"},
		{"ipfix://h:1?flush=1ns", "want a duration"},
		{"ipfix://h:1?domain=-1", "option domain=-1"},
		{"ipfix://2001:db8::1:4739", "address"},
		{"ipfix://h%20x:1", "host"},
	}
	for _, b := range bad {
		_, err := ParseURL(b.in)
		if err == nil || !strings.Contains(err.Error(), b.says) {
			t.Errorf("%s: error %v, want one saying %q", b.in, err, b.says)
		}
	}
}

// FuzzParseURL checks that the parser never panics, and that what it
// accepts is a complete configuration that New accepts too.
func FuzzParseURL(f *testing.F) {
	for _, s := range []string{"ipfix://127.0.0.1:4739", "ipfix+tcp://[::1]:1?mtu=512&queue=3", "ipfix://h:1?flush=1s&domain=5",
		"ipfix://h:1/x", "ipfix+udp://[fe80::1%25eth0]:9", "ipfix://h:1?=", "ipfix://:::"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseURL(s)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		if c.Network != "udp" && c.Network != "tcp" || c.Addr == "" {
			t.Fatalf("%q accepted as %+v", s, c)
		}
		if c.MTU != 0 && (c.MTU < MinMTU || c.MTU > MaxMTU) {
			t.Fatalf("%q: mtu %d", s, c.MTU)
		}
		if _, err := NewEncoder(c.Domain, c.MTU); err != nil {
			t.Fatalf("%q accepted, but the encoder refuses it: %v", s, err)
		}
	})
}
