//go:build linux

package ebpf

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wringcap/wring/filters/expr"
	"github.com/wringcap/wring/internal/benchdata"
	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/internal/pcaporacle"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
	"github.com/wringcap/wring/vm"
)

// noLink stands for a TESTrun link type spec does not know.
const noLink = spec.LinkType(0xffff)

// corpusProgram is one distinct program of libpcap's accept tables.
type corpusProgram struct {
	label string // first TESTrun case that produced it
	expr  string
	link  spec.LinkType
	p     *verifier.Program
}

// corpusPrograms returns the distinct (link type, bytecode) programs made
// from the expressions of TESTrun's filter_accept cases, by two compilers:
// libpcap (the listing in each case's expected field, libpcap master) and
// wring's filters/expr (with the case's optimize and Linux-extension
// settings), and by Debian's tcpdump too when WRING_EBPF_TCPDUMP is set. Programs the verifier refuses, as Linux's classic checker
// would, and expressions filters/expr cannot compile without name
// resolution are counted, not returned.
func corpusPrograms(tb testing.TB) (out []corpusProgram, refused map[string]int) {
	tb.Helper()
	refused = map[string]int{}
	seen := map[string]bool{}
	add := func(c corpus.Case, source string, link spec.LinkType, prog spec.Program) {
		var key bytes.Buffer
		fmt.Fprintf(&key, "%d:", link)
		for _, ins := range prog {
			fmt.Fprintf(&key, "%x,%x,%x,%x;", ins.Op, ins.Jt, ins.Jf, ins.K)
		}
		if seen[key.String()] {
			return
		}
		seen[key.String()] = true
		p, err := verifier.Verify(prog, verifier.Options{})
		if err != nil {
			// Refused as Linux's classic checker refuses it (protochain's
			// loop, libpcap's unoptimised code reading scratch memory
			// not written on every path): no program to translate.
			var ve *verifier.Error
			if !errors.As(err, &ve) {
				tb.Fatalf("%s (%s): verify: %v", c.Label, c.Expr, err)
			}
			refused[source+": "+ve.Code.String()]++
			return
		}
		out = append(out, corpusProgram{label: source + " " + c.Label, expr: c.Expr, link: link, p: p})
	}
	for _, c := range corpus.CasesOf(tb, "filter_accept") {
		link, err := spec.ParseLinkType(c.DLT)
		if err != nil {
			// A link type spec does not name has no capture either: the
			// program is still translated and loaded.
			link = noLink
		}
		prog, err := spec.ParseText([]byte(c.Expected), spec.TextListing)
		if err != nil {
			tb.Fatalf("%s: parse expected listing: %v", c.Label, err)
		}
		add(c, "libpcap", link, prog)

		if link == noLink {
			continue
		}
		opts := expr.Options{LinkType: link, Optimize: c.Optimize != 0, LinuxExt: c.HasLinuxExt()}
		if c.Snaplen != nil {
			opts.Snaplen = uint32(*c.Snaplen)
		}
		prog, err = expr.Compile(c.Expr, opts)
		if err != nil {
			refused["filters/expr: cannot compile"]++
			continue
		}
		add(c, "expr", link, prog)
	}
	if os.Getenv("WRING_EBPF_TCPDUMP") != "" {
		for _, tp := range tcpdumpPrograms(tb) {
			if tp.err != nil {
				refused["tcpdump: refused"]++
				continue
			}
			add(tp.c, "tcpdump", tp.link, tp.prog)
		}
	}
	return out, refused
}

type tcpdumpProgram struct {
	c    corpus.Case
	link spec.LinkType
	prog spec.Program
	err  error
}

// tcpdumpPrograms compiles every distinct (DLT, expression, optimize) of the
// accept cases with Debian's tcpdump (-ddd -y DLT [-O]), two at a time.
// It takes a minute or two, so TestCorpus asks for it only when
// WRING_EBPF_TCPDUMP is set.
func tcpdumpPrograms(tb testing.TB) []tcpdumpProgram {
	tb.Helper()
	if _, err := pcaporacle.Tcpdump(); err != nil {
		corpus.Unavailable(tb, err.Error())
	}
	seen := map[string]bool{}
	var todo []tcpdumpProgram
	for _, c := range corpus.CasesOf(tb, "filter_accept") {
		link, err := spec.ParseLinkType(c.DLT)
		if err != nil {
			continue
		}
		key := fmt.Sprintf("%s\x00%s\x00%d", c.DLT, c.Expr, c.Optimize)
		if seen[key] || c.HasLinuxExt() {
			continue
		}
		seen[key] = true
		todo = append(todo, tcpdumpProgram{c: c, link: link})
	}
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				tp := &todo[i]
				opt := pcaporacle.Options{Unoptimized: tp.c.Optimize == 0}
				if tp.c.Snaplen != nil {
					opt.Snaplen = *tp.c.Snaplen
				}
				tp.prog, tp.err = pcaporacle.Compile(tp.c.Expr, tp.c.DLT, opt)
			}
		}()
	}
	for i := range todo {
		next <- i
	}
	close(next)
	wg.Wait()
	return todo
}

