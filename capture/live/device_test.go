package live

import (
	"sort"
	"testing"
)

func TestParseDevice(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Device
		ok   bool
	}{
		{"eth0", Device{"eth0", -1}, true},
		{"eth0@2", Device{"eth0", 2}, true},
		{"eth0@x", Device{}, false},
		{"@1", Device{}, false},
		{"averyveryverylongname", Device{}, false},
	} {
		got, err := ParseDevice(c.in)
		if (err == nil) != c.ok || (c.ok && got != c.want) {
			t.Errorf("ParseDevice(%q) = %v, %v", c.in, got, err)
		}
	}
	keys := []string{}
	for _, m := range []string{"auto", "xdp", "packet"} {
		if _, err := ParseMode(m); err != nil {
			keys = append(keys, m)
		}
	}
	sort.Strings(keys)
	if len(keys) > 0 {
		t.Errorf("modes not parsed: %v", keys)
	}
	if _, err := ParseMode("dpdk"); err == nil {
		t.Error("ParseMode(dpdk) succeeded")
	}
}
