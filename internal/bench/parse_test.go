package main

import (
	"strings"
	"testing"
)

func TestParsePivot(t *testing.T) {
	out := []byte(`goos: linux
BenchmarkFilter/tcp_port_80/vm-2     1000   40.0 ns/op   0 B/op   0 allocs/op
BenchmarkFilter/tcp_port_80/vm-2     1000   44.0 ns/op   0 B/op   0 allocs/op
BenchmarkFilter/tcp_port_80/vm-2     1000   90.0 ns/op   0 B/op   0 allocs/op
BenchmarkFilter/tcp_port_80/xnet-2   1000   100 ns/op   48 B/op   1 allocs/op
PASS
`)
	rs := Parse(out)
	if v, ok := rs.Get("BenchmarkFilter/tcp_port_80/vm", "ns/op"); !ok || v != 44 {
		t.Fatalf("median ns/op = %v %v, want 44", v, ok)
	}
	rows, cols := rs.Pivot("BenchmarkFilter")
	if len(rows) != 1 || len(cols) != 2 {
		t.Fatalf("pivot rows %v cols %v", rows, cols)
	}
	table := pivotTable(rs, "BenchmarkFilter", "ns/pkt", []string{"vm", "xnet"}, [][2]string{{"vm", "xnet"}})
	if !strings.Contains(table, "| `tcp port 80` | 44.0 | 100 | 2.3x |") {
		t.Fatalf("unexpected table:\n%s", table)
	}
}
