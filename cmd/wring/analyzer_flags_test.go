package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadWithAnalyzers(t *testing.T) {
	ev := filepath.Join(t.TempDir(), "events.json")
	var out, errw bytes.Buffer
	code := run([]string{"read", "--analyzer", "http", "--analyzer", "dns", "--events", ev, "-w", os.DevNull}, nil, &out, &errw)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errw.String())
	}
	b, err := os.ReadFile(ev)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, l := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatalf("bad event %q: %v", l, err)
		}
		kinds[m["analyzer"].(string)+"/"+m["event"].(string)]++
	}
	for _, k := range []string{"http/request", "http/response", "dns/query", "dns/response"} {
		if kinds[k] == 0 {
			t.Errorf("no %s events: %v", k, kinds)
		}
	}
	for _, want := range []string{"analyzer http: 500 packets", "requests=", "analyzer dns:", "queries="} {
		if !strings.Contains(errw.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errw.String())
		}
	}
	// The counters agree with the events.
	if !strings.Contains(errw.String(), "requests="+itoa(kinds["http/request"])) {
		t.Errorf("requests counter does not match %d request events:\n%s", kinds["http/request"], errw.String())
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestReadWithBadAnalyzer(t *testing.T) {
	for _, args := range [][]string{
		{"read", "--analyzer", "nope", "-w", os.DevNull},
		{"read", "--analyzer", "http", "--analyzer-config", "dns:a=b", "-w", os.DevNull},
		{"read", "--analyzer", "http", "--fail-open", "--fail-closed", "-w", os.DevNull},
	} {
		var out, errw bytes.Buffer
		if code := run(args, nil, &out, &errw); code == 0 {
			t.Errorf("%v: exit 0", args)
		} else if errw.Len() == 0 {
			t.Errorf("%v: no message", args)
		}
	}
}

func TestAnalyzersCommand(t *testing.T) {
	var out, errw bytes.Buffer
	if code := run([]string{"analyzers"}, nil, &out, &errw); code != 0 {
		t.Fatalf("exit %d: %s", code, errw.String())
	}
	for _, want := range []string{"http ", "method.GET", "dns ", "rcode.NXDOMAIN"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// TestAnalyzerConfigErrors: each bad analyzer configuration of issue 13,
// once silently replaced by defaults or ignored, is an error (exit 2)
// whose one message names the analyzer, the key and the value.
func TestAnalyzerConfigErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"--analyzer", "flow", "--analyzer-config", "=x"}, []string{"analyzer flow", `key ""`, `value "x"`}},
		{[]string{"--analyzer", "flow", "--analyzer-config", "idle=abc"}, []string{"analyzer flow", "key idle", `value "abc"`, "1 to 1000000"}},
		{[]string{"--analyzer", "flow", "--analyzer-config", "bogus=1"}, []string{"analyzer flow", `unknown key "bogus"`, `value "1"`, "idle, active, max_flows"}},
		{[]string{"--analyzer", "flow", "--analyzer-config", "max_flows=0"}, []string{"analyzer flow", "key max_flows", `value "0"`, "1 to 65536"}},
		{[]string{"--analyzer", "flow", "--analyzer-config", "flow:max_flows=70000"}, []string{"analyzer flow", "key max_flows", `value "70000"`}},
		{[]string{"--analyzer", "flow", "--analyzer-config", "idle=5", "--analyzer-config", "idle=6"}, []string{"analyzer flow", "key idle given twice", `"5"`, `"6"`}},
		{[]string{"--analyzer", "quic", "--analyzer-config", "bogus=1"}, []string{"analyzer quic", `unknown key "bogus"`, `value "1"`, "takes no configuration"}},
		{[]string{"--analyzer", "http", "--analyzer", "dns", "--analyzer-config", "idle=5"}, []string{"analyzer http", `unknown key "idle"`, `value "5"`}},
		{[]string{"--analyzer", "flow", "--analyzer-config", "tls:idle=5"}, []string{`no analyzer named "tls"`}},
		{[]string{"--analyzer", ""}, []string{`--analyzer ""`, "empty analyzer name"}},
		{[]string{"--analyzer-config", "idle=3"}, []string{"--analyzer-config idle=3", "no --analyzer"}},
		{[]string{"--events", "e.json"}, []string{"--events needs --analyzer"}},
		{[]string{"--json", "-w", "x.pcap"}, []string{"--json", "-w", "give one of them"}},
		{[]string{"--batch", "0"}, []string{"--batch 0", "1 to 4096"}},
	} {
		var out, errw bytes.Buffer
		args := append([]string{"read", "-w", os.DevNull}, c.args...)
		if c.args[0] == "--json" {
			args = append([]string{"read"}, c.args...)
		}
		code := run(args, nil, &out, &errw)
		msgs := errorLines(errw.String())
		if code != 2 || len(msgs) != 1 {
			t.Errorf("%v: exit %d, messages %q; want exit 2 and one message", c.args, code, msgs)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(msgs[0], w) {
				t.Errorf("%v: %q lacks %q", c.args, msgs[0], w)
			}
		}
	}
	// A good configuration still runs, and reaches the analyzer.
	ev := filepath.Join(t.TempDir(), "flows.json")
	var out, errw bytes.Buffer
	if code := run([]string{"read", "-w", os.DevNull, "--analyzer", "flow", "--analyzer-config", "flow:max_flows=1", "--events", ev}, nil, &out, &errw); code != 0 {
		t.Fatalf("good configuration: exit %d: %s", code, errw.String())
	}
	if !strings.Contains(errw.String(), "exported.evicted=") {
		t.Errorf("max_flows=1 did not reach the analyzer (no evictions):\n%s", errw.String())
	}
}
