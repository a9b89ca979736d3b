package expr

import (
	"errors"
	"strings"
	"testing"

	"github.com/wringcap/wring/internal/pcaporacle"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
	"github.com/wringcap/wring/vm"
)

// verdicts runs expression e, compiled for Ethernet, over the Ethernet
// test packets.
func verdicts(t *testing.T, e string) []uint32 {
	t.Helper()
	prog, err := Compile(e, Options{LinkType: spec.LinkEthernet})
	if err != nil {
		t.Fatalf("%q: %v", e, err)
	}
	vp, err := verifier.Verify(prog, verifier.Options{NoAncillary: true})
	if err != nil {
		t.Fatalf("%q: %v", e, err)
	}
	pkts, wl := packetsFor(t, spec.LinkEthernet, 400, 1)
	out := make([]uint32, len(pkts))
	for i, p := range pkts {
		out[i] = vm.Run(vp, p, wl[i], nil)
	}
	return out
}

func equalVerdicts(a, b []uint32) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestGrammarEquivalences checks the grammar's less obvious rules through
// equivalent spellings: and/or share one precedence and associate to the
// left, qualifiers carry over to bare identifiers after and/or, '!' and
// "not", "&&" and "and", "==" and "=", keyword aliases. Each left-hand
// expression is also compared with libpcap's own program for it.
func TestGrammarEquivalences(t *testing.T) {
	for _, tc := range []struct{ a, b, notB string }{
		{"tcp or udp and port 53", "(tcp or udp) and port 53", "tcp or (udp and port 53)"},
		{"host 10.0.0.1 or 10.0.0.2", "host 10.0.0.1 or host 10.0.0.2", ""},
		{"src host 10.0.0.1 and 10.0.0.2", "src host 10.0.0.1 and src host 10.0.0.2", ""},
		{"tcp port 80 or 443", "tcp port 80 or tcp port 443", "tcp port 80 or port 443"},
		{"port (53 or 80)", "port 53 or port 80", ""},
		{"not tcp and udp", "(not tcp) and udp", ""},
		{"! tcp && udp", "not tcp and udp", ""},
		{"ip[9] == 6", "ip[9] = 6", ""},
		{"ether[12:2] = 0x800", "link[12:2] = 0x800", ""},
		{"len <= 100", "not len > 100", ""},
		{"less 100", "len <= 100", ""},
		{"greater 100", "len >= 100", ""},
		{"ip[2:2] - 20 * 2 > 100", "ip[2:2] - (20 * 2) > 100", "(ip[2:2] - 20) * 2 > 100"},
		{"ip[0] & 0xf << 2 > 20", "ip[0] & (0xf << 2) > 20", ""},
		{"tcp[tcpflags] & tcp-syn != 0", "tcp[13] & 2 != 0", ""},
		{"icmp[icmptype] = icmp-echo", "icmp[0] = 8", ""},
		{"ip proto \\tcp", "ip proto 6", ""},
		{"ether proto \\arp", "arp", ""},
		{"vlan and ip", "ether[12:2] = 0x8100 and ether[16:2] = 0x800 or ether[12:2] = 0x88a8 and ether[16:2] = 0x800 or ether[12:2] = 0x9100 and ether[16:2] = 0x800", ""},
	} {
		a := verdicts(t, tc.a)
		if !equalVerdicts(a, verdicts(t, tc.b)) {
			t.Errorf("%q and %q give different verdicts", tc.a, tc.b)
		}
		if tc.notB != "" && equalVerdicts(a, verdicts(t, tc.notB)) {
			t.Logf("%q and %q agree on every test packet (no packet tells them apart)", tc.a, tc.notB)
		}
		ref, err := pcaporacle.Compile(tc.a, "EN10MB", pcaporacle.Options{Unoptimized: true})
		if err != nil {
			continue // tcpdump missing: the equivalences still stand
		}
		pkts, wl := packetsFor(t, spec.LinkEthernet, 400, 1)
		o := pcaporacle.New(ref)
		for i, p := range pkts {
			if got, want := a[i], o.Run(p, wl[i]); got != want {
				t.Errorf("%q packet %d: wring %d, libpcap %d", tc.a, i, got, want)
				break
			}
		}
	}
}

// TestPercentAndCaretBindRight checks how '%' and '^' parse: they have no
// precedence in libpcap's grammar, so yacc always shifts, and they take
// everything to their right as their right operand.
func TestPercentAndCaretBindRight(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"1 + 2 % 3 + 4 = 0", "(1 + (2 % (3 + 4)))"},
		{"6 ^ 3 * 2 = 0", "(6 ^ (3 * 2))"},
		{"8 * 2 ^ 1 = 0", "(8 * (2 ^ 1))"},
		{"1 + 2 * 3 - 4 = 0", "((1 + (2 * 3)) - 4)"},
		{"1 | 2 & 3 << 4 = 0", "(1 | (2 & (3 << 4)))"},
		{"-1 + 2 = 0", "((-1) + 2)"},
	} {
		n, err := parse(tc.src)
		if err != nil {
			t.Fatalf("%q: %v", tc.src, err)
		}
		if got := showArith(n.(*nRel).l); got != tc.want {
			t.Errorf("%q parses as %s, want %s", tc.src, got, tc.want)
		}
	}
}

func showArith(a arith) string {
	ops := map[uint16]string{spec.ALUAdd: "+", spec.ALUSub: "-", spec.ALUMul: "*", spec.ALUDiv: "/",
		spec.ALUMod: "%", spec.ALUAnd: "&", spec.ALUOr: "|", spec.ALUXor: "^", spec.ALULsh: "<<", spec.ALURsh: ">>"}
	switch a := a.(type) {
	case *aNum:
		return itoa(int(a.v))
	case *aNeg:
		return "(-" + showArith(a.x) + ")"
	case *aBin:
		return "(" + showArith(a.l) + " " + ops[a.op] + " " + showArith(a.r) + ")"
	}
	return "?"
}

