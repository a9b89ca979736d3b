package expr

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/capture/pcapfile"
	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/internal/pcaporacle"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
	"github.com/wringcap/wring/vm"
)

// optionsOf turns a TESTrun case into compile options.
func optionsOf(t testing.TB, c *corpus.Case) (Options, bool) {
	lt, err := ParseLinkType(c.DLT)
	if err != nil {
		return Options{}, false
	}
	o := Options{LinkType: lt, Optimize: c.Optimize == 1, Resolver: testResolver{}, LinuxExt: c.HasLinuxExt(),
		OfflineAF: offlineFlag(t, c.Label) != ""}
	if c.Snaplen != nil {
		o.Snaplen = uint32(*c.Snaplen)
	}
	if c.Netmask != nil {
		a, err := netip.ParseAddr(*c.Netmask)
		if err != nil {
			t.Fatalf("%s: netmask %q: %v", c.Label, *c.Netmask, err)
		}
		b := a.As4()
		o.Netmask = uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
		o.HasNetmask = true
	}
	return o, true
}

// verifyOpts is how the corpus programs are verified: plain classic BPF,
// unless the case asks for Linux extensions.
func verifyOpts(o Options) verifier.Options { return verifier.Options{NoAncillary: !o.LinuxExt} }

// packetPool holds test packets per link type: every packet of the corpus
// capture files of that link type, plus mutated copies.
type packetPool struct {
	data    [][]byte
	wirelen []uint32
}

var (
	poolsOnce sync.Once
	pools     map[spec.LinkType]*packetPool
)

func packetPools(t testing.TB) map[spec.LinkType]*packetPool {
	poolsOnce.Do(func() {
		pools = map[spec.LinkType]*packetPool{}
		var files []string
		files = append(files, corpus.Files(t, "libpcap/filter")...)
		files = append(files, corpus.Files(t, "tcpdump")...)
		for _, f := range files {
			c, _ := corpus.ReadCapture(f)
			if c == nil {
				continue
			}
			p := pools[c.LinkType]
			if p == nil {
				p = &packetPool{}
				pools[c.LinkType] = p
			}
			for _, pk := range c.Packets {
				if len(p.data) >= 1500 {
					break
				}
				p.data = append(p.data, pk.Data)
				p.wirelen = append(p.wirelen, max(pk.WireLen, uint32(len(pk.Data))))
			}
		}
	})
	return pools
}

// packetsFor returns the corpus packets of lt, up to n of them, followed by
// mutations of them and random packets (a deterministic set per call).
func packetsFor(t testing.TB, lt spec.LinkType, n int, seed int64) ([][]byte, []uint32) {
	pp := packetPools(t)[lt]
	r := rand.New(rand.NewSource(seed))
	var data [][]byte
	var wl []uint32
	if pp != nil {
		step := 1
		if len(pp.data) > n {
			step = len(pp.data) / n
		}
		for i := 0; i < len(pp.data); i += step {
			data = append(data, pp.data[i])
			wl = append(wl, pp.wirelen[i])
			// A mutated copy: flip a few bytes, sometimes truncate.
			m := append([]byte(nil), pp.data[i]...)
			for k := 0; k < 3 && len(m) > 0; k++ {
				m[r.Intn(len(m))] = byte(r.Intn(256))
			}
			if len(m) > 10 && r.Intn(4) == 0 {
				m = m[:r.Intn(len(m))]
			}
			data = append(data, m)
			wl = append(wl, pp.wirelen[i])
		}
	}
	for i := 0; i < 64; i++ {
		m := make([]byte, r.Intn(120))
		r.Read(m)
		data = append(data, m)
		wl = append(wl, uint32(len(m)))
	}
	return data, wl
}

var (
	offlineOnce sync.Once
	offlineOf   map[string]string
)