// corpusCaptures reads every capture file of the tcpdump and libpcap filter
// corpora, grouped by link type. Files gopacket cannot read are skipped
// (many are broken on purpose); packets read before an error are kept.
func corpusCaptures(tb testing.TB) (map[spec.LinkType][]corpus.Packet, int) {
	tb.Helper()
	by := map[spec.LinkType][]corpus.Packet{}
	files := 0
	for _, dir := range []string{"tcpdump", "libpcap/filter"} {
		for _, f := range corpus.Files(tb, dir) {
			c, err := corpus.ReadCapture(f)
			if c == nil || len(c.Packets) == 0 {
				continue
			}
			_ = err
			files++
			by[c.LinkType] = append(by[c.LinkType], c.Packets...)
		}
	}
	return by, files
}

// usesNondeterministic reports whether the program reads the CPU number or
// a random number, which no two runs need agree on.
func usesNondeterministic(p *verifier.Program) bool {
	return p.Extensions()&(verifier.Ancillary(spec.AncCPU)|verifier.Ancillary(spec.AncRandom)) != 0
}

// TestCorpus is acceptance lines 1 (eBPF column) and 2: every program of
// libpcap's accept tables is translated for XDP and for socket filters and
// loaded into the kernel (no rejection allowed), then run with
// BPF_PROG_TEST_RUN on every packet of the corpus captures of its link
// type; the verdict must equal vm.Run's. XDP compares match / no match,
// the socket filter the exact return value. The kernel sees only the
// captured bytes, so vm.Run gets len(pkt) as the wire length.
func TestCorpus(t *testing.T) {
	needKernel(t)
	progs, refused := corpusPrograms(t)
	t.Logf("not translated (refused by wring's verifier as by Linux's classic checker, or not compiled): %v", refused)
	caps, files := corpusCaptures(t)
	// The generated mixed capture: the benchmark working set (corpus
	// Ethernet packets topped up with internal/trafficgen's traffic).
	ws := benchdata.WorkingSet(t)
	for _, p := range ws {
		caps[spec.LinkEthernet] = append(caps[spec.LinkEthernet], corpus.Packet{Data: p.Data, WireLen: p.WireLen})
	}
	byLink := map[spec.LinkType][]corpusProgram{}
	for _, cp := range progs {
		byLink[cp.link] = append(byLink[cp.link], cp)
	}
	links := make([]spec.LinkType, 0, len(byLink))
	for l := range byLink {
		links = append(links, l)
	}
	sort.Slice(links, func(i, j int) bool { return links[i] < links[j] })

	type counts struct {
		translated, unsupported, loaded, rejected int
		runs, disagree, skipShort, skipLong       int
	}
	var (
		mu             sync.Mutex
		unsupportedWhy = map[string]int{}
		failures       []string
	)
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if len(failures) < 20 {
			failures = append(failures, fmt.Sprintf(format, args...))
		}
	}
	// One goroutine per target: the runs are system calls that keep a core
	// busy each.
	runTarget := func(target Target, c *counts) error {
		buf := make([]byte, 0, maxTestRun)
		for _, link := range links {
			pkts := caps[link]
			for _, cp := range byLink[link] {
				prog, err := load(cp.p, target)
				switch {
				case errors.Is(err, ErrUnsupported):
					c.unsupported++
					var te *Error
					if errors.As(err, &te) {
						mu.Lock()
						unsupportedWhy[target.String()+": "+te.What]++
						mu.Unlock()
					}
					continue
				case errors.Is(err, errRejected):
					c.translated++
					c.rejected++
					fail("%s %s [%s] %q: %v", target, cp.label, link, cp.expr, err)
					continue
				case err != nil:
					return fmt.Errorf("%s %s: %w", target, cp.label, err)
				}
				c.translated++
				c.loaded++
				if target == SocketFilter && usesNondeterministic(cp.p) {
					prog.Close()
					continue
				}
				for i, pk := range pkts {
					d := pk.Data
					if target == XDP {
						if !xdpRunnable(d) {
							if len(d) < minTestRun {
								c.skipShort++
							} else {
								c.skipLong++
							}
							continue
						}
						got, err := runXDP(prog, d)
						if err != nil {
							prog.Close()
							return fmt.Errorf("xdp %s packet %d: %w", cp.label, i, err)
						}
						want := vm.Run(cp.p, d, uint32(len(d)), &xdpMeta) != 0
						c.runs++
						if got != want {
							c.disagree++
							fail("xdp %s [%s] %q packet %d (%d bytes): kernel match=%v, vm match=%v", cp.label, link, cp.expr, i, len(d), got, want)
						}
						continue
					}
					if !socketRunnable(d) {
						c.skipLong++
						continue
					}
					got, err := runSocket(prog, d, &buf)
					if err != nil {
						prog.Close()
						return fmt.Errorf("socket %s packet %d: %w", cp.label, i, err)
					}
					want := vm.Run(cp.p, d, uint32(len(d)), &socketMeta)
					c.runs++
					if got != want {
						c.disagree++
						fail("socket %s [%s] %q packet %d (%d bytes): kernel %d, vm %d", cp.label, link, cp.expr, i, len(d), got, want)
					}
				}
				prog.Close()
			}
		}
		return nil
	}
	start := time.Now()
	var xc, sc counts
	var xerr, serr error
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); xerr = runTarget(XDP, &xc) }()
	go func() { defer wg.Done(); serr = runTarget(SocketFilter, &sc) }()
	wg.Wait()
	for _, err := range []error{xerr, serr} {
		if err != nil {
			t.Fatal(err)
		}
	}

	// Guard coalescing over the same programs, from the XDP translation.
	var loads, guards, extra, indirect, indirectLoads int
	for _, cp := range progs {
		_, st, err := translate(cp.p, Options{Target: XDP, OnMatch: xdpPassInsns()})
		if err != nil {
			continue
		}
		for pc := 0; pc < cp.p.Len(); pc++ {
			if _, ok := packetEnd(cp.p.At(pc)); ok {
				loads++
			}
		}
		guards += st.guards
		extra += st.extraGuards
		indirect += st.indirectGuards
		indirectLoads += st.indirectLoads
	}
	t.Logf("xdp bounds checks: %d absolute packet loads covered by %d hoisted guards (%d not covered by the verifier's facts); %d indirect loads covered by %d checks",
		loads, guards, extra, indirectLoads, indirect)
	if extra != 0 {
		t.Errorf("%d absolute loads were not covered by the verifier's guards", extra)
	}
	t.Logf("corpus: %d distinct programs over %d link types; %d capture files and the %d-packet working set, packets of each program's link type run; %s",
		len(progs), len(links), files, len(ws), time.Since(start).Round(time.Millisecond))
	for _, x := range []struct {
		name string
		c    counts
	}{{"xdp", xc}, {"socket", sc}} {
		t.Logf("%-6s translated %d, unsupported %d, loaded %d, kernel rejections %d; runs %d, disagreements %d, packets skipped (<14 bytes %d, >%d bytes %d)",
			x.name, x.c.translated, x.c.unsupported, x.c.loaded, x.c.rejected, x.c.runs, x.c.disagree, x.c.skipShort, maxTestRun, x.c.skipLong)
	}
	why := make([]string, 0, len(unsupportedWhy))
	for k, v := range unsupportedWhy {
		why = append(why, fmt.Sprintf("%s: %d", k, v))
	}
	sort.Strings(why)
	if len(why) > 0 {
		t.Logf("not translatable (the target cannot see it): %s", strings.Join(why, "; "))
	}
	for _, f := range failures {
		t.Error(f)
	}
	if xc.rejected+sc.rejected > 0 {
		t.Errorf("%d programs rejected by the kernel verifier", xc.rejected+sc.rejected)
	}
	if xc.disagree+sc.disagree > 0 {
		t.Errorf("%d disagreements with vm.Run", xc.disagree+sc.disagree)
	}
	if xc.runs == 0 || sc.runs == 0 {
		t.Errorf("nothing compared (xdp %d runs, socket %d)", xc.runs, sc.runs)
	}
}
