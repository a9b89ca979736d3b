package expr_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/capture/pcapfile"
	"github.com/wringcap/wring/filters/expr"
	"github.com/wringcap/wring/filters/expr/optimize"
	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/internal/pcaporacle"
	"github.com/wringcap/wring/internal/trafficgen"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
	"github.com/wringcap/wring/vm"
)

// oracleTrafficPackets is the size of the generated mixed-traffic capture
// the oracle test runs every expression over.
const oracleTrafficPackets = 100000

// libpcapOptimizerBugs lists expressions on which Debian's libpcap 1.10.3
// optimizer changes the verdict of its own unoptimized program on some
// corpus packet. wring follows the unoptimized program; the test checks that
// it does, and that libpcap's optimized program is the one that differs.
var libpcapOptimizerBugs = map[string]string{
	// IPv6 TCP packet cut after the source port (caplen 57, generated
	// traffic): the unoptimized program tests `port 80` first, so it loads
	// the destination port, which is past the captured bytes, and returns
	// 0. libpcap's optimizer moves the `jeq #0x1bb` on the source port
	// before that load, so the optimized program matches.
	"port 80 or port 443":              "optimizer skips an out-of-bounds load of the destination port",
	"port 80 or port 8080 or port 443": "optimizer skips an out-of-bounds load of the destination port",
	"tcp and (port 80 or port 443)":    "optimizer skips an out-of-bounds load of the destination port",
}

// libpcapBugs lists "LINKTYPE expression" pairs whose libpcap 1.10.3
// program (optimized or not) contradicts libpcap itself, with the evidence.
// wring gives the logically consistent verdict.
var libpcapBugs = map[string]string{
	// On ieee802.11_rx-stbc.pcap (3 protected QoS data frames) tcpdump -r
	// matches `ether[0] & 1 = 0` on 3, `ip` on 0, `ip and ether[0] & 1 = 0`
	// on 0, but `ether[0] & 1 = 0 and ip` on 3: the conjunction depends on
	// the order of its terms.
	"IEEE802_11_RADIO ether[0] & 1 = 0 and ip": "order-dependent conjunction on radiotap: `ip` alone matches none of these packets",
}

// requiredLinkTypes are the link types on which wring must compile every
// expression that tcpdump compiles (the list).
var requiredLinkTypes = map[spec.LinkType]bool{
	spec.LinkEthernet: true, spec.LinkRaw: true, spec.LinkIPv4: true, spec.LinkIPv6: true,
	spec.LinkLinuxSLL: true, spec.LinkLinuxSLL2: true, spec.LinkNull: true, spec.LinkLoop: true,
	spec.LinkPPP: true, spec.LinkIEEE802_11: true, spec.LinkIEEE802_11Radio: true,
}

// capFile is a capture file read into memory.
type capFile struct {
	path string
	lt   spec.LinkType
	be   bool // a big-endian file (libpcap 1.10 reads NULL and ENC headers in its order)
	pkts []oraclePacket
}

type oraclePacket struct {
	data []byte
	wire uint32
}

// oracleStats counts what the oracle test saw.
type oracleStats struct {
	mu                   sync.Mutex
	pairs, refusedByPcap int
	wringRefused         map[string][]string // link type -> expressions
	verdicts             int64
	matches              int64
	pcapOptBug           []string
	disagree             []string
	verifyFail           []string
	optDiffers           []string       // wring's optimized and unoptimized programs disagree
	documented           map[string]int // verdicts that differ as libpcapBugs says
}

func (s *oracleStats) add(f func(s *oracleStats)) {
	s.mu.Lock()
	f(s)
	s.mu.Unlock()
}

