package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// TestDNSPortsConfig: the dns analyzer's list-valued ports key is checked
// item by item (each a port from 1 to 65535, at most 16 of them) and a
// good list runs.
func TestDNSPortsConfig(t *testing.T) {
	for _, c := range []struct {
		val  string
		want []string
	}{
		{"0", []string{"analyzer dns", "key ports", `value "0"`, `item 1 "0"`, "1 to 65535"}},
		{"8053,x", []string{"analyzer dns", `item 2 "x"`}},
		{"8053,", []string{"analyzer dns", `item 2 ""`}},
		{"1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17", []string{"analyzer dns", "at most 16 numbers, got 17"}},
	} {
		var out, errw bytes.Buffer
		code := run([]string{"read", "-w", os.DevNull, "--analyzer", "dns", "--analyzer-config", "dns:ports=" + c.val}, nil, &out, &errw)
		msgs := errorLines(errw.String())
		if code != 2 || len(msgs) != 1 {
			t.Errorf("ports=%s: exit %d, messages %q; want exit 2 and one message", c.val, code, msgs)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(msgs[0], w) {
				t.Errorf("ports=%s: %q lacks %q", c.val, msgs[0], w)
			}
		}
	}
	var out, errw bytes.Buffer
	if code := run([]string{"read", "-w", os.DevNull, "--analyzer", "dns", "--analyzer-config", "dns:ports=8053,5300"}, nil, &out, &errw); code != 0 {
		t.Fatalf("ports=8053,5300: exit %d: %s", code, errw.String())
	}
}
