package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/wringcap/wring/internal/pcaporacle"
	"github.com/wringcap/wring/spec"
)

func runWring(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errw bytes.Buffer
	code := run(args, strings.NewReader(""), &out, &errw)
	return out.String(), errw.String(), code
}

// TestCompileFormats checks that -d, -dd and -ddd print the same program in
// the three formats, that -O0 changes nothing but the optimizer, and that
// arguments are joined as tcpdump joins them.
func TestCompileFormats(t *testing.T) {
	d, _, code := runWring(t, "compile", "tcp", "port", "80", "and", "host", "192.0.2.1")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	want, err := spec.ParseText([]byte(d), spec.TextListing)
	if err != nil {
		t.Fatalf("-d output does not parse: %v\n%s", err, d)
	}
	for _, tc := range []struct {
		flag   string
		format spec.Format
	}{{"-dd", spec.TextC}, {"-ddd", spec.TextDecimal}} {
		o, _, code := runWring(t, "compile", tc.flag, "tcp port 80 and host 192.0.2.1")
		if code != 0 {
			t.Fatalf("%s: exit %d", tc.flag, code)
		}
		got, err := spec.ParseText([]byte(o), tc.format)
		if err != nil {
			t.Fatalf("%s output does not parse: %v\n%s", tc.flag, err, o)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d instructions, -d printed %d", tc.flag, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%s: instruction %d is %v, -d printed %v", tc.flag, i, got[i], want[i])
			}
		}
	}
	o0, _, code := runWring(t, "compile", "-O0", "tcp port 80 and host 192.0.2.1")
	if code != 0 {
		t.Fatalf("-O0: exit %d", code)
	}
	p0, err := spec.ParseText([]byte(o0), spec.TextListing)
	if err != nil {
		t.Fatal(err)
	}
	if len(p0) <= len(want) {
		t.Errorf("-O0 printed %d instructions, the optimized program has %d: the optimizer did not run by default", len(p0), len(want))
	}
}

// TestCompileMatchesLibpcap runs what wring compile prints and what
// tcpdump -ddd prints for the same expressions over a few packets.
func TestCompileMatchesLibpcap(t *testing.T) {
	if _, err := pcaporacle.Tcpdump(); err != nil {
		t.Skipf("tcpdump not available: %v", err)
	}
	pkts := [][]byte{
		// Ethernet, IPv4, TCP 1234 -> 80, 192.0.2.1 -> 198.51.100.2
		append([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00,
			0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0, 192, 0, 2, 1, 198, 51, 100, 2,
			0x04, 0xd2, 0, 80}, make([]byte, 16)...),
		// Ethernet, ARP
		append([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 6, 7, 8, 9, 10, 11, 0x08, 0x06}, make([]byte, 28)...),
		// truncated Ethernet
		{0, 1, 2, 3, 4, 5, 6},
	}
	for _, e := range []string{"tcp port 80 and host 192.0.2.1", "arp or udp", "ether broadcast", "tcp[13] & 2 = 0", "not ip"} {
		o, _, code := runWring(t, "compile", "-ddd", e)
		if code != 0 {
			t.Fatalf("%q: exit %d", e, code)
		}
		mine, err := spec.ParseText([]byte(o), spec.TextDecimal)
		if err != nil {
			t.Fatal(err)
		}
		ref, err := pcaporacle.Compile(e, "EN10MB", pcaporacle.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range pkts {
			a := pcaporacle.New(mine).Run(p, uint32(len(p)))
			b := pcaporacle.New(ref).Run(p, uint32(len(p)))
			if a != b {
				t.Errorf("%q packet %d: wring's program returns %d, tcpdump's %d", e, i, a, b)
			}
		}
	}
}

// TestCompileErrors checks the exit status and the caret under the
// offending column.
func TestCompileErrors(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		code  int
		caret string // the expression line and the caret line, as printed
	}{
		{[]string{"compile", "tcp port 80 and hst 1.2.3.4"}, 1, "  tcp port 80 and hst 1.2.3.4\n                  ^~~"},
		{[]string{"compile", "tcp", "port", "80", "and", "("}, 1, "  tcp port 80 and (\n                   ^"},
		{[]string{"compile", "--linktype", "LINUX_SLL", "vlan"}, 1, "  vlan\n  ^~~~"},
		{[]string{"compile", "ip[0:3] = 1"}, 1, "  ip[0:3] = 1\n       ^"},
		{[]string{"compile", "--linktype", "NOSUCH", "ip"}, 2, ""},
		{[]string{"compile", "-n", "host", "localhost"}, 1, "  host localhost\n       ^~~~~~~~~"},
		{[]string{"compile", "ip and not ip"}, 1, "expression rejects all packets"},
	} {
		_, errs, code := runWring(t, tc.args...)
		if code != tc.code {
			t.Errorf("%q: exit %d, want %d (%s)", tc.args, code, tc.code, errs)
			continue
		}
		if tc.caret != "" && !strings.Contains(errs, tc.caret) {
			t.Errorf("%q: stderr\n%s\nwant it to contain\n%s", tc.args, errs, tc.caret)
		}
	}
}

// TestCompileLinkTypes accepts link types by name and number.
func TestCompileLinkTypes(t *testing.T) {
	a, _, c1 := runWring(t, "compile", "--linktype", "RAW", "ip")
	b, _, c2 := runWring(t, "compile", "-y", "101", "ip")
	if c1 != 0 || c2 != 0 || a != b || a == "" {
		t.Errorf("RAW and 101 differ or fail: %d %d\n%s\n%s", c1, c2, a, b)
	}
	o, _, c := runWring(t, "compile", "--snaplen", "100", "-O0", "ip")
	if c != 0 || !strings.Contains(o, "ret      #100") {
		t.Errorf("--snaplen 100: exit %d\n%s", c, o)
	}
}

// TestCompileEBPF prints the eBPF translation of the verified program.
func TestCompileEBPF(t *testing.T) {
	o, errs, c := runWring(t, "compile", "--ebpf", "--target", "socket", "udp")
	if c != 0 || !strings.Contains(o, "socket filter program") {
		t.Errorf("--ebpf: exit %d, stderr %s\n%s", c, errs, o)
	}
}
