package optimize_test

import (
	"testing"

	"github.com/wringcap/wring/filters/expr"
	"github.com/wringcap/wring/filters/expr/optimize"
	"github.com/wringcap/wring/internal/progen"
	"github.com/wringcap/wring/spec"
)

// BenchmarkOptimize measures optimize.Program on compiled expressions and
// on a long random program.
func BenchmarkOptimize(b *testing.B) {
	cases := []struct{ name, expr string }{
		{"tcp_port_80", "tcp port 80"},
		{"tcp_port_80_and_host", "tcp port 80 and host 192.0.2.1"},
		{"port_80_or_443_vlan", "vlan and (port 80 or port 443)"},
		{"wlan_host", "wlan host 12:34:56:78:9a:bc"},
		{"many_hosts", "host 10.0.0.1 or host 10.0.0.2 or host 10.0.0.3 or host 10.0.0.4 or net 192.168.0.0/16 or port 53 or port 123 or icmp or arp"},
	}
	for _, c := range cases {
		lt := spec.LinkEthernet
		if c.name == "wlan_host" {
			lt = spec.LinkIEEE802_11
		}
		p, err := expr.Compile(c.expr, expr.Options{LinkType: lt})
		if err != nil {
			b.Fatalf("%s: %v", c.expr, err)
		}
		b.Run(c.name+"/wring", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				optimize.Program(p)
			}
		})
	}
	g := progen.New(3, progen.Config{Mode: progen.Valid, NoLong: true, MaxLen: 4000})
	var long spec.Program
	for len(long) < 2000 {
		long = g.Program()
	}
	b.Run("random_long/wring", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			optimize.Program(long)
		}
	})
}