// TestOracle compares wring's verdicts with libpcap's on every capture file
// of the tcpdump corpus and on a generated mixed-traffic capture, for every
// expression of testdata/oracle/exprs.txt, with and without wring's
// optimizer (see the package documentation of internal/pcaporacle for how
// libpcap's verdicts are obtained). wring compiles with Options.Libpcap110,
// the oracle being libpcap 1.10.3, so any disagreement fails the test
// unless libpcapOptimizerBugs or libpcapBugs explains it.
func TestOracle(t *testing.T) {
	if testing.Short() {
		t.Skip("the libpcap oracle takes minutes; not run with -short")
	}
	if _, err := pcaporacle.Tcpdump(); err != nil {
		corpus.Unavailable(t, err.Error())
	}
	if !pcaporacle.Native {
		t.Log("built without cgo: libpcap's verdicts come from pcaporacle.Interpret, not its C bpf_filter")
	}
	start := time.Now()
	exprs := loadOracleExprs(t)
	files := readCorpusFiles(t)
	traffic := writeTraffic(t)
	files = append(files, traffic)
	t.Logf("%d expressions, %d capture files (%d packets), read in %v", len(exprs), len(files), countPackets(files), time.Since(start).Round(time.Millisecond))

	// Group files by link type and byte order: libpcap compiles each
	// expression once per group, from a file of it (tcpdump -r FILE -ddd).
	type group struct {
		lt spec.LinkType
		be bool
	}
	groups := map[group][]*capFile{}
	for _, f := range files {
		g := group{f.lt, f.be}
		groups[g] = append(groups[g], f)
	}
	var lts []group
	for g := range groups {
		lts = append(lts, g)
	}
	sort.Slice(lts, func(i, j int) bool {
		return lts[i].lt < lts[j].lt || lts[i].lt == lts[j].lt && !lts[i].be && lts[j].be
	})

	type job struct {
		g    group
		expr string
	}
	jobs := make(chan job)
	st := &oracleStats{wringRefused: map[string][]string{}, documented: map[string]int{}}
	var wg sync.WaitGroup
	for w := 0; w < max(2, runtime.GOMAXPROCS(0)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				oracleOne(t, st, j.g.lt, groups[j.g], j.expr)
			}
		}()
	}
	for _, g := range lts {
		for _, e := range exprs {
			jobs <- job{g, e}
		}
	}
	close(jobs)
	wg.Wait()

	compiled := st.pairs - st.refusedByPcap
	t.Logf("%d (link type and byte order, expression) pairs: %d refused by tcpdump 1.10.3 and skipped, %d compared", st.pairs, st.refusedByPcap, compiled)
	t.Logf("%d per-packet verdicts compared (each for wring unoptimized and optimized), %d matches", st.verdicts, st.matches)
	nref := 0
	var refLines []string
	for lt, es := range st.wringRefused {
		nref += len(es)
		refLines = append(refLines, fmt.Sprintf("%s: %d", lt, len(es)))
	}
	sort.Strings(refLines)
	t.Logf("pairs tcpdump compiles but wring refuses: %d (%s)", nref, strings.Join(refLines, ", "))
	for lt, es := range st.wringRefused {
		for _, e := range es {
			t.Logf("  wring refuses on %s: %q", lt, e)
		}
	}
	t.Logf("libpcap optimizer bugs seen (wring follows libpcap's unoptimized program): %d", len(st.pcapOptBug))
	for _, s := range st.pcapOptBug {
		t.Log("  " + s)
	}
	for _, s := range st.verifyFail {
		t.Error(s)
	}
	var docKeys []string
	for k := range st.documented {
		docKeys = append(docKeys, k)
	}
	sort.Strings(docKeys)
	for _, k := range docKeys {
		t.Logf("documented difference %q: %d verdicts (libpcap bug: %s)", k, st.documented[k], libpcapBugs[k])
	}
	t.Logf("packets where wring's optimized and unoptimized programs disagree: %d", len(st.optDiffers))
	for i, s := range st.optDiffers {
		if i == 20 {
			break
		}
		t.Error(s)
	}
	for i, s := range st.disagree {
		if i == 50 {
			t.Errorf("... and %d more disagreements", len(st.disagree)-50)
			break
		}
		t.Error(s)
	}
	t.Logf("disagreements: %d; elapsed %v", len(st.disagree), time.Since(start).Round(time.Second))

	spotCheck(t, exprs, files)
}

