// Package bundled embeds the analyzers that ship with wring, built from
// analyzers/http, analyzers/dns, analyzers/tls, analyzers/flow,
// analyzers/quic and analyzers/sip. The .wasm files
// are committed; `go generate ./analyzers/bundled` rebuilds them, and a test
// checks that they match their sources.
package bundled

import (
	"embed"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
)

//go:generate go run ./gen -o .

//go:embed *.wasm TOOLCHAIN
var files embed.FS

// Analyzer describes one bundled analyzer.
type Analyzer struct {
	Name        string
	Description string
	// Config declares every configuration key the analyzer reads (none
	// for most): the host refuses a key not declared here, or a value
	// outside the key's range, instead of letting the guest fall back to
	// its default without a word.
	Config []ConfigKey
}

// ConfigKey is one configuration key an analyzer reads: key=N with N a
// decimal integer from Min to Max, or, when List is set, key=N,N,... with
// one to MaxList such numbers; or, when Values is set, one of those words.
type ConfigKey struct {
	Name     string
	Help     string
	Min, Max int64
	List     bool
	Values   []string
}

// MaxList bounds the numbers in one list-valued key.
const MaxList = 16

// Check reports whether v is a valid value of the key.
func (k ConfigKey) Check(v string) error {
	if len(k.Values) > 0 {
		for _, w := range k.Values {
			if v == w {
				return nil
			}
		}
		return fmt.Errorf("want one of %s (%s)", strings.Join(k.Values, ", "), k.Help)
	}
	if !k.List {
		return k.checkOne(v)
	}
	items := strings.Split(v, ",")
	if len(items) > MaxList {
		return fmt.Errorf("want at most %d numbers, got %d (%s)", MaxList, len(items), k.Help)
	}
	for i, it := range items {
		if err := k.checkOne(it); err != nil {
			return fmt.Errorf("item %d %q: %w", i+1, it, err)
		}
	}
	return nil
}

func (k ConfigKey) checkOne(v string) error {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || v[0] == '+' || n < k.Min || n > k.Max {
		if k.List {
			return fmt.Errorf("want comma-separated whole numbers from %d to %d (%s)", k.Min, k.Max, k.Help)
		}
		return fmt.Errorf("want a whole number from %d to %d (%s)", k.Min, k.Max, k.Help)
	}
	return nil
}

var all = []Analyzer{
	{Name: "http", Description: "HTTP/1.x requests (method, host, URI) and responses (status, content length, the request answered) on any TCP port, from reassembled TCP streams (streams=0: one packet at a time); counters per method and status class",
		// analyzers/http/main.go's Init reads it.
		Config: []ConfigKey{
			{Name: "streams", Help: "1 (default): read reassembled TCP streams; 0: one packet at a time", Min: 0, Max: 1},
		}},
	{Name: "dns", Description: "DNS queries (name, type) and responses (rcode, answers) over UDP 53/5353/5355 and TCP 53 (and ports=...), TCP from reassembled streams (streams=0: one segment at a time); counters per rcode and query type",
		// analyzers/dns/main.go's Init reads them.
		Config: []ConfigKey{
			{Name: "ports", Help: "more ports, UDP and TCP, that carry DNS, e.g. 8053,5300 (at most 15 with streams=1)", Min: 1, Max: 65535, List: true},
			{Name: "streams", Help: "1 (default): DNS over TCP from reassembled streams; 0: the message at the start of each segment", Min: 0, Max: 1},
		}},
	{Name: "tls", Description: "TLS ClientHello (SNI, ALPN, versions offered) and ServerHello (version, cipher chosen) from reassembled TCP streams on any port (streams=0: per packet, ClientHellos only); counters per version",
		// analyzers/tls/main.go's Init reads these two.
		Config: []ConfigKey{
			{Name: "streams", Help: "1: read reassembled TCP streams (the default), 0: one packet at a time", Min: 0, Max: 1},
			{Name: "max_flows", Help: "TCP flows followed at once in stream mode (default 65536)", Min: 1, Max: 1 << 18},
		}},
	{Name: "flow", Description: "flow statistics: packets, bytes, first and last seen per flow, exported when a flow ends or times out",
		// analyzers/flow/main.go's Init reads these five.
		Config: []ConfigKey{
			{Name: "idle", Help: "seconds a flow may be idle before it is exported; default 30", Min: 1, Max: 1_000_000},
			{Name: "active", Help: "seconds a flow may stay open before it is exported; default 300", Min: 1, Max: 1_000_000},
			{Name: "max_flows", Help: "flows in the table; default and most 65536", Min: 1, Max: 65536},
			{Name: "linger", Help: "seconds a TCP flow ended by FINs or a RST waits for its last packets; default 1, 0 exports at once", Min: 0, Max: 3600},
			{Name: "tunnels", Help: "outer: a tunnelled packet counts in its outer flow (default); inner: in its inner flow, with the tunnel type and id; both: in both, as tshark's conversations count each layer", Values: []string{"outer", "inner", "both"}},
		}},
	{Name: "sip", Description: "SIP over UDP: requests and responses (call id, from, to, method, status, SDP media); opens capture rules for the RTP and RTCP of answered calls and removes them at BYE (needs --grant sip:rules)",
		// analyzers/sip/main.go's Init reads these two.
		Config: []ConfigKey{
			{Name: "idle", Help: "seconds a call's media flow may be idle before its rule lapses; default 60", Min: 1, Max: 86400},
			{Name: "max_calls", Help: "dialogs tracked; default 4096", Min: 1, Max: 65536},
		}},
	{Name: "quic", Description: "QUIC v1/v2 client Initial packets decrypted and their ClientHello reassembled: server name (SNI), ALPN, TLS versions, connection ids; counters for what could not be decrypted or was given up"},
}

// Describe returns the description of the bundled analyzer name.
func Describe(name string) (Analyzer, bool) {
	for _, a := range all {
		if a.Name == name {
			return a, true
		}
	}
	return Analyzer{}, false
}

// List returns the bundled analyzers, in a fixed order.
func List() []Analyzer {
	var out []Analyzer
	for _, a := range all {
		if _, err := fs.Stat(files, a.Name+".wasm"); err == nil {
			out = append(out, a)
		}
	}
	return out
}

// Module returns the .wasm binary of a bundled analyzer.
func Module(name string) ([]byte, error) {
	b, err := files.ReadFile(name + ".wasm")
	if err != nil {
		return nil, fmt.Errorf("no bundled analyzer %q", name)
	}
	return b, nil
}

// Toolchain returns the Go version the Go analyzers were built with.
func Toolchain() string {
	b, _ := files.ReadFile("TOOLCHAIN")
	return string(b)
}