// offlineFlag returns the case's generate_offline_filter value ("",
// "unswapped" or "swapped"), a TESTrun field corpus.Case does not carry.
func offlineFlag(t testing.TB, label string) string {
	offlineOnce.Do(func() {
		offlineOf = map[string]string{}
		b, err := os.ReadFile(filepath.Join(corpus.Need(t), "libpcap", "TESTrun.json"))
		if err != nil {
			t.Fatal(err)
		}
		var raw []struct {
			Label   string `json:"label"`
			Offline string `json:"generate_offline_filter"`
		}
		if err := json.Unmarshal(b, &raw); err != nil {
			t.Fatal(err)
		}
		for _, r := range raw {
			if r.Offline != "" {
				offlineOf[r.Label] = r.Offline
			}
		}
	})
	return offlineOf[label]
}

// craftedPerCase is how many crafted packets each program meets:
// WRING_CRAFTED, 64 by default.
func craftedPerCase() int {
	n := 64
	if s := os.Getenv("WRING_CRAFTED"); s != "" {
		fmt.Sscan(s, &n)
	}
	return n
}

// craftPackets makes packets that reach deep into prog: starting from
// random bytes, each absolute load that a conditional jump then tests has,
// with probability 1/2, the compared constant written at its offset (so
// link-type, protocol and address tests pass as often as they fail).
func craftPackets(prog spec.Program, n int, seed int64) ([][]byte, []uint32) {
	r := rand.New(rand.NewSource(seed))
	type fact struct {
		off  uint32
		size int
		v    uint32
	}
	var facts []fact
	for pc := 0; pc+1 < len(prog); pc++ {
		ld := prog[pc]
		if ld.Class() == spec.ClassLDX && ld.Mode() == spec.ModeMSH && ld.K < 1<<16 {
			// An IPv4 header length: make it 20 bytes.
			facts = append(facts, fact{ld.K, 1, 0x45})
			continue
		}
		off := ld.K
		if ld.Class() == spec.ClassLD && ld.Mode() == spec.ModeIND && ld.K < 1<<16 {
			off += 20 // X as set by the header length above
		} else if ld.Class() != spec.ClassLD || ld.Mode() != spec.ModeABS || ld.K > 1<<16 {
			continue
		}
		size := map[uint16]int{spec.SizeW: 4, spec.SizeH: 2, spec.SizeB: 1}[ld.Size()]
		j := prog[pc+1]
		if j.Class() == spec.ClassALU && j.Operation() == spec.ALUAnd && pc+2 < len(prog) {
			j = prog[pc+2]
		}
		if j.Class() != spec.ClassJMP || j.Operation() == spec.JumpJA || j.Src() != spec.SrcK {
			continue
		}
		v := j.K
		if j.Operation() == spec.JumpJGT {
			v++
		}
		facts = append(facts, fact{off, size, v})
	}
	var out [][]byte
	var wl []uint32
	for i := 0; i < n; i++ {
		p := make([]byte, 16+r.Intn(200))
		r.Read(p)
		for _, f := range facts {
			if r.Intn(2) == 0 || int(f.off)+f.size > len(p) {
				continue
			}
			for b := 0; b < f.size; b++ {
				p[int(f.off)+b] = byte(f.v >> (8 * (f.size - 1 - b)))
			}
		}
		out = append(out, p)
		wl = append(wl, uint32(len(p)))
	}
	return out, wl
}

// caseKey identifies a compile configuration of an accept case.
func caseKey(t testing.TB, c *corpus.Case) string {
	s := ""
	if c.Snaplen != nil {
		s = fmt.Sprint(*c.Snaplen)
	}
	nm := ""
	if c.Netmask != nil {
		nm = *c.Netmask
	}
	return fmt.Sprintf("%s|%s|%s|%s|%v|%s", c.DLT, c.Expr, s, nm, c.HasLinuxExt(), offlineFlag(t, c.Label))
}

