// Package benchdata holds the shared benchmark and test fixtures: the
// benchmark filters, compiled by libpcap (tcpdump -ddd) and committed, and a
// warm working set of about 4096 Ethernet packets drawn from the corpus
// captures and topped up with generated traffic so every filter has both
// matches and non-matches.
package benchdata

import (
	"embed"
	"fmt"

	"github.com/wringcap/wring/spec"
)

//go:embed filters/*.ddd
var filterFiles embed.FS

// Filter is one benchmark filter: a name usable in benchmark names
// (Benchmark<Topic>/<Name>/<engine>), the pcap expression and the program
// Debian's tcpdump compiles from it for EN10MB.
type Filter struct {
	Name    string
	Expr    string
	Program spec.Program
}

// filterExprs are the benchmark filters of issue 2 (acceptance 5), in
// order. Their programs live in filters/<name>.ddd, made by
// `tcpdump -ddd -y EN10MB <expr>` (see TestFiltersMatchTcpdump -update).
var filterExprs = []struct{ name, expr string }{
	{"tcp_port_80", "tcp port 80"},
	{"udp_and_port_53", "udp and port 53"},
	{"host_and_tcp_or_udp", "host 192.0.2.7 and (tcp or udp)"},
	{"vlan_tcp_syn", "vlan and tcp[tcpflags] & tcp-syn != 0"},
	{"ip6_tcp_dst_port_443", "ip6 and tcp dst port 443"},
}

// Filters returns the benchmark filters. The programs are parsed from the
// embedded -ddd files; a fresh slice is returned on every call.
func Filters() []Filter {
	out := make([]Filter, 0, len(filterExprs))
	for _, f := range filterExprs {
		src, err := filterFiles.ReadFile("filters/" + f.name + ".ddd")
		if err != nil {
			panic(fmt.Sprintf("BUG: benchdata: embedded filter %s missing: %v", f.name, err))
		}
		p, err := spec.ParseText(src, spec.TextDecimal)
		if err != nil {
			panic(fmt.Sprintf("BUG: benchdata: embedded filter %s: %v", f.name, err))
		}
		out = append(out, Filter{Name: f.name, Expr: f.expr, Program: p})
	}
	return out
}

// FilterPath returns the path, relative to this package's directory, of the
// -ddd file of the named filter.
func FilterPath(name string) string { return "filters/" + name + ".ddd" }