// oracleOne compares one expression on every file of one link type and
// byte order.
func oracleOne(t *testing.T, st *oracleStats, lt spec.LinkType, files []*capFile, src string) {
	st.add(func(s *oracleStats) { s.pairs++ })
	key := lt.String() + " " + src
	rep := files[0].path
	lp, err := pcaporacle.CompileFile(src, rep, pcaporacle.Options{})
	if err != nil {
		if !errors.Is(err, pcaporacle.ErrRefused) {
			t.Errorf("%s: tcpdump: %v", key, err)
		}
		st.add(func(s *oracleStats) { s.refusedByPcap++ })
		return
	}
	wp, err := expr.Compile(src, expr.Options{LinkType: lt, OfflineAF: true, Libpcap110: true, SavefileBigEndian: files[0].be})
	if err != nil {
		st.add(func(s *oracleStats) { s.wringRefused[lt.String()] = append(s.wringRefused[lt.String()], src) })
		if requiredLinkTypes[lt] {
			st.add(func(s *oracleStats) {
				s.disagree = append(s.disagree, fmt.Sprintf("%s: wring refuses what tcpdump compiles: %v", key, err))
			})
		}
		return
	}
	vu, err := verifier.Verify(wp, verifier.Options{NoAncillary: true})
	if err != nil {
		st.add(func(s *oracleStats) {
			s.verifyFail = append(s.verifyFail, fmt.Sprintf("%s: unoptimized program fails verification: %v", key, err))
		})
		return
	}
	op := optimize.Program(wp)
	vo, err := verifier.Verify(op, verifier.Options{NoAncillary: true})
	if err != nil {
		st.add(func(s *oracleStats) {
			s.verifyFail = append(s.verifyFail, fmt.Sprintf("%s: optimized program fails verification: %v", key, err))
		})
		return
	}
	lc := pcaporacle.New(lp)
	var lu *pcaporacle.Program // libpcap unoptimized, compiled on demand
	var n, m int64
	reported := false
	for _, f := range files {
		for i, p := range f.pkts {
			want := lc.Run(p.data, p.wire) != 0
			gotU := vm.Run(vu, p.data, p.wire, nil) != 0
			gotO := vm.Run(vo, p.data, p.wire, nil) != 0
			n++
			if want {
				m++
			}
			if gotU != gotO {
				st.add(func(s *oracleStats) {
					s.optDiffers = append(s.optDiffers, fmt.Sprintf("%s: %s packet %d: wring unoptimized %v, optimized %v", key, filepath.Base(f.path), i+1, gotU, gotO))
				})
			}
			if gotU == want && gotO == want {
				continue
			}
			if lu == nil {
				prog, err := pcaporacle.CompileFile(src, rep, pcaporacle.Options{Unoptimized: true})
				if err != nil {
					t.Errorf("%s: tcpdump -O: %v", key, err)
					return
				}
				lu = pcaporacle.New(prog)
			}
			truth := lu.Run(p.data, p.wire) != 0
			where := fmt.Sprintf("%s: %s packet %d (caplen %d, wire %d)", key, filepath.Base(f.path), i+1, len(p.data), p.wire)
			if truth != want && gotU == truth && gotO == truth {
				if _, ok := libpcapOptimizerBugs[src]; !ok && !reported {
					st.add(func(s *oracleStats) {
						s.disagree = append(s.disagree, where+": libpcap's optimizer changes its verdict (unlisted optimizer bug): unoptimized "+fmt.Sprint(truth))
					})
				} else if !reported {
					st.add(func(s *oracleStats) { s.pcapOptBug = append(s.pcapOptBug, where) })
				}
				reported = true
				continue
			}
			if _, ok := libpcapBugs[key]; ok {
				st.add(func(s *oracleStats) { s.documented[key]++ })
				continue
			}
			st.add(func(s *oracleStats) {
				s.disagree = append(s.disagree, fmt.Sprintf("%s: libpcap %v (unoptimized %v), wring unoptimized %v, optimized %v", where, want, truth, gotU, gotO))
			})
			return
		}
	}
	st.add(func(s *oracleStats) { s.verdicts += n; s.matches += m })
}

