package rules

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseTextExample(t *testing.T) {
	src := `# web servers
rule 1 priority 10 proto tcp dst 10.0.0.0/8 dport 80-90 either -> bypass after 10
rule 2 priority 5 ip 6 proto udp src 2001:db8::/32 -> sample 100 flow
rule 3 vlan 7 queue 2 ethertype 0x0806 -> drop   # ARP on vlan 7
rule 4 priority 1 proto tcp flags S/SA -> tag 42
rule 5 priority 9 proto 47 -> forward gre.sink
flow 6 proto udp src 10.1.1.1 sport 5060 dst 10.2.2.2 dport 5062 vlan 3 both idle 30s -> capture

flow 7 proto icmp src 2001:db8::1 dst 2001:db8::2 -> pass
`
	f, err := ParseText([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Rules) != 5 || len(f.Flows) != 2 {
		t.Fatalf("got %d rules, %d flows", len(f.Rules), len(f.Flows))
	}
	want := `rule 1 priority 10 proto tcp dst 10.0.0.0/8 dport 80-90 either -> bypass after 10
rule 2 priority 5 ip 6 proto udp src 2001:db8::/32 -> sample 100 flow
rule 3 priority 0 queue 2 vlan 7 ethertype 0x0806 -> drop
rule 4 priority 1 proto tcp flags S/SA -> tag 42
rule 5 priority 9 proto 47 -> forward gre.sink
flow 6 proto udp src 10.1.1.1 sport 5060 dst 10.2.2.2 dport 5062 vlan 3 both idle 30s -> capture
flow 7 proto icmp src 2001:db8::1 dst 2001:db8::2 -> pass
`
	if got := string(f.Text()); got != want {
		t.Errorf("normalized:\n%s\nwant:\n%s", got, want)
	}
	if f.Rules[3].Match.Flags != 0x02 || f.Rules[3].Match.FlagMask != 0x12 {
		t.Errorf("flags S/SA = %#x/%#x", f.Rules[3].Match.Flags, f.Rules[3].Match.FlagMask)
	}
}

func TestParseTextErrors(t *testing.T) {
	cases := []struct {
		src       string
		line, col int
		msg       string
	}{
		{"rule 1 -> capture\nrule x -> drop", 2, 6, `an id: "x" is not a number`},
		{"rule 1 proto tcp dport 80 -> capture\n\nrule 2 sport 80 -> drop", 3, 1, "ports need proto tcp, udp or sctp"},
		{"rule 1 src 10.0.0.1/8 -> drop", 1, 12, "host bits set"},
		{"rule 1 src 10.0.0.0/8 dst ::/0 -> drop", 1, 1, "is IPv6 but the rule is IPv4"},
		{"rule 1 proto tcp dport 90-80 -> drop", 1, 24, "the range is empty"},
		{"rule 1 proto tcp dport 80-70000 -> drop", 1, 27, "70000 is over 65535"},
		{"rule 1 vlan 4096 -> drop", 1, 13, "over 4095"},
		{"rule 1 -> sample 0 packet", 1, 18, "N must be at least 1"},
		{"rule 1 -> sample 5 bytes", 1, 20, "want packet or flow"},
		{"rule 1 -> drop now", 1, 16, `unexpected "now"`},
		{"rule 1 -> forward 9x", 1, 19, "must start with a letter"},
		{"rule 1 proto tcp", 1, 17, "expected a match or -> at the end of the line"},
		{"rule 1 proto tcp proto udp -> drop", 1, 18, "proto is given twice"},
		{"rule 1 -> drop\nrule 1 -> pass", 2, 6, "id 1 is already used on line 1"},
		{"rule 1 -> drop\nflow 1 proto udp src 1.1.1.1 sport 1 dst 2.2.2.2 dport 2 -> pass", 2, 6, "already used"},
		{"rulez 1 -> drop", 1, 1, "expected rule or flow"},
		{"flow 1 proto udp src 1.1.1.1 dst 2.2.2.2 -> drop", 1, 42, "needs sport and dport"},
		{"flow 1 proto udp src 1.1.1.1 sport 1 dst ::2 dport 2 -> drop", 1, 1, "different IP versions"},
		{"flow 1 proto udp src 1.1.1.1 sport 1 dst 2.2.2.2 dport 2 idle 5 -> drop", 1, 63, "want a duration"},
		{"rule 1 proto tcp flags X/S -> drop", 1, 24, "flags are letters"},
		{"rule 1 proto tcp flags S/F -> drop", 1, 1, "value bits outside the mask"},
		{"rule 1 proto udp flags S/S -> drop", 1, 1, "flags need proto tcp"},
		{"rule 1 src ::ffff:1.2.3.4 -> drop", 1, 12, "IPv4-mapped"},
		{"rule 1 -> bypass before 3", 1, 18, "expected after"},
		{"rule 1 ip 5 -> drop", 1, 11, "want 4 or 6"},
		{"rule 1 " + strings.Repeat("x", MaxLine), 1, MaxLine + 1, "at most 4096"},
	}
	for _, c := range cases {
		_, err := ParseText([]byte(c.src))
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("%q: error %v, want a *SyntaxError", c.src, err)
			continue
		}
		if se.Line != c.line || se.Col != c.col || !strings.Contains(se.Msg, c.msg) {
			t.Errorf("%q:\n got line %d col %d: %s\nwant line %d col %d: ...%s...", c.src, se.Line, se.Col, se.Msg, c.line, c.col, c.msg)
		}
	}
}