// TestErrorPositions checks that errors point at the offending text.
func TestErrorPositions(t *testing.T) {
	for _, tc := range []struct {
		src      string
		pos, len int
		sentinel error
	}{
		{"tcp port 80 and hst 1.2.3.4", 16, 3, ErrSyntax},
		{"tcp port", 8, 0, ErrSyntax},
		{"ip[0:3] = 1", 5, 1, ErrSyntax},
		{"port 99999", 5, 5, nil},
		{"ip and host 1.2.3.4/40", 12, 10, nil},
		{"udp and ip6 host fe80::1/64", 17, 10, nil},
		{"ether host 01:02:03:04:05:0g", 27, 1, ErrSyntax},
		{"host www.example.com", 5, 15, ErrNoResolver},
		{"tcp and ip6 net 2001:db8::1/32", 16, 14, nil},
		{"inbound", 0, 7, ErrUnsupported},
		{"tcp port 80 and udp host 1.2.3.4", 16, 16, nil},
		{"tcp port 80 and ether src 1.2.3.4", 26, 7, nil},
		{"1 / 0 = 1", 4, 1, nil},
	} {
		_, err := Compile(tc.src, Options{LinkType: spec.LinkEthernet})
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%q: error %v is not an *Error", tc.src, err)
			continue
		}
		if e.Pos != tc.pos || e.Len != tc.len {
			t.Errorf("%q: error at %d+%d, want %d+%d: %v\n%s", tc.src, e.Pos, e.Len, tc.pos, tc.len, err, Caret(tc.src, err))
		}
		if tc.sentinel != nil && !errors.Is(err, tc.sentinel) {
			t.Errorf("%q: %v does not wrap %v", tc.src, err, tc.sentinel)
		}
	}
}

// TestCaret renders the caret line under the offending bytes.
func TestCaret(t *testing.T) {
	src := "tcp port 80 and\thst 1.2.3.4"
	_, err := Compile(src, Options{LinkType: spec.LinkEthernet})
	want := "tcp port 80 and hst 1.2.3.4\n                ^~~"
	if got := Caret(src, err); got != want {
		t.Errorf("Caret:\n%s\nwant\n%s", got, want)
	}
	if Caret(src, errors.New("x")) != "" {
		t.Error("Caret of a foreign error is not empty")
	}
}

// TestOffsetSlotsSurviveArithmetic checks that arithmetic temporaries do
// not reuse the scratch slot of a variable header offset: on radiotap, the
// 802.11 payload offset is computed at the start into a slot, and an
// arithmetic relation evaluated before "ip6" must not overwrite it. (With
// one pool of slots, libpcap's own programs for the first spelling read a
// clobbered offset.)
func TestOffsetSlotsSurviveArithmetic(t *testing.T) {
	lt := spec.LinkIEEE802_11Radio
	pkts, wl := packetsFor(t, lt, 400, 3)
	// Radiotap (8 bytes, no fields), an 802.11 data frame, LLC/SNAP, then
	// IPv4/UDP or IPv6/UDP and 60 bytes of payload.
	for _, l3 := range [][]byte{
		append([]byte{0x08, 0x00, 0x45, 0, 0, 88, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2}, make([]byte, 8)...),
		append(append([]byte{0x86, 0xdd, 0x60, 0, 0, 0, 0, 68, 17, 64}, make([]byte, 32)...), make([]byte, 8)...),
	} {
		p := []byte{0, 0, 8, 0, 0, 0, 0, 0, 0x08, 0x00, 0, 0}
		p = append(p, make([]byte, 20)...)
		p = append(p, 0xaa, 0xaa, 0x03, 0, 0, 0)
		p = append(append(p, l3...), make([]byte, 60)...)
		pkts = append(pkts, p)
		wl = append(wl, uint32(len(p)))
	}
	run := func(e string) []uint32 {
		prog, err := Compile(e, Options{LinkType: lt})
		if err != nil {
			t.Fatalf("%q: %v", e, err)
		}
		vp, err := verifier.Verify(prog, verifier.Options{NoAncillary: true})
		if err != nil {
			t.Fatalf("%q: %v", e, err)
		}
		out := make([]uint32, len(pkts))
		for i, p := range pkts {
			out[i] = vm.Run(vp, p, wl[i], nil)
		}
		return out
	}
	for _, pair := range [][2]string{
		{"len > ether[0] - len / 2 and ip6", "ip6 and len > ether[0] - len / 2"},
		{"len - len / 3 > 60 and (tcp or udp)", "(tcp or udp) and len - len / 3 > 60"},
	} {
		if !equalVerdicts(run(pair[0]), run(pair[1])) {
			t.Errorf("%q and %q give different verdicts", pair[0], pair[1])
		}
	}
}

// TestDeepNesting compiles deeply nested parentheses: the parser decides
// between a parenthesised expression and an arithmetic operand without
// backtracking through the nesting.
func TestDeepNesting(t *testing.T) {
	const depth = 20000
	src := strings.Repeat("(", depth) + "ip" + strings.Repeat(")", depth) + " and " +
		strings.Repeat("(", depth) + "ip[0]" + strings.Repeat(")", depth) + " = 0x45"
	if _, err := Compile(src, Options{LinkType: spec.LinkEthernet}); err != nil {
		t.Fatal(err)
	}
	if _, err := Compile(strings.Repeat("(", depth)+"ip", Options{LinkType: spec.LinkEthernet}); err == nil {
		t.Fatal("unbalanced parentheses compiled")
	}
}
