package nats

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestParseURL(t *testing.T) {
	good := []struct {
		in   string
		want Config
	}{
		{"nats://127.0.0.1:4222/EVENTS", Config{Servers: []string{"nats://127.0.0.1:4222"}, Stream: "EVENTS", Prefix: "wring",
			Buffer: DefaultBuffer, Window: DefaultWindow, Wait: DefaultWait, Drain: DefaultDrain, Ack: DefaultAck, Replicas: 1, Create: true}},
		{"NATS://a:1,b:2,[::1]:3/S?buffer=10&window=5&wait=0&drain=1s&ack=2s&replicas=3&host=web-1&prefix=cap&run=x&create=false",
			Config{Servers: []string{"nats://a:1", "nats://b:2", "nats://[::1]:3"}, Stream: "S", Prefix: "cap", Host: "web-1", Run: "x",
				Buffer: 10, Window: 5, Wait: 0, Drain: time.Second, Ack: 2 * time.Second, Replicas: 3, Create: false}},
		{"nats://u:secret@h:4222/S", Config{Servers: []string{"nats://u:secret@h:4222"}, Stream: "S", Prefix: "wring",
			Buffer: DefaultBuffer, Window: DefaultWindow, Wait: DefaultWait, Drain: DefaultDrain, Ack: DefaultAck, Replicas: 1, Create: true}},
	}
	for _, g := range good {
		got, err := ParseURL(g.in)
		if err != nil {
			t.Errorf("%s: %v", g.in, err)
			continue
		}
		if strings.Join(got.Servers, " ") != strings.Join(g.want.Servers, " ") {
			t.Errorf("%s: servers %v, want %v", g.in, got.Servers, g.want.Servers)
		}
		got.Servers, g.want.Servers = nil, nil
		if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", g.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", g.in, got, g.want)
		}
	}
	bad := []struct{ in, msg string }{
		{"file.json", "want nats://HOST:PORT/STREAM"},
		{"nats://", "no HOST:PORT"},
		{"nats://h:4222", "no /STREAM"},
		{"nats://h:4222/", "no /STREAM"},
		{"nats://h/S", `server 1 "h": want HOST:PORT`},
		{"nats://h:0/S", `port "0" is not 1 to 65535`},
		{"nats://h:99999/S", `port "99999"`},
		{"nats://:4222/S", "empty host"},
		{"nats://h:1,/S", "server 2"},
		{"nats://h:1/a.b", `character '.' at 1`},
		{"nats://h:1/S?buffer=0", "option buffer=\"0\": want 1 to"},
		{"nats://h:1/S?buffer=x", "not an integer"},
		{"nats://h:1/S?wait=5", "not a duration"},
		{"nats://h:1/S?host=a.b", "character '.' at 1"},
		{"nats://h:1/S?colour=red", `unknown option "colour"`},
		{"nats://h:1/S?wait=1s&wait=2s", "option wait given 2 times"},
		{"nats://h:1?x=1", "no /STREAM before the options"},
		{"nats://u:pw@h:0/S", "u:xxxxx@h:0"},
	}
	for _, b := range bad {
		_, err := ParseURL(b.in)
		if err == nil || !errors.Is(err, ErrURL) || !strings.Contains(err.Error(), b.msg) {
			t.Errorf("%s: error %v, want one with %q wrapping ErrURL", b.in, err, b.msg)
		}
		if err != nil && strings.Contains(err.Error(), "pw@") {
			t.Errorf("%s: error shows the password: %v", b.in, err)
		}
	}
}

func TestSubject(t *testing.T) {
	for _, c := range []struct{ line, want string }{
		{`{"analyzer":"http","event":"request","ts":1}`, "wring.h.http.request"},
		{`{"analyzer":"my.mod","event":"a b*>","ts":1}`, "wring.h.my_mod.a_b__"},
		{`{"analyzer":"x\"y","event":"e"}`, "wring.h.x__y.e"},
		{`{"analyzer":"http"}`, "wring.h.http._"},
		{`{"type":"packet"}`, "wring.h._._"},
		{`{"analyzer":"unterminated`, "wring.h._._"},
		{`{"analyzer":"","event":""}`, "wring.h._._"},
		{`{"analyzer":"` + strings.Repeat("a", 100) + `","event":"e"}`, "wring.h." + strings.Repeat("a", 64) + ".e"},
	} {
		if got := string(appendSubject(nil, "wring", "h", []byte(c.line))); got != c.want {
			t.Errorf("%s: subject %q, want %q", c.line, got, c.want)
		}
	}
	if got := Token("web-1.example.com"); got != "web-1_example_com" {
		t.Errorf("Token: %q", got)
	}
}

// FuzzParseURL: any string gives a config within bounds or an error
// wrapping ErrURL that never shows a password.
func FuzzParseURL(f *testing.F) {
	for _, s := range []string{"nats://127.0.0.1:4222/EVENTS", "nats://a:1,b:2/S?buffer=10&wait=0", "nats://u:pw@h:1/S?host=x",
		"nats://[::1]:4222/S?drain=1m&ack=1ms&replicas=5", "nats://h:1/S?create=false&run=r-1&prefix=p", "nats://h:1/a.b", "nats://"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cfg, err := ParseURL(s)
		if err != nil {
			if !errors.Is(err, ErrURL) {
				t.Fatalf("%q: error %v does not wrap ErrURL", s, err)
			}
			return
		}
		if len(cfg.Servers) == 0 || len(cfg.Servers) > maxServers || cfg.Stream == "" {
			t.Fatalf("%q: %+v", s, cfg)
		}
		if cfg.Buffer < 1 || cfg.Buffer > MaxBuffer || cfg.Window < 1 || cfg.Window > MaxWindow || cfg.Replicas < 1 || cfg.Replicas > MaxReplicas {
			t.Fatalf("%q: out of bounds %+v", s, cfg)
		}
		if checkToken(cfg.Prefix) != nil || cfg.Host != "" && checkToken(cfg.Host) != nil || checkStreamName(cfg.Stream) != nil {
			t.Fatalf("%q: bad names %+v", s, cfg)
		}
	})
}

// FuzzSubject: any line gives a valid four-token subject.
func FuzzSubject(f *testing.F) {
	for i := 0; i < 3; i++ {
		f.Add([]byte(eventLine(i)))
	}
	f.Add([]byte(`{"analyzer":"a\\\"","event":"\u00e9"}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		s := string(appendSubject(nil, "wring", "h", line))
		toks := strings.Split(s, ".")
		if len(toks) != 4 {
			t.Fatalf("%q: subject %q", line, s)
		}
		for _, tok := range toks {
			if checkToken(tok) != nil {
				t.Fatalf("%q: token %q of %q", line, tok, s)
			}
		}
	})
}
