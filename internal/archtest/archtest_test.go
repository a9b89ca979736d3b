// Package archtest checks that the import graph follows the package table of
// DESIGN.md: a wrong arrow fails the build's tests.
package archtest

import (
	"os/exec"
	"path"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/wringcap/wring"

// rule says which imports a package (and, when prefix is set, its
// subpackages) may have beyond the standard library. Entries are module
// paths relative to the repository ("spec", "verifier") or third-party
// module prefixes ("github.com/cilium/ebpf").
type rule struct {
	pkg    string
	prefix bool
	allow  []string
}

// rules is DESIGN.md's package table. The first matching rule wins, so more
// specific packages come first. A rule that no package matches fails the
// test: the table lists what exists, and a package gets its row when it is
// added.
var rules = []rule{
	{pkg: "spec", allow: nil},
	{pkg: "capture/packet", allow: []string{"spec"}},
	{pkg: "verifier", allow: []string{"spec"}},
	{pkg: "vm", allow: []string{"spec", "verifier"}},
	{pkg: "jit/ebpf", prefix: true, allow: []string{"spec", "verifier", "github.com/cilium/ebpf"}},
	{pkg: "jit", allow: []string{"spec", "verifier"}},
	{pkg: "filters/expr", prefix: true, allow: []string{"spec", "filters/expr"}},
	{pkg: "filters/rules", allow: []string{"spec"}},
	{pkg: "analyzers/bundled", allow: nil},
	{pkg: "analyzers", prefix: true, allow: []string{"wasm/guest"}},
	{pkg: "wasm/guest", prefix: true, allow: []string{"wasm/guest"}},
	{pkg: "wasm", prefix: true, allow: []string{"spec", "capture/packet", "capture/stream", "wasm", "github.com/tetratelabs/wazero"}},
	// The kernel half of the rules: filters/rules' tables in BPF maps
	// and the classification block that reads them.
	{pkg: "capture/rulemaps", allow: []string{"spec", "filters/rules", "github.com/cilium/ebpf"}},
	// capture runs filters through its own interface: the engines (vm,
	// jit) are wired in by cmd/wring. jit/ebpf is the kernel side of the
	// XDP and AF_XDP sources; raw syscalls go through internal/linux.
	{pkg: "capture", prefix: true, allow: []string{"spec", "capture", "filters", "verifier", "jit/ebpf", "github.com/cilium/ebpf", "internal/linux", "github.com/gopacket/gopacket", "internal/trafficgen"}},
	// Exporters take plain records of their own: export/ipfix needs only
	// the standard library.
	{pkg: "export/ipfix", allow: []string{"spec", "capture/packet"}},
	// The exporters see events as bytes and counters through callbacks
	// cmd/wring registers: neither imports wasm nor the capture pipeline.
	{pkg: "export/nats", allow: []string{"github.com/nats-io/nats.go"}},
	{pkg: "export/metrics", allow: []string{"github.com/prometheus/client_golang"}},
	{pkg: "cmd", prefix: true, allow: []string{""}},      // the CLI wires everything together
	{pkg: "internal", prefix: true, allow: []string{""}}, // test helpers, wrappers, tools
}

func ruleFor(rel string) (rule, bool) {
	for _, r := range rules {
		if rel == r.pkg || (r.prefix && strings.HasPrefix(rel, r.pkg+"/")) {
			return r, true
		}
	}
	return rule{}, false
}

func allowed(r rule, imp string) bool {
	for _, a := range r.allow {
		if a == "" {
			return true
		}
		full := a
		if !strings.Contains(a, ".") {
			full = path.Join(module, a)
		}
		if imp == full || strings.HasPrefix(imp, full+"/") {
			return true
		}
	}
	return false
}

func isStd(imp string) bool {
	first := strings.SplitN(imp, "/", 2)[0]
	return !strings.Contains(first, ".")
}

// TestImportGraph lists every package's non-test imports with `go list` and
// checks them against the table, and checks that every rule is used.
func TestImportGraph(t *testing.T) {
	out, err := exec.Command("go", "list", "-e", "-f", "{{.ImportPath}}|{{join .Imports \" \"}}", module+"/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	var bad []string
	checked := 0
	used := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		name, imps, _ := strings.Cut(line, "|")
		rel := strings.TrimPrefix(strings.TrimPrefix(name, module), "/")
		if rel == "" {
			continue
		}
		r, ok := ruleFor(rel)
		if !ok {
			bad = append(bad, rel+": no rule in DESIGN.md's package table")
			continue
		}
		used[r.pkg] = true
		checked++
		for _, imp := range strings.Fields(imps) {
			if isStd(imp) || imp == "C" || imp == "unsafe" {
				continue
			}
			if !allowed(r, imp) {
				bad = append(bad, rel+" imports "+imp)
			}
		}
	}
	for _, r := range rules {
		if !used[r.pkg] {
			bad = append(bad, r.pkg+": a rule for a package that does not exist")
		}
	}
	sort.Strings(bad)
	for _, b := range bad {
		t.Error(b)
	}
	if checked < 5 {
		t.Fatalf("only %d packages checked: go list output looks wrong:\n%s", checked, out)
	}
}

// TestRulesCatchViolations makes sure the checker itself can fail.
func TestRulesCatchViolations(t *testing.T) {
	cases := []struct {
		pkg, imp string
		ok       bool
	}{
		{"spec", module + "/verifier", false},
		{"vm", module + "/jit", false},
		{"jit", module + "/vm", false},
		{"capture", module + "/wasm", false},
		{"capture/afxdp", module + "/jit/ebpf", true},
		{"capture/rulemaps", module + "/filters/rules", true},
		{"capture/rulemaps", module + "/capture/live", false},
		{"capture", module + "/vm", false},
		{"capture", module + "/jit", false},
		{"capture/live", module + "/jit", false},
		{"capture/live", module + "/jit/ebpf", true},
		{"jit/ebpf", module + "/jit", false},
		{"analyzers/http", module + "/wasm", false},
		{"wasm", module + "/capture", false},
		{"wasm", module + "/capture/packet", true},
		{"verifier", module + "/spec", true},
		{"cmd/wring", module + "/wasm", true},
		{"filters/expr", "github.com/cilium/ebpf", false},
		{"export/ipfix", module + "/wasm", false},
		{"export/ipfix", module + "/capture/packet", true},
		{"filters/rules", module + "/spec", true},
		{"filters/rules", module + "/capture/packet", false},
		{"export/nats", module + "/wasm", false},
		{"export/metrics", module + "/wasm", false},
		{"export/metrics", module + "/capture", false},
		{"export/nats", "github.com/nats-io/nats.go/jetstream", true},
	}
	for _, c := range cases {
		r, ok := ruleFor(c.pkg)
		if !ok {
			t.Fatalf("%s: no rule", c.pkg)
		}
		if got := allowed(r, c.imp); got != c.ok {
			t.Errorf("%s importing %s: allowed=%v, want %v", c.pkg, c.imp, got, c.ok)
		}
	}
}
