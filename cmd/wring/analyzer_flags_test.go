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