// loadOracleExprs reads testdata/oracle/exprs.txt.
func loadOracleExprs(t *testing.T) []string {
	b, err := os.ReadFile(filepath.Join("testdata", "oracle", "exprs.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	seen := map[string]bool{}
	for i, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if seen[l] {
			t.Fatalf("exprs.txt:%d: duplicate expression %q", i+1, l)
		}
		seen[l] = true
		out = append(out, l)
	}
	if len(out) < 300 {
		t.Fatalf("exprs.txt has %d expressions, want at least 300", len(out))
	}
	return out
}

// readCorpusFiles reads every file of the tcpdump corpus with wring's
// reader. Packets before a read error are kept (tcpdump -r prints them too);
// files it cannot open at all are left out and counted.
func readCorpusFiles(t *testing.T) []*capFile {
	var out []*capFile
	bad := 0
	for _, path := range corpus.Files(t, "tcpdump") {
		f, err := readCapture(path)
		if err != nil && f == nil {
			bad++
			continue
		}
		out = append(out, f)
	}
	t.Logf("tcpdump corpus: %d files read, %d not capture files wring's reader opens", len(out), bad)
	return out
}

func readCapture(path string) (*capFile, error) {
	r, err := pcapfile.Open(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	f := &capFile{path: path, lt: r.LinkType(), be: r.Swapped()}
	var info packet.Info
	for {
		data, err := r.ReadPacket(&info)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return f, nil
			}
			return f, err
		}
		f.pkts = append(f.pkts, oraclePacket{data: bytes.Clone(data), wire: info.WireLen})
	}
}

// writeTraffic generates the mixed-traffic capture into a temporary file
// and reads it back.
func writeTraffic(t *testing.T) *capFile {
	path := filepath.Join(t.TempDir(), "traffic.pcap")
	fh, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(fh)
	if err := trafficgen.Generate(w, trafficgen.Config{Seed: 1, Count: oracleTrafficPackets}); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := fh.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := readCapture(path)
	if err != nil {
		t.Fatalf("read back generated traffic: %v", err)
	}
	if len(f.pkts) != oracleTrafficPackets {
		t.Fatalf("generated traffic: %d packets, want %d", len(f.pkts), oracleTrafficPackets)
	}
	return f
}

func countPackets(files []*capFile) int {
	n := 0
	for _, f := range files {
		n += len(f.pkts)
	}
	return n
}

// spotCheck runs the real `tcpdump -r FILE -w - EXPR` on a sample of
// (expression, file) pairs and checks that it writes exactly the packets
// wring's optimized program matches.
func spotCheck(t *testing.T, exprs []string, files []*capFile) {
	td, _ := pcaporacle.Tcpdump()
	var sample []*capFile
	for _, f := range files {
		if len(f.pkts) >= 50 && len(f.pkts) < 20000 {
			sample = append(sample, f)
		}
	}
	checked := 0
	for i := 0; i < 40 && len(sample) > 0; i++ {
		f := sample[(i*7)%len(sample)]
		src := exprs[(i*37)%len(exprs)]
		wp, err := expr.Compile(src, expr.Options{LinkType: f.lt, OfflineAF: true, Libpcap110: true, SavefileBigEndian: f.be})
		if err != nil {
			continue
		}
		vp, err := verifier.Verify(optimize.Program(wp), verifier.Options{NoAncillary: true})
		if err != nil {
			continue // reported by the main comparison
		}
		cmd := exec.Command(td, "-r", f.path, "-w", "-", "--", src)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil && out.Len() == 0 {
			continue // refused, or unreadable
		}
		r, err := pcapfile.NewReader(bytes.NewReader(out.Bytes()), "tcpdump output")
		if err != nil {
			t.Errorf("spot check %s on %s: %v", src, f.path, err)
			continue
		}
		var got [][]byte
		var info packet.Info
		for {
			data, err := r.ReadPacket(&info)
			if err != nil {
				break
			}
			got = append(got, bytes.Clone(data))
		}
		var want [][]byte
		for _, p := range f.pkts {
			if vm.Run(vp, p.data, p.wire, nil) != 0 {
				want = append(want, p.data)
			}
		}
		checked++
		if len(got) != len(want) {
			t.Errorf("spot check %q on %s: tcpdump -r writes %d packets, wring matches %d", src, filepath.Base(f.path), len(got), len(want))
			continue
		}
		for k := range got {
			if !bytes.Equal(got[k], want[k]) {
				t.Errorf("spot check %q on %s: match %d differs", src, filepath.Base(f.path), k+1)
				break
			}
		}
	}
	t.Logf("spot check: %d (expression, file) pairs run through tcpdump -r agree", checked)
}
