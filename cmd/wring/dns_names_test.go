package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestDNSNames(t *testing.T) {
	in := `{"analyzer":"dns","event":"query","ts":1,"name":"a\",\"type\":1","type":28,"id":9}` + "\n" +
		`{"analyzer":"dns","event":"response","ts":2,"id":1,"rcode":3,"name":"x","type":65535,"answers":0}` + "\n" +
		`{"analyzer":"mine","event":"query","type":1}` + "\n"
	want := `{"analyzer":"dns","event":"query","ts":1,"name":"a\",\"type\":1","type":28,"type_name":"AAAA","id":9}` + "\n" +
		`{"analyzer":"dns","event":"response","ts":2,"id":1,"rcode":3,"rcode_name":"NXDOMAIN","name":"x","type":65535,"answers":0}` + "\n" +
		`{"analyzer":"mine","event":"query","type":1}` + "\n"
	var out bytes.Buffer
	w := newDNSNames(&out, []string{"dns"})
	// Split the input anywhere: lines are rewritten once whole.
	for _, part := range []string{in[:10], in[10:130], in[130:]} {
		if n, err := w.Write([]byte(part)); n != len(part) || err != nil {
			t.Fatalf("write: %d %v", n, err)
		}
	}
	if out.String() != want {
		t.Errorf("got\n%swant\n%s", out.String(), want)
	}
}

// FuzzDNSNames: whatever a guest puts in its events, the rewrite never
// panics, keeps the bytes it does not add, and keeps a valid JSON line
// valid.
func FuzzDNSNames(f *testing.F) {
	f.Add(`{"analyzer":"dns","event":"query","ts":1,"name":"example.com","type":28,"id":9}`)
	f.Add(`{"analyzer":"dns","event":"response","rcode":99999999999999999999999,"type":1`)
	f.Add(`{"analyzer":"dns",,"type":,"rcode":`)
	f.Fuzz(func(t *testing.T, line string) {
		line = strings.ReplaceAll(line, "\n", " ")
		var out bytes.Buffer
		w := newDNSNames(&out, []string{"dns"})
		if _, err := w.Write([]byte(line + "\n")); err != nil {
			t.Fatal(err)
		}
		got := out.String()
		for _, n := range append(mapValues(dnsTypeNames), mapValues(dnsRcodeNames)...) {
			got = strings.Replace(got, `,"type_name":"`+n+`"`, "", 1)
			got = strings.Replace(got, `,"rcode_name":"`+n+`"`, "", 1)
		}
		if got != line+"\n" {
			t.Fatalf("rewrite changed more than it added:\n%q\n%q", line, out.String())
		}
		if json.Valid([]byte(line)) && !json.Valid(bytes.TrimSpace(out.Bytes())) {
			t.Fatalf("valid line became invalid: %q -> %q", line, out.String())
		}
	})
}

func mapValues(m map[uint64]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
