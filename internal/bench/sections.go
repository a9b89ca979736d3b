package main

import (
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
)

// sections is BENCHMARKS.md, in order.
var sections = []Section{
	{
		Key:   "filter",
		Title: "Filter engines: ns per packet",
		Intro: "The five filters of the foundation issue over a warm working set of about 4096 packets " +
			"(`internal/benchdata`). Columns: `jit` native amd64 code called once per packet (`Filter.Run`), " +
			"`jit-batch` the same code through `Filter.RunBatch` (the loop over packets runs in native code, " +
			"as libpcap's loop runs in C), `portable` the pre-decoded fallback (the program decoded once, as x/net decodes once with `bpf.NewVM`), `vm-step` the reference interpreter, one instruction per dispatch (`vm.Run`), `xnet` golang.org/x/net/bpf's VM, `libpcap` libpcap's C " +
			"`bpf_filter` (cgo harness), `kernel` the translated eBPF program in the kernel's JIT " +
			"(`BPF_PROG_TEST_RUN` with repeat, the kernel's per-iteration time). Ratios are anchor time / subject time, " +
			"so higher means the subject is faster.",
		Run: func(env Env) (string, error) {
			// jit's benchmark runs every userspace engine (vm and x/net included)
			// over the same packets in one run; vm's own benchmark has the same
			// names, so it is left out rather than mixed in.
			rs, err := goBench(env, "^BenchmarkFilter$", "./jit/")
			if err != nil {
				return "", err
			}
			// The kernel column needs root; measure it in the same run when possible.
			if krs, kerr := goBench(env, "^BenchmarkFilter$", "./jit/ebpf/"); kerr == nil {
				for k, v := range krs {
					rs[k] = v
				}
			}
			order := []string{"jit", "jit-batch", "portable", "vm-step", "xnet", "libpcap", "kernel"}
			var b strings.Builder
			b.WriteString(pivotTable(rs, "BenchmarkFilter", "ns/pkt", order,
				[][2]string{{"portable", "xnet"}, {"vm-step", "xnet"}, {"jit", "xnet"}, {"jit", "libpcap"}, {"jit", "kernel"},
					{"jit-batch", "xnet"}, {"jit-batch", "libpcap"}, {"jit-batch", "kernel"}}))
			// The kernel reports whole nanoseconds per iteration of its own
			// test-run loop; an empty XDP program measured the same way
			// shows how much of the figure is that loop.
			t := Table{Header: []string{"case", "kernel (ns/pkt)", "empty XDP program (ns/pkt)", "filter's share (ns/pkt)"}}
			rows, _ := rs.Pivot("BenchmarkFilter")
			for _, row := range rows {
				name := "BenchmarkFilter/" + row + "/kernel"
				v, ok1 := rs.Get(name, "ns/pkt")
				e, ok2 := rs.Get(name, "ns/pkt-empty")
				n, ok3 := rs.Get(name, "ns/pkt-net")
				if ok1 && ok2 && ok3 {
					t.Rows = append(t.Rows, []string{"`" + strings.ReplaceAll(row, "_", " ") + "`", fmtNum(v), fmtNum(e), fmtNum(n)})
				}
			}
			if len(t.Rows) > 0 {
				b.WriteString("\nThe kernel column is `BPF_PROG_TEST_RUN`'s own per-iteration time, and most of it is the test " +
					"runner's loop: an empty XDP program costs nearly as much. The filter's own share is below the kernel's " +
					"1 ns reporting resolution, so the jit/kernel ratio above compares against the whole in-kernel path, not " +
					"the kernel JIT's code alone.\n\n")
				b.WriteString(t.String())
			}
			return b.String(), nil
		},
	},
	{
		Key:   "compile",
		Title: "Compile time",
		Intro: "From expression text to a verified program (`filters/expr`), and from a verified program to native " +
			"code (`jit`) or eBPF (`jit/ebpf`).",
		Run: func(env Env) (string, error) {
			rs, err := goBench(env, "^(BenchmarkCompile|BenchmarkTranslate)$", "./filters/expr/", "./jit/", "./jit/ebpf/")
			if err != nil {
				return "", err
			}
			var b strings.Builder
			for _, topic := range []string{"BenchmarkCompile", "BenchmarkTranslate"} {
				t := Table{Header: []string{"benchmark", "µs/op", "allocs/op"}}
				for _, name := range sortedNames(rs, topic+"/") {
					ns, _ := rs.Get(name, "ns/op")
					al, _ := rs.Get(name, "allocs/op")
					t.Rows = append(t.Rows, []string{"`" + name + "`", fmt.Sprintf("%.2f", ns/1000), fmt.Sprintf("%g", al)})
				}
				if len(t.Rows) > 0 {
					b.WriteString(t.String() + "\n")
				}
			}
			return b.String(), nil
		},
	},
	{
		Key:   "progsize",
		Title: "Program size against libpcap",
		Intro: "Instruction counts of wring's optimized output against `tcpdump -d` (Debian's libpcap 1.10.3, " +
			"optimized) over the libpcap accept expressions both compile.",
		Run: func(env Env) (string, error) {
			return runMarkdown("go", "test", "-count=1", "-run", "^TestProgramSizeTable$", "-v", "./internal/bench/progsize/")
		},
	},
	{
		Key:   "parse",
		Title: "Parse once: the record",
		Intro: "Filling the parse record (`capture/packet`) per packet, against gopacket's DecodingLayerParser on the same packets.",
		Run: func(env Env) (string, error) {
			rs, err := goBench(env, "^BenchmarkParse$", "./capture/packet/")
			if err != nil {
				return "", err
			}
			return pivotTable(rs, "BenchmarkParse", "ns/pkt", []string{"record", "gopacket"}, [][2]string{{"record", "gopacket"}}), nil
		},
	},
	{
		Key:   "offline",
		Title: "Offline filtering: whole process against tcpdump",
		Intro: "`wring read -r big.pcap -w /dev/null EXPR` against `tcpdump -r big.pcap -w /dev/null EXPR` on a generated " +
			"1,000,000-packet capture (`internal/trafficgen`), wall and CPU time.",
		Run: func(env Env) (string, error) {
			return runMarkdown("go", "run", "./internal/bench/offline")
		},
	},
	{
		Key:   "live",
		Title: "Live capture on veth",
		Intro: "Loss-free rate, loss, CPU per million frames and burst absorption for wring (passive, AF_XDP, AF_PACKET) and " +
			"tcpdump, each given the same kernel buffer (-B), at the generator's rates, between two network namespaces (root).",
		Run: func(env Env) (string, error) {
			return runMarkdown("go", "run", "./internal/bench/live")
		},
	},
	{
		Key:   "wasm",
		Title: "Wasm analyzers",
		Intro: "Per-packet cost of a no-op analyzer (64-byte packets, batches of 256) beside wazero's bare " +
			"`CallWithStack`; fuel metering's overhead on a byte-scanning analyzer; the HTTP analyzer's throughput. " +
			"The metering unrolls small innermost loops (one charge per group of copies), so the scan split below shows " +
			"each part in CPU time per call: the original module, the full rewrite, the rewrite without charges (what " +
			"unrolling alone does) and the old charge per iteration; the charges' own cost is metered against unrolled.",
		Run: func(env Env) (string, error) {
			rs, err := goBench(env, "^(BenchmarkAnalyzer|BenchmarkFuel|BenchmarkHTTP|BenchmarkScanParts)$", "./wasm/...", "./analyzers/...")
			if err != nil {
				return "", err
			}
			var b strings.Builder
			b.WriteString(pivotTable(rs, "BenchmarkAnalyzer", "ns/pkt", []string{"wring", "bare_callwithstack"}, [][2]string{{"wring", "bare_callwithstack"}}))
			b.WriteString("\n")
			b.WriteString(pivotTable(rs, "BenchmarkFuel", "ns/op", []string{"metered", "unmetered"}, [][2]string{{"metered", "unmetered"}}))
			b.WriteString("\n")
			b.WriteString(pivotTable(rs, "BenchmarkScanParts", "cpu-ns/op", []string{"unmetered", "metered", "unrolled", "per_iteration"},
				[][2]string{{"metered", "unmetered"}, {"metered", "unrolled"}, {"per_iteration", "unmetered"}}))
			b.WriteString("\n")
			t := Table{Header: []string{"benchmark", "ns/op", "pkts/s"}}
			for _, name := range sortedNames(rs, "BenchmarkHTTP/") {
				ns, _ := rs.Get(name, "ns/op")
				pps, _ := rs.Get(name, "pkts/s")
				t.Rows = append(t.Rows, []string{"`" + name + "`", fmtNum(ns), fmt.Sprintf("%.0f", pps)})
			}
			if len(t.Rows) > 0 {
				b.WriteString(t.String())
			}
			return b.String(), nil
		},
	},
}

func sortedNames(rs Results, prefix string) []string {
	var out []string
	for n := range rs {
		if strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// runMarkdown runs a command that prints a markdown fragment between the
// lines "<!-- bench -->" and "<!-- /bench -->" (anything else it prints is
// progress) and returns the fragment.
func runMarkdown(name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	s := string(out)
	i := strings.Index(s, "<!-- bench -->")
	j := strings.Index(s, "<!-- /bench -->")
	if i < 0 || j < i {
		if err != nil {
			return "", fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
		}
		return "", fmt.Errorf("%s %s printed no table", name, strings.Join(args, " "))
	}
	return strings.TrimSpace(s[i+len("<!-- bench -->"):j]) + "\n", nil
}
