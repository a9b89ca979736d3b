// Package bundled embeds the analyzers that ship with wring, built from
// analyzers/http, analyzers/dns, analyzers/tls, analyzers/flow and
// analyzers/quic. The .wasm files
// are committed; `go generate ./analyzers/bundled` rebuilds them, and a test
// checks that they match their sources.
package bundled

import (
	"embed"
	"fmt"
	"io/fs"
	"strconv"
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
// decimal integer from Min to Max.
type ConfigKey struct {
	Name     string
	Help     string
	Min, Max int64
}

// Check reports whether v is a valid value of the key.
func (k ConfigKey) Check(v string) error {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || v[0] == '+' || n < k.Min || n > k.Max {
		return fmt.Errorf("want a whole number from %d to %d (%s)", k.Min, k.Max, k.Help)
	}
	return nil
}

var all = []Analyzer{
	{Name: "http", Description: "HTTP/1.x requests (method, host, URI) and responses (status, content length); counters per method and status class"},
	{Name: "dns", Description: "DNS queries (name, type) and responses (rcode, answers) over UDP 53/5353/5355 and TCP 53; counters per rcode and query type"},
	{Name: "tls", Description: "TLS ClientHello server names (SNI) and versions; counters per record version"},
	{Name: "flow", Description: "flow statistics: packets, bytes, first and last seen per flow, exported when a flow ends or times out",
		// analyzers/flow/main.go's Init reads these three.
		Config: []ConfigKey{
			{Name: "idle", Help: "seconds a flow may be idle before it is exported; default 30", Min: 1, Max: 1_000_000},
			{Name: "active", Help: "seconds a flow may stay open before it is exported; default 300", Min: 1, Max: 1_000_000},
			{Name: "max_flows", Help: "flows in the table; default and most 65536", Min: 1, Max: 65536},
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