func TestParseTextRuleEntryLimit(t *testing.T) {
	// 1-65534 is 30 prefixes: 30*30 per direction, twice with either.
	_, err := ParseText([]byte("rule 1 proto tcp sport 1-65534 dport 1-65534 either -> drop"))
	if !errors.Is(err, ErrLimit) || !strings.Contains(err.Error(), "table entries") {
		t.Fatalf("err %v, want the entry limit", err)
	}
}

// TestRoundTrip is the property test: random rule sets survive
// text -> parse and JSON -> parse unchanged, and the normalized text is a
// fixed point.
func TestRoundTrip(t *testing.T) {
	for seed := range uint64(50) {
		g := newGen(seed+100, 12)
		f := randomFile(g, 40, 20)
		if err := f.Check(); err != nil {
			t.Fatalf("seed %d: generated set invalid: %v", seed, err)
		}
		txt := f.Text()
		f2, err := ParseText(txt)
		if err != nil {
			t.Fatalf("seed %d: %v\n%s", seed, err, txt)
		}
		if !reflect.DeepEqual(f, f2) {
			t.Fatalf("seed %d: text round trip differs\n%s\n%s", seed, txt, f2.Text())
		}
		if !bytes.Equal(f2.Text(), txt) {
			t.Fatalf("seed %d: normalized text is not a fixed point", seed)
		}
		js, err := f.JSON()
		if err != nil {
			t.Fatal(err)
		}
		f3, err := ParseJSON(js)
		if err != nil {
			t.Fatalf("seed %d: %v\n%s", seed, err, js)
		}
		if !reflect.DeepEqual(f, f3) {
			t.Fatalf("seed %d: JSON round trip differs\n%s", seed, js)
		}
	}
}

func TestParseJSONErrors(t *testing.T) {
	cases := []struct{ src, msg string }{
		{`{"rules":[{"id":1,"action":"drop"}]`, "offset"},
		{`{"rules":[{"id":1,"vlan":70000,"action":"drop"}]}`, "does not fit uint16"},
		{`{"rules":[{"id":1,"color":"red","action":"drop"}]}`, "unknown field"},
		{`{"rules":[{"id":1,"action":"drop"},{"id":2,"sport":"80","action":"drop"}]}`, "rules[1]: rule 2: ports need proto"},
		{`{"rules":[{"id":1,"action":"sample 3"}]}`, `rules[0]: action "sample 3": expected packet or flow`},
		{`{"flows":[{"id":1,"proto":17,"src":"1.1.1.1","dst":"2.2.2.2:1","action":"drop"}]}`, "flows[0]: src"},
		{`{"rules":[{"id":1,"action":"drop"}],"flows":[{"id":1,"proto":17,"src":"1.1.1.1:1","dst":"2.2.2.2:1","action":"drop"}]}`, "the id is used twice"},
		{`{"rules":[]} {}`, "data after"},
	}
	for _, c := range cases {
		_, err := ParseJSON([]byte(c.src))
		if err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: error %v, want ...%s...", c.src, err, c.msg)
		}
	}
}

func FuzzParseText(f *testing.F) {
	f.Add([]byte("rule 1 priority 10 proto tcp dst 10.0.0.0/8 dport 80-90 either -> bypass after 10\n"))
	f.Add([]byte("rule 2 ip 6 proto udp src 2001:db8::/32 -> sample 100 flow # x\nrule 3 vlan 7 -> drop"))
	f.Add([]byte("flow 6 proto udp src 10.1.1.1 sport 5060 dst 10.2.2.2 dport 5062 vlan 3 both idle 30s -> capture"))
	f.Add([]byte("rule 4 proto tcp flags S/SA -> tag 42\nrule 5 -> forward a"))
	f.Fuzz(func(t *testing.T, src []byte) {
		file, err := ParseText(src)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || se.Line < 1 || se.Col < 1 {
				t.Fatalf("error without a position: %v", err)
			}
			return
		}
		if err := file.Check(); err != nil {
			t.Fatalf("parsed set fails Check: %v", err)
		}
		again, err := ParseText(file.Text())
		if err != nil {
			t.Fatalf("normalized text does not parse: %v\n%s", err, file.Text())
		}
		if !reflect.DeepEqual(file, again) {
			t.Fatalf("round trip differs:\n%s\n%s", file.Text(), again.Text())
		}
		c := New()
		if err := c.Load(file); err != nil && !errors.Is(err, ErrLimit) {
			t.Fatalf("a checked set does not load: %v", err)
		}
	})
}

func FuzzParseJSON(f *testing.F) {
	f.Add([]byte(`{"rules":[{"id":1,"priority":3,"proto":6,"dst":"10.0.0.0/8","dport":"80-90","either":true,"action":"bypass after 10"}]}`))
	f.Add([]byte(`{"flows":[{"id":2,"proto":17,"src":"[2001:db8::1]:5060","dst":"[2001:db8::2]:5060","vlan":3,"both":true,"idle":"30s","action":"tag 7"}]}`))
	f.Add([]byte(`{"rules":[{"id":1,"proto":6,"flags":"S/SA","queue":1,"ethertype":2048,"ip":4,"action":"forward x"}]}`))
	f.Fuzz(func(t *testing.T, src []byte) {
		file, err := ParseJSON(src)
		if err != nil {
			return
		}
		js, err := file.JSON()
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseJSON(js)
		if err != nil {
			t.Fatalf("formatted JSON does not parse: %v\n%s", err, js)
		}
		if !reflect.DeepEqual(file, again) {
			t.Fatalf("round trip differs:\n%s", js)
		}
		if _, err := ParseText(file.Text()); err != nil {
			t.Fatalf("the text form does not parse: %v\n%s", err, file.Text())
		}
	})
}
