package main

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/wringcap/wring/internal/netns"
	"github.com/wringcap/wring/spec"
)

// The acceptance runs of issue 12 for the default mode: wring capture
// without --mode (auto, which is the passive path where it can run) and
// tcpdump capture the same request/response load with the same filter,
// through hE's harness (netns.Comparison); every reply must arrive, and
// wring's file must hold tcpdump's frames, byte for byte, per flow in the
// same directions and order.

// compareDefaultWithTcpdump runs c with wring in its default mode and
// checks the outcome and the path it chose (passive, or AF_PACKET when
// wantPath says so).
func compareDefaultWithTcpdump(t *testing.T, c netns.Comparison, wantLink spec.LinkType, wantPath string, extra ...string) netns.ComparisonResult {
	t.Helper()
	argv, env := wringCommand(t)
	c.Capture = append(append(argv, "capture"), extra...)
	c.Env = env
	if c.Load == (netns.Load{}) {
		c.Load = acceptLoad
	}
	c.Dir = t.TempDir()
	res, err := c.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s; tcpdump %d frames in %d flows, wring %d frames", res.Load, len(res.Reference.Frames), res.Difference.Flows, len(res.Got.Frames))
	if !strings.Contains(res.Stderr, "capture path: "+wantPath) {
		t.Errorf("default mode chose another path than %q:\n%s", wantPath, res.Stderr)
	}
	if strings.Contains(res.Stderr, "not delivered to this host") {
		t.Errorf("default mode took packets from the host:\n%s", res.Stderr)
	}
	if !res.Load.Complete() {
		t.Errorf("replies lost while capturing: %s", res.Load)
	}
	if res.Reference.LinkType != wantLink || res.Got.LinkType != wantLink {
		t.Errorf("link types: tcpdump %s, wring %s, want %s", res.Reference.LinkType, res.Got.LinkType, wantLink)
	}
	for _, p := range res.Difference.Problems {
		t.Error(p)
	}
	if len(res.Got.Frames) == 0 {
		t.Error("wring captured nothing")
	}
	if t.Failed() {
		t.Logf("wring's standard error:\n%s\ntcpdump's:\n%s", res.Stderr, res.RefStderr)
	}
	return res
}

// checkBothWays fails unless the frames go both ways.
func checkBothWays(t *testing.T, res netns.ComparisonResult) {
	t.Helper()
	dirs := map[string]bool{}
	for _, f := range res.Got.Frames {
		dirs[f.Dir] = true
	}
	if !dirs["a>b"] || !dirs["b>a"] {
		t.Errorf("wring's frames go in directions %v: want both", dirs)
	}
}

// TestAcceptDefaultVeth: the default mode on a veth with an address, the
// server's end: passive, both directions, the host unaffected.
func TestAcceptDefaultVeth(t *testing.T) {
	p := netns.New(t, 2)
	a, _, err := p.AddAddresses(81)
	if err != nil {
		t.Fatal(err)
	}
	res := compareDefaultWithTcpdump(t, netns.Comparison{NS: p.NSA, Interface: p.IfA, Filter: acceptFilter,
		ServerNS: p.NSA, ClientNS: p.NSB, Server: a}, spec.LinkEthernet, "passive")
	checkBothWays(t, res)
}

// TestAcceptDefaultLoopback: lo inside a namespace, each frame captured
// once.
func TestAcceptDefaultLoopback(t *testing.T) {
	ns := netns.NewNamespace(t)
	res := compareDefaultWithTcpdump(t, netns.Comparison{NS: ns, Interface: "lo", Filter: acceptFilter,
		ServerNS: ns, ClientNS: ns, Server: netip.MustParseAddr("127.0.0.1")}, spec.LinkEthernet, "passive")
	checkBothWays(t, res)
}

// TestAcceptDefaultTun: a tun device, link type RAW, with the whole load.
// tun has no checksum offload, so the stack completes an outgoing TCP
// segment's checksum after tc egress, where the passive copy is taken, and
// before the taps, where tcpdump's is; the passive path completes it in
// its copy too (RATIONALE.md).
func TestAcceptDefaultTun(t *testing.T) {
	l := netns.NewTunLink(t, 82)
	res := compareDefaultWithTcpdump(t, netns.Comparison{NS: l.NSA, Interface: l.IfA, Filter: acceptFilter,
		ServerNS: l.NSB, ClientNS: l.NSA, Server: l.B}, spec.LinkRaw, "passive")
	checkBothWays(t, res)
}

// TestAcceptDefaultAny: -i any, which the passive path cannot attach to:
// the default mode falls back to AF_PACKET, cooked LINUX_SLL2.
func TestAcceptDefaultAny(t *testing.T) {
	p := netns.New(t, 1)
	a, _, err := p.AddAddresses(83)
	if err != nil {
		t.Fatal(err)
	}
	compareDefaultWithTcpdump(t, netns.Comparison{NS: p.NSA, Interface: "any", Filter: acceptFilter,
		ServerNS: p.NSA, ClientNS: p.NSB, Server: a}, spec.LinkLinuxSLL2, "AF_PACKET")
}

// TestAcceptDefaultDirection: -Q in and -Q out on the passive path keep
// one direction each, as tcpdump's do.
func TestAcceptDefaultDirection(t *testing.T) {
	for _, q := range []string{"in", "out"} {
		t.Run(q, func(t *testing.T) {
			p := netns.New(t, 1)
			a, _, err := p.AddAddresses(85)
			if err != nil {
				t.Fatal(err)
			}
			res := compareDefaultWithTcpdump(t, netns.Comparison{NS: p.NSA, Interface: p.IfA, Filter: acceptFilter, Tcpdump: []string{"-Q", q},
				ServerNS: p.NSA, ClientNS: p.NSB, Server: a}, spec.LinkEthernet, "passive", "-Q", q)
			want := map[string]string{"in": "b>a", "out": "a>b"}[q]
			for i, f := range res.Got.Frames {
				if f.Dir != want {
					t.Fatalf("-Q %s: frame %d goes %s", q, i, f.Dir)
				}
			}
		})
	}
}
