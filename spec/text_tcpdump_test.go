package spec_test

import (
	"bytes"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/spec"
)

// tcpdumpExprs cover every instruction kind tcpdump emits for EN10MB:
// loads of each size and mode, scratch, every ALU operation with k and x,
// negation, register transfers, every conditional jump.
var tcpdumpExprs = []string{
	"",
	"tcp port 80",
	"udp and port 53",
	"host 192.0.2.7 and (tcp or udp)",
	"vlan and tcp[tcpflags] & tcp-syn != 0",
	"ip6 and tcp dst port 443",
	"vlan and tcp port 80",
	"mpls and udp",
	"ip[2:2] - 1 > 5 or ip[0] * 3 = 4 or ip[0] / 2 = 1 or -ip[0] = 1",
	"ip[0] % 3 = 0 or ip[1] ^ 7 = 1 or ip[0] << 2 > 3 or ip[0] >> 1 < 9",
	"ip[0] & 0xf0 = 0x40 and ip[1] | 3 = 3",
	"tcp[tcp[12] >> 4] = 1",
	"ip[2:2] - tcp[1] > ip[0] + ip[1]",
	"len > 100 and len <= 1500",
	"greater 64 or less 32",
	"ether host 01:02:03:04:05:06",
	"ether broadcast or ether multicast",
	"portrange 1000-2000",
	"net 10.0.0.0/8 and not src net 10.1.0.0/16",
	"icmp[icmptype] = icmp-echo",
	"ip6 and icmp6",
	"arp or rarp",
	"ip proto 47 or ip6 proto 47",
	"ip[6:2] & 0x1fff = 0 and ip[8] > 64",
	"tcp[13] & 2 != 0 and tcp[2:2] >= 1024",
	"udp[8:4] = 0xdeadbeef",
	"ether[0] & 1 = 1 and ether[12:2] > 1500",
	"ip and ip[0] & 0xf != 5",
	"pppoes and ip",
	"geneve and ip",
	"ip[0] - 0xffffffff = 5",
}

