// Package bundled embeds the analyzers that ship with wring, built from
// analyzers/http, analyzers/dns, analyzers/tls and analyzers/flow. The .wasm files
// are committed; `go generate ./analyzers/bundled` rebuilds them, and a test
// checks that they match their sources.
package bundled

import (
	"embed"
	"fmt"
	"io/fs"
)

//go:generate go run ./gen -o .

//go:embed *.wasm TOOLCHAIN
var files embed.FS

// Analyzer describes one bundled analyzer.
type Analyzer struct {
	Name        string
	Description string
}

var all = []Analyzer{
	{"http", "HTTP/1.x requests (method, host, URI) and responses (status, content length); counters per method and status class"},
	{"dns", "DNS queries (name, type) and responses (rcode, answers) over UDP 53/5353/5355 and TCP 53; counters per rcode and query type"},
	{"tls", "TLS ClientHello server names (SNI) and versions; counters per record version"},
	{"flow", "flow statistics: packets, bytes, first and last seen per flow, exported when a flow ends or times out"},
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