// TestTESTrunAccept compiles every filter_accept case of libpcap's test
// suite, verifies each program, and runs it against libpcap's expected
// unoptimized program (through libpcap's own bpf_filter) on the corpus
// packets of the link type, mutations of them and random packets: the
// verdicts must agree. Cases needing options wring does not model are
// listed as skipped with the reason.
func TestTESTrunAccept(t *testing.T) {
	cases := corpus.CasesOf(t, "filter_accept")
	unopt := map[string]spec.Program{}
	for i := range cases {
		c := &cases[i]
		if c.Optimize == 0 {
			if p, err := spec.ParseText([]byte(c.Expected), spec.TextListing); err == nil {
				unopt[caseKey(t, c)] = p
			}
		}
	}
	var total, compiled, verified, compared, disagree, verdicts int
	skipped := map[string][]string{}
	failed := map[string][]string{}
	for i := range cases {
		c := &cases[i]
		if c.Expr == "_enumerate_bpf_image" {
			skipped["not an expression (listing format test)"] = append(skipped["not an expression (listing format test)"], c.Label)
			continue
		}
		if c.Savefile != "" {
			continue
		}
		total++
		o, ok := optionsOf(t, c)
		if !ok {
			failed["unknown DLT "+c.DLT] = append(failed["unknown DLT "+c.DLT], c.Label)
			continue
		}
		prog, err := Compile(c.Expr, o)
		if err != nil {
			k := err.Error()
			if i := strings.Index(k, ": "); i >= 0 {
				k = k[i+2:]
			}
			failed[k] = append(failed[k], c.DLT+": "+c.Expr)
			continue
		}
		compiled++
		vp, err := verifier.Verify(prog, verifyOpts(o))
		if err != nil {
			t.Errorf("%s (%s %q): program does not verify: %v", c.Label, c.DLT, c.Expr, err)
			continue
		}
		verified++
		want, ok := unopt[caseKey(t, c)]
		if !ok {
			continue
		}
		if o.LinuxExt {
			// libpcap's program reads socket-buffer metadata: run both in
			// wring's VM under several metadata values.
			wp, err := verifier.Verify(want, verifier.Options{})
			if err != nil {
				t.Errorf("%s: libpcap's program does not verify: %v", c.Label, err)
				continue
			}
			pkts, wls := packetsFor(t, o.LinkType, 20, int64(i))
			compared++
		meta:
			for _, m := range []vm.Meta{{}, {PktType: 4}, {PktType: 1, Ifindex: 10}, {Ifindex: 7, VLANPresent: true, VLANTCI: 10}} {
				for k, pk := range pkts {
					verdicts++
					if got, exp := vm.Run(vp, pk, wls[k], &m), vm.Run(wp, pk, wls[k], &m); got != exp {
						disagree++
						t.Errorf("%s (%q, meta %+v): packet %d: wring %d, libpcap %d", c.Label, c.Expr, m, k, got, exp)
						break meta
					}
				}
			}
			continue
		}
		oracle := pcaporacle.New(want)
		pkts, wls := packetsFor(t, o.LinkType, 150, int64(i))
		cp, cw := craftPackets(want, craftedPerCase(), int64(i))
		pkts, wls = append(pkts, cp...), append(wls, cw...)
		compared++
		for k, pk := range pkts {
			verdicts++
			got := vm.Run(vp, pk, wls[k], nil)
			exp := oracle.Run(pk, wls[k])
			if got != exp {
				disagree++
				t.Errorf("%s (%s %q opt=%d): packet %d (%d bytes %x): wring %d, libpcap %d",
					c.Label, c.DLT, c.Expr, c.Optimize, k, len(pk), pk[:min(len(pk), 48)], got, exp)
				break
			}
		}
	}
	var keys []string
	for k := range failed {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return len(failed[keys[i]]) > len(failed[keys[j]]) })
	nfail := 0
	for _, k := range keys {
		nfail += len(failed[k])
		t.Logf("not compiled (%d): %s, e.g. %q", len(failed[k]), k, failed[k][0])
	}
	for k, v := range skipped {
		t.Logf("skipped (%d): %s", len(v), k)
	}
	pct := 100 * float64(compiled) / float64(total)
	t.Logf("filter_accept: %d cases, %d compiled (%.2f%%), %d verified, %d compared with libpcap's unoptimized program on %d packets, %d disagree",
		total, compiled, pct, verified, compared, verdicts, disagree)
	if pct < 95 {
		t.Errorf("only %.2f%% of filter_accept cases compile, want at least 95%%", pct)
	}
}

