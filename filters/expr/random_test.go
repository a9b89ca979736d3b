package expr

import (
	"fmt"
	"math/rand"
	"os"
	"strings"
	"testing"

	"github.com/wringcap/wring/internal/pcaporacle"
	"github.com/wringcap/wring/verifier"
	"github.com/wringcap/wring/vm"
)

// randomExpr builds a random expression from primitives on which libpcap
// 1.10 and 1.11 agree, joined with and/or/not and parentheses, with
// random arithmetic relations.
func randomExpr(r *rand.Rand, depth int, rels bool) string {
	prims := []string{"ip", "ip6", "arp", "tcp", "udp", "icmp", "icmp6", "vlan", "mpls", "pppoes",
		"tcp port 80", "udp port 53", "port 443", "src port 22", "dst portrange 1000-2000",
		"host 10.0.0.1", "src net 192.168.0.0/16", "dst host fe80::1", "net 2001:db8::/32",
		"ether broadcast", "ether multicast", "ether host 00:11:22:33:44:55", "ip6 multicast",
		"ip proto 47", "ip6 proto 58", "less 100", "greater 1000", "tcp[tcpflags] & tcp-syn != 0",
		"icmp[icmptype] = icmp-echo", "ip[8] > 64", "ether proto 0x88cc", "stp", "llc", "atalk",
		"decnet", "ipx", "iso", "sctp", "ah", "esp", "pim", "vrrp", "igmp",
		"vlan 100", "mpls 17", "pppoes 0x3b", "ether proto \\ip", "decnet src 1.1", "iso proto \\isis",
		"llc s", "llc ui", "wlan type data", "type mgt subtype beacon", "dir tods", "wlan addr2 12:34:56:78:9a:bc",
		"ether src 12:34:56:78:9a:bc", "ip protochain 6", "ip6 protochain 17", "icmp6[icmp6type] = icmp6-echo",
		"tcp src portrange 20-21", "ip6 src net fe80::/10", "arp dst host 10.0.0.1", "rarp", "link proto \\ip6"}
	// Not here: the IS-IS PDU types (l1, l2, iih, ...), which 1.11 masks
	// with 0x1f and 1.10 does not.
	if depth <= 0 || r.Intn(3) == 0 {
		if rels && r.Intn(4) == 0 {
			return randomRel(r)
		}
		return prims[r.Intn(len(prims))]
	}
	switch r.Intn(4) {
	case 0:
		return "not " + randomExpr(r, depth-1, rels)
	case 1:
		return "(" + randomExpr(r, depth-1, rels) + ")"
	case 2:
		return randomExpr(r, depth-1, rels) + " and " + randomExpr(r, depth-1, rels)
	}
	return randomExpr(r, depth-1, rels) + " or " + randomExpr(r, depth-1, rels)
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
// libpcap (tcpdump -ddd, run by libpcap's bpf_filter) on the test packets
// of a random link type. WRING_RANDOM_EXPRS sets how many (default 150).
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
	lts := []string{"EN10MB", "EN10MB", "EN10MB", "LINUX_SLL", "LINUX_SLL2", "RAW", "IPV4", "IPV6", "NULL", "LOOP",
		"PPP", "IEEE802_11", "IEEE802_11_RADIO", "FDDI", "C_HDLC"}
	var compared, folded, uninit, deeper int
	var unchecked []string
	for i := 0; i < n; i++ {
		dlt := lts[r.Intn(len(lts))]
		// On 802.11 link types the payload offset lives in a scratch slot,
		// and libpcap 1.10 reuses that slot for arithmetic temporaries
		// (it takes both from one pool): its verdicts on expressions with
		// arithmetic there are wrong, so none are generated.
		e := randomExpr(r, 3, !strings.HasPrefix(dlt, "IEEE802_11"))
		lt, err := ParseLinkType(dlt)
		if err != nil {
			t.Fatal(err)
		}
		ref, err := pcaporacle.Compile(e, dlt, pcaporacle.Options{Unoptimized: true})
		if err != nil {
			continue
		}
		pkts, wl := packetsFor(t, lt, 600, int64(i))
		cp, cw := craftPackets(ref, craftedPerCase(), int64(i))
		pkts, wl = append(pkts, cp...), append(wl, cw...)
		prog, err := Compile(e, Options{LinkType: lt, Optimize: i%2 == 0})
		if err != nil {
			if strings.Contains(err.Error(), "rejects all packets") {
				continue
			}
			t.Errorf("%s %q: tcpdump compiles it, wring: %v", dlt, e, err)
			continue
		}
		vp, err := verifier.Verify(prog, verifier.Options{NoAncillary: true})
		if err != nil {
			t.Errorf("%q: does not verify: %v", e, err)
			continue
		}
		if len(initScratch(ref)) != len(ref) {
			// libpcap's program reads a scratch slot it never wrote (as
			// for "pppoes" on radiotap, where libpcap stores the header
			// length in the wrong slot): its C interpreter then reads
			// stack garbage. wring's programs read zero there.
			uninit++
			continue
		}
		o := pcaporacle.New(ref)
		compared++
		for k, p := range pkts {
			got, want := vm.Run(vp, p, wl[k], nil), o.Run(p, wl[k])
			if got == want {
				continue
			}
			// libpcap 1.11 folds constant predicates ("X or true" is
			// true without evaluating X, whose loads might fail); 1.10
			// does not. Without folding, wring must agree with 1.10.
			nf, err := Compile(e, Options{LinkType: lt, noFold: true})
			if err != nil {
				t.Fatalf("%q without folding: %v", e, err)
			}
			nvp, err := verifier.Verify(nf, verifier.Options{NoAncillary: true})
			if err != nil {
				t.Fatalf("%q without folding: %v", e, err)
			}
			if vm.Run(nvp, p, wl[k], nil) == want {
				folded++
				break
			}
			// protochain follows DefaultProtochainDepth headers; crafted
			// packets can chain more.
			matched, tooLong := false, false
			for _, d := range []int{32, 64, MaxProtochainDepth} {
				deep, err := Compile(e, Options{LinkType: lt, noFold: true, ProtochainDepth: d})
				if err != nil {
					tooLong = IsUnsupported(err)
					continue
				}
				if dvp, err := verifier.Verify(deep, verifier.Options{NoAncillary: true}); err == nil && vm.Run(dvp, p, wl[k], nil) == want {
					matched = true
					break
				}
			}
			if matched {
				deeper++
				break
			}
			if tooLong && strings.Contains(e, "protochain") {
				// Two protochains unrolled to 128 steps do not fit in
				// 4096 instructions: the difference cannot be checked.
				unchecked = append(unchecked, e)
				break
			}
			t.Errorf("%s %q packet %d (%x): wring %d, libpcap %d", dlt, e, k, p[:min(len(p), 64)], got, want)
			break
		}
	}
	t.Logf("%d random expressions compared with libpcap on the test packets of their link type; %d differ only by 1.11's constant folding; "+
		"%d only by protochain's depth (a packet with more than %d extension headers); %d skipped: libpcap's program reads uninitialized scratch memory",
		compared, folded, deeper, DefaultProtochainDepth, uninit)
	for _, e := range unchecked {
		t.Logf("not checked: %q differs on a packet with a long extension-header chain, and does not fit at a protochain depth that would cover it", e)
	}
}