// tcpdump runs Debian's tcpdump with flag (-d, -dd or -ddd) on expr for
// EN10MB.
func tcpdump(t *testing.T, flag string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("tcpdump", append([]string{flag}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tcpdump %s %q: %v\n%s", flag, args, err, stderr.Bytes())
	}
	return out
}

func needTcpdump(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("tcpdump"); err != nil {
		corpus.Unavailable(t, "tcpdump is not installed")
	}
}

// TestFormatsMatchTcpdump compares each printer with tcpdump's own -d, -dd
// and -ddd output byte for byte, and checks that the three outputs parse to
// the same program.
func TestFormatsMatchTcpdump(t *testing.T) {
	needTcpdump(t)
	for _, expr := range tcpdumpExprs {
		checkAgainstTcpdump(t, expr, "-y", "EN10MB", expr)
	}
}

// TestListingAncillaryMatchesTcpdump covers the Linux ancillary loads
// tcpdump emits when it compiles for a live Linux interface (here lo).
func TestListingAncillaryMatchesTcpdump(t *testing.T) {
	needTcpdump(t)
	if err := exec.Command("tcpdump", "-d", "-i", "lo", "vlan").Run(); err != nil {
		corpus.Unavailable(t, "tcpdump cannot open lo to compile for a live interface (needs root): "+err.Error())
	}
	for _, expr := range []string{"vlan", "vlan 10 and tcp", "vlan and vlan 20", "inbound", "outbound and udp", "ifindex 1"} {
		out := tcpdump(t, "-d", "-i", "lo", expr)
		if !bytes.Contains(out, []byte("[")) {
			t.Fatalf("%q: no loads in listing", expr)
		}
		checkAgainstTcpdump(t, expr, "-i", "lo", expr)
	}
}

func checkAgainstTcpdump(t *testing.T, name string, args ...string) {
	t.Helper()
	want := map[spec.Format][]byte{
		spec.TextListing: tcpdump(t, "-d", args...),
		spec.TextC:       tcpdump(t, "-dd", args...),
		spec.TextDecimal: tcpdump(t, "-ddd", args...),
	}
	var progs []spec.Program
	for _, f := range []spec.Format{spec.TextListing, spec.TextC, spec.TextDecimal} {
		if got := spec.DetectFormat(want[f]); got != f {
			t.Errorf("%q: DetectFormat(tcpdump %v output) = %v", name, f, got)
		}
		p, err := spec.ParseText(want[f], f)
		if err != nil {
			t.Errorf("%q: parse tcpdump's %v output: %v\n%s", name, f, err, want[f])
			return
		}
		var b bytes.Buffer
		if err := spec.WriteText(&b, p, f); err != nil {
			t.Fatalf("%q: write %v: %v", name, f, err)
		}
		if !bytes.Equal(b.Bytes(), want[f]) {
			t.Errorf("%q: %v output differs from tcpdump's\n- want:\n%s\n-  got:\n%s", name, f, want[f], b.Bytes())
		}
		progs = append(progs, p)
	}
	// -dd and -ddd are exact; the listing keeps the canonical fields only.
	if !slices.Equal(progs[1], progs[2]) {
		t.Errorf("%q: -dd and -ddd parse to different programs", name)
	}
	if !slices.Equal(progs[0], progs[2].Canonical()) {
		t.Errorf("%q: -d does not parse to the canonical form of -ddd", name)
	}
	// Assembly has no tcpdump form; it must come back to the same program.
	var asm bytes.Buffer
	if err := spec.FormatAsm(&asm, progs[2]); err != nil {
		t.Fatalf("%q: FormatAsm: %v", name, err)
	}
	back, err := spec.ParseText(asm.Bytes(), spec.TextAsm)
	if err != nil {
		t.Fatalf("%q: reparse assembly: %v\n%s", name, err, asm.Bytes())
	}
	if !slices.Equal(back, progs[2].Canonical()) {
		t.Errorf("%q: assembly round trip differs\n%s", name, asm.Bytes())
	}
	if strings.Contains(string(want[spec.TextListing]), "unimp") {
		t.Errorf("%q: tcpdump printed unimp", name)
	}
}

// TestTcpdumpCorpusListings runs Debian's tcpdump -d and -ddd on every
// expression of libpcap's filter_accept cases that it compiles (same link
// type, optimisation and snap length; cases needing a netmask or Linux
// extensions are left out) and checks that each -d listing parses to the
// canonical form of the -ddd program and prints back byte for byte.
func TestTcpdumpCorpusListings(t *testing.T) {
	needTcpdump(t)
	type job struct {
		label string
		args  []string
	}
	seen := map[string]bool{}
	var jobs []job
	for _, c := range corpus.CasesOf(t, "filter_accept") {
		if c.HasLinuxExt() || c.Netmask != nil {
			continue
		}
		args := []string{"-y", c.DLT}
		if c.Optimize == 0 {
			args = append(args, "-O")
		}
		if c.Snaplen != nil {
			args = append(args, "-s", strconv.Itoa(*c.Snaplen))
		}
		args = append(args, "--", c.Expr)
		key := strings.Join(args, "\x00")
		if seen[key] {
			continue
		}
		seen[key] = true
		jobs = append(jobs, job{c.Label, args})
	}
	type result struct {
		label            string
		listing, decimal []byte
		err              error
	}
	results := make([]result, len(jobs))
	var wg sync.WaitGroup
	next := make(chan int)
	for range 16 { // tcpdump mostly waits; 16 at a time keeps two cores busy
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				r := result{label: jobs[i].label}
				r.listing, r.err = exec.Command("tcpdump", append([]string{"-d"}, jobs[i].args...)...).Output()
				if r.err == nil {
					r.decimal, r.err = exec.Command("tcpdump", append([]string{"-ddd"}, jobs[i].args...)...).Output()
				}
				results[i] = r
			}
		}()
	}
	for i := range jobs {
		next <- i
	}
	close(next)
	wg.Wait()
	compiled, refused, insns := 0, 0, 0
	for _, r := range results {
		if r.err != nil {
			refused++ // libpcap 1.10.3 does not know the expression (1.11 syntax, missing names)
			continue
		}
		compiled++
		want, err := spec.ParseText(r.decimal, spec.TextDecimal)
		if err != nil {
			t.Errorf("%s: parse -ddd: %v", r.label, err)
			continue
		}
		got, err := spec.ParseText(r.listing, spec.TextAuto)
		if err != nil {
			t.Errorf("%s: parse -d: %v\n%s", r.label, err, r.listing)
			continue
		}
		insns += len(got)
		if !slices.Equal(got, want.Canonical()) {
			t.Errorf("%s: -d parses to a different program than -ddd\n%s", r.label, r.listing)
		}
		var b bytes.Buffer
		spec.FormatListing(&b, got)
		if !bytes.Equal(b.Bytes(), r.listing) {
			t.Errorf("%s: listing printer differs from tcpdump -d\n- want:\n%s\n-  got:\n%s", r.label, r.listing, b.Bytes())
		}
	}
	t.Logf("%d distinct accept cases: tcpdump 1.10.3 compiled %d (%d instructions); each -d listing checked against -ddd and the printer; %d refused by tcpdump",
		len(jobs), compiled, insns, refused)
	if compiled < len(jobs)/2 {
		t.Errorf("only %d of %d cases compiled", compiled, len(jobs))
	}
}