// TestTESTrunReject checks that every filter_reject case is rejected with
// an *Error whose position lies inside the expression.
func TestTESTrunReject(t *testing.T) {
	cases := corpus.CasesOf(t, "filter_reject")
	var total, rejected, sameText int
	accepted := map[string][]string{}
	otherText := map[string][]string{}
	skipped := 0
	for i := range cases {
		c := &cases[i]
		if c.DLT == "" {
			skipped++ // a savefile header test: the capture file reader's concern
			continue
		}
		total++
		o, ok := optionsOf(t, c)
		if !ok {
			t.Errorf("%s: unknown DLT %s", c.Label, c.DLT)
			continue
		}
		_, err := Compile(c.Expr, o)
		if err == nil {
			k := c.Expected
			accepted[k] = append(accepted[k], c.DLT+": "+c.Expr)
			continue
		}
		e, ok := err.(*Error)
		if !ok {
			t.Errorf("%s: error %v is not an *Error", c.Label, err)
			continue
		}
		if e.Pos < 0 || e.Pos > len(c.Expr) || e.Pos+e.Len > len(c.Expr)+1 {
			t.Errorf("%s %q: error position %d+%d outside the expression", c.Label, c.Expr, e.Pos, e.Len)
		}
		rejected++
		if strings.Contains(e.Msg, c.Expected) {
			sameText++
		} else {
			k := c.Expected
			otherText[k] = append(otherText[k], fmt.Sprintf("%s %q: %s", c.DLT, c.Expr, e.Msg))
		}
	}
	var keys []string
	for k := range accepted {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return len(accepted[keys[i]]) > len(accepted[keys[j]]) })
	for _, k := range keys {
		t.Logf("wrongly accepted (%d), libpcap says %q: e.g. %q", len(accepted[k]), k, accepted[k][0])
	}
	keys = keys[:0]
	for k := range otherText {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return len(otherText[keys[i]]) > len(otherText[keys[j]]) })
	for _, k := range keys {
		if testing.Verbose() {
			t.Logf("other message (%d), libpcap says %q: e.g. %s", len(otherText[k]), k, otherText[k][0])
		}
	}
	pct := 100 * float64(rejected) / float64(total)
	t.Logf("filter_reject: %d cases, %d rejected (%.2f%%), %d with libpcap's message text; %d savefile header cases skipped (no expression)",
		total, rejected, pct, sameText, skipped)
	if len(accepted) > 0 {
		t.Errorf("%d filter_reject cases wrongly accepted", total-rejected)
	}
	if pct < 99 {
		t.Errorf("only %.2f%% of filter_reject cases rejected, want at least 99%%", pct)
	}
}

