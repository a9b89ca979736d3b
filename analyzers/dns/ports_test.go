package main

import (
	"slices"
	"testing"
)

func TestParsePorts(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []uint16
	}{
		{"8053", []uint16{8053}},
		{"8053,5300,1", []uint16{8053, 5300, 1}},
		{"65535", []uint16{65535}},
		{"", nil},
		{"0", nil},
		{"65536", nil},
		{"8053,", nil},
		{",8053", nil},
		{"80 53", nil},
		{"+53", nil},
		{"000053", nil},
		{"1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17", nil},
	} {
		got, err := parsePorts(c.in)
		if c.want == nil {
			if err == nil {
				t.Errorf("%q: accepted as %v", c.in, got)
			}
			continue
		}
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("%q: %v %v, want %v", c.in, got, err, c.want)
		}
	}
}

func FuzzParsePorts(f *testing.F) {
	f.Add("8053,5300")
	f.Add("1,65535")
	f.Fuzz(func(t *testing.T, s string) {
		ps, err := parsePorts(s)
		if err == nil && (len(ps) == 0 || len(ps) > maxPorts || slices.Contains(ps, 0)) {
			t.Fatalf("%q: %v", s, ps)
		}
	})
}
