package expr

import (
	"fmt"
	"math/rand"
	"os"
	"strings"
	"testing"

	"github.com/wringcap/wring/internal/pcaporacle"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
	"github.com/wringcap/wring/vm"
)

// randomExpr builds a random expression from primitives on which libpcap
// 1.10 and 1.11 agree, joined with and/or/not and parentheses, with
// random arithmetic relations.
func randomExpr(r *rand.Rand, depth int) string {
	prims := []string{"ip", "ip6", "arp", "tcp", "udp", "icmp", "icmp6", "vlan", "mpls", "pppoes",
		"tcp port 80", "udp port 53", "port 443", "src port 22", "dst portrange 1000-2000",
		"host 10.0.0.1", "src net 192.168.0.0/16", "dst host fe80::1", "net 2001:db8::/32",
		"ether broadcast", "ether multicast", "ether host 00:11:22:33:44:55", "ip6 multicast",
		"ip proto 47", "ip6 proto 58", "less 100", "greater 1000", "tcp[tcpflags] & tcp-syn != 0",
		"icmp[icmptype] = icmp-echo", "ip[8] > 64", "ether proto 0x88cc", "stp", "llc", "atalk",
		"decnet", "ipx", "iso", "sctp", "ah", "esp", "pim", "vrrp", "igmp"}
	if depth <= 0 || r.Intn(3) == 0 {
		if r.Intn(4) == 0 {
			return randomRel(r)
		}
		return prims[r.Intn(len(prims))]
	}
	switch r.Intn(4) {
	case 0:
		return "not " + randomExpr(r, depth-1)
	case 1:
		return "(" + randomExpr(r, depth-1) + ")"
	case 2:
		return randomExpr(r, depth-1) + " and " + randomExpr(r, depth-1)
	}
	return randomExpr(r, depth-1) + " or " + randomExpr(r, depth-1)
}

// randomArith builds an arithmetic expression; with proto false it loads
// only from the link layer, so it has no protocol checks.
func randomArith(r *rand.Rand, depth int, proto bool) string {
	if depth <= 0 || r.Intn(3) == 0 {
		switch r.Intn(4) {
		case 0:
			return fmt.Sprint(r.Intn(300))
		case 1:
			return "len"
		case 2:
			p := []string{"ether", "ip", "tcp", "udp", "ip6", "icmp"}[r.Intn(6)]
			if !proto {
				p = "ether"
			}
			return fmt.Sprintf("%s[%d:%d]", p, r.Intn(40), []int{1, 2, 4}[r.Intn(3)])
		}
		if !proto {
			return fmt.Sprintf("ether[%s]", randomArith(r, depth-1, false))
		}
		return fmt.Sprintf("ip[%s]", randomArith(r, depth-1, true))
	}
	ops := []string{"+", "-", "*", "&", "|", "<<", ">>", "/"}
	op := ops[r.Intn(len(ops))]
	rhs := randomArith(r, depth-1, proto)
	if op == "<<" || op == ">>" || op == "/" {
		rhs = fmt.Sprint(1 + r.Intn(20))
	}
	return "(" + randomArith(r, depth-1, proto) + " " + op + " " + rhs + ")"
}

// randomRel builds a relation. Only its left side has protocol checks:
// libpcap 1.10 tests the left side's checks first, 1.11 the right side's,
// which changes the verdict on packets truncated inside those checks.
func randomRel(r *rand.Rand) string {
	rel := []string{"=", "!=", "<", "<=", ">", ">="}[r.Intn(6)]
	return randomArith(r, 2, true) + " " + rel + " " + randomArith(r, 2, false)
}

// TestRandomAgainstLibpcap compiles random expressions over primitives on
// which libpcap 1.10 and 1.11 agree, and compares verdicts with Debian's
// libpcap (tcpdump -ddd, run by libpcap's bpf_filter) on the Ethernet test
// packets. WRING_RANDOM_EXPRS sets how many (default 150).
func TestRandomAgainstLibpcap(t *testing.T) {
	if _, err := pcaporacle.Tcpdump(); err != nil {
		t.Skipf("tcpdump not available: %v", err)
	}
	n := 150
	if s := os.Getenv("WRING_RANDOM_EXPRS"); s != "" {
		fmt.Sscan(s, &n)
	}
	if testing.Short() {
		n = 20
	}
	r := rand.New(rand.NewSource(42))
	pkts, wl := packetsFor(t, spec.LinkEthernet, 600, 7)
	var compared int
	for i := 0; i < n; i++ {
		e := randomExpr(r, 3)
		ref, err := pcaporacle.Compile(e, "EN10MB", pcaporacle.Options{Unoptimized: true})
		if err != nil {
			continue
		}
		prog, err := Compile(e, Options{LinkType: spec.LinkEthernet, Optimize: i%2 == 0})
		if err != nil {
			if strings.Contains(err.Error(), "rejects all packets") {
				continue
			}
			t.Errorf("%q: tcpdump compiles it, wring: %v", e, err)
			continue
		}
		vp, err := verifier.Verify(prog, verifier.Options{NoAncillary: true})
		if err != nil {
			t.Errorf("%q: does not verify: %v", e, err)
			continue
		}
		o := pcaporacle.New(ref)
		compared++
		for k, p := range pkts {
			if got, want := vm.Run(vp, p, wl[k], nil), o.Run(p, wl[k]); got != want {
				t.Errorf("%q packet %d (%x): wring %d, libpcap %d", e, k, p[:min(len(p), 64)], got, want)
				break
			}
		}
	}
	t.Logf("%d random expressions compared with libpcap on %d packets each", compared, len(pkts))
}