// readSavefile reads a capture file the way libpcap does (the snapshot
// length of the file is what a matching filter returns).
func readSavefile(path string) (*corpus.Capture, error) {
	r, err := pcapfile.Open(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	c := &corpus.Capture{LinkType: r.LinkType(), Snaplen: r.Snaplen()}
	for {
		var info packet.Info
		b, err := r.ReadPacket(&info)
		if err == io.EOF {
			return c, nil
		}
		if err != nil {
			return c, err
		}
		c.Packets = append(c.Packets, corpus.Packet{Data: append([]byte(nil), b...), WireLen: info.WireLen})
	}
}

// libpcap110 lists the TESTrun cases where Options.Libpcap110 (libpcap
// 1.10's meaning, which Debian's tcpdump 1.10.3 gives) differs from the
// default (libpcap master's, which TESTrun's tables expect): "DLT
// expr-substring", with the reason.
var libpcap110 = []struct{ dlt, expr, why string }{
	{"SLIP", "outbound", "1.10's SLIP outbound is direction byte != 0, master's == 1"},
	{"ARCNET", "", "1.10 also takes the RFC 1051 ARCnet types 0xf0 (IP) and 0xf1 (ARP); master only the RFC 1201 ones"},
	{"ARCNET_LINUX", "", "1.10 also takes the RFC 1051 ARCnet types 0xf0 (IP) and 0xf1 (ARP); master only the RFC 1201 ones"},
	{"PPI", "type", "1.10 refuses 802.11 type/subtype on PPI; master compiles them"},
	{"PPI", "dir", "1.10 refuses 802.11 dir on PPI; master compiles it"},
	{"BACNET_MS_TP", "link proto", "1.10 compiles any link-layer protocol on BACNET_MS_TP as the MS/TP preamble test; master refuses"},
	{"BACNET_MS_TP", "broadcast", "1.10 has no MS/TP broadcast (\"not a broadcast link\"); master has"},
	{"BACNET_MS_TP", "$", "1.10 has 8-bit host addresses on ARCnet only; master also on MS/TP"},
	{"DSA_TAG_BRCM", "", "1.10 has no link-layer filtering on DSA tags; master filters the Ethernet frame after the tag"},
	{"DSA_TAG_DSA", "", "1.10 has no link-layer filtering on DSA tags; master filters the Ethernet frame after the tag"},
	{"IPV4", "ip multicast", "1.10 tests dst >= 224.0.0.0; master dst & 0xf0 == 0xe0"},
	{"EN10MB", "vxlan", "vxlan is not a keyword in 1.10 (a syntax error alone, a host name after and/or)"},
	{"EN10MB", "1500", "1.10 compiles an LLC SAP above 255 (ether proto 1500) as given; master refuses it"},
}

// TestLibpcap110Option checks that Options.Libpcap110 changes what each
// listed kind of TESTrun case compiles to (the default is checked against
// TESTrun itself, the option against tcpdump 1.10.3 by TestOracle and the
// read acceptance test).
func TestLibpcap110Option(t *testing.T) {
	changed := map[string]int{}
	for _, kind := range []string{"filter_accept", "filter_reject", "filter_apply"} {
		cases := corpus.CasesOf(t, kind)
		for i := range cases {
			c := &cases[i]
			var o Options
			if kind == "filter_apply" {
				lt, err := spec.ParseLinkType(c.DLT)
				if err != nil {
					continue
				}
				o = Options{LinkType: lt}
			} else {
				var ok bool
				if o, ok = optionsOf(t, c); !ok {
					continue
				}
			}
			for _, d := range libpcap110 {
				if d.dlt != c.DLT || !strings.Contains(c.Expr, d.expr) {
					continue
				}
				p0, e0 := Compile(c.Expr, o)
				o.Libpcap110 = true
				p1, e1 := Compile(c.Expr, o)
				if (e0 == nil) != (e1 == nil) || fmt.Sprint(p0) != fmt.Sprint(p1) {
					changed[d.dlt+" "+d.expr]++
				}
				break
			}
		}
	}
	for _, d := range libpcap110 {
		if d.dlt == "ARCNET_LINUX" {
			continue // counted under whichever ARCnet listing TESTrun has
		}
		k := d.dlt + " " + d.expr
		if changed[k] == 0 {
			t.Errorf("%s: no TESTrun case changes with Libpcap110 (%s)", k, d.why)
		}
		t.Logf("%s: %d cases change with Libpcap110: %s", k, changed[k], d.why)
	}
}

// applyDeviations are the filter_apply cases where wring's default
// options give another result than libpcap, with the reason. The test
// checks that each still differs, and that the option named in the reason
// removes the difference.
var applyDeviations = map[string]string{
	"apply_ip6_protochain_17_deepstack_unopt": "the packet has 101 IPv6 extension headers; protochain follows DefaultProtochainDepth (8) unless Options.ProtochainDepth allows more",
	"apply_ip6_protochain_17_deepstack_opt":   "the packet has 101 IPv6 extension headers; protochain follows DefaultProtochainDepth (8) unless Options.ProtochainDepth allows more",
}

// TestTESTrunApply runs every filter_apply case: the expression compiled
// for the savefile's link type must give libpcap's result on every packet.
func TestTESTrunApply(t *testing.T) {
	cases := corpus.CasesOf(t, "filter_apply")
	root := corpus.Need(t)
	var total, pass, deviations int
	for i := range cases {
		c := &cases[i]
		total++
		cp, err := readSavefile(filepath.Join(root, "libpcap", c.Savefile))
		if err != nil {
			t.Errorf("%s: %v", c.Label, err)
			continue
		}
		o := Options{LinkType: cp.LinkType, Snaplen: cp.Snaplen, Optimize: c.Optimize == 1, Resolver: testResolver{}}
		if c.Netmask != nil {
			a := netip.MustParseAddr(*c.Netmask).As4()
			o.Netmask, o.HasNetmask = uint32(a[0])<<24|uint32(a[1])<<16|uint32(a[2])<<8|uint32(a[3]), true
		}
		prog, err := Compile(c.Expr, o)
		if err != nil {
			t.Errorf("%s: %q on %s: %v", c.Label, c.Expr, c.Savefile, err)
			continue
		}
		vp, err := verifier.Verify(prog, verifyOpts(o))
		if err != nil {
			t.Errorf("%s: %q: does not verify: %v", c.Label, c.Expr, err)
			continue
		}
		var got []string
		for _, pk := range cp.Packets {
			got = append(got, fmt.Sprint(vm.Run(vp, pk.Data, max(pk.WireLen, uint32(len(pk.Data))), nil)))
		}
		want := strings.Fields(c.Expected)
		same := strings.Join(got, " ") == strings.Join(want, " ")
		if why, ok := applyDeviations[c.Label]; ok {
			if same {
				t.Errorf("%s: listed as a deviation (%s) but gives libpcap's result", c.Label, why)
				continue
			}
			o.ProtochainDepth = MaxProtochainDepth
			prog, err := Compile(c.Expr, o)
			if err != nil {
				t.Fatalf("%s: with ProtochainDepth %d: %v", c.Label, MaxProtochainDepth, err)
			}
			vp, err := verifier.Verify(prog, verifyOpts(o))
			if err != nil {
				t.Fatalf("%s: with ProtochainDepth %d: does not verify: %v", c.Label, MaxProtochainDepth, err)
			}
			got = got[:0]
			for _, pk := range cp.Packets {
				got = append(got, fmt.Sprint(vm.Run(vp, pk.Data, max(pk.WireLen, uint32(len(pk.Data))), nil)))
			}
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("%s: with ProtochainDepth %d (%d instructions):\n got %v\nwant %v", c.Label, MaxProtochainDepth, len(prog), got, want)
				continue
			}
			deviations++
			t.Logf("%s: deviation with the default options: %s; %d instructions with ProtochainDepth %d give libpcap's result",
				c.Label, why, len(prog), MaxProtochainDepth)
			continue
		}
		if !same {
			t.Errorf("%s: %q on %s:\n got %v\nwant %v", c.Label, c.Expr, c.Savefile, got, want)
			continue
		}
		pass++
	}
	t.Logf("filter_apply: %d cases, %d give libpcap's per-packet results, %d documented deviations with the default options", total, pass, deviations)
}
