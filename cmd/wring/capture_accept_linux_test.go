package main

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/wringcap/wring/internal/netns"
	"github.com/wringcap/wring/spec"
)

// The acceptance runs of issue 12 for the AF_PACKET path: wring capture
// --mode packet and tcpdump capture the same request/response load with
// the same filter; every reply must arrive and wring's file must hold
// tcpdump's frames, byte for byte, per flow in the same directions and
// order.

// acceptLoad is the traffic of every run: 40 UDP echoes and 6 TCP
// connections of 5 request/response rounds.
var acceptLoad = netns.Load{UDP: 40, TCP: 6, Rounds: 5}

// compareWithTcpdump runs c with wring in packet mode and checks the
// outcome; it returns the result for run-specific checks.
func compareWithTcpdump(t *testing.T, c netns.Comparison, wantLink spec.LinkType) netns.ComparisonResult {
	t.Helper()
	argv, env := wringCommand(t)
	c.Capture = append(argv, "capture", "--mode", "packet")
	c.Env = env
	c.Load = acceptLoad
	c.Dir = t.TempDir()
	res, err := c.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s; tcpdump %d frames in %d flows, wring %d frames", res.Load, len(res.Reference.Frames), res.Difference.Flows, len(res.Got.Frames))
	if !res.Load.Complete() {
		t.Errorf("replies lost while capturing: %s", res.Load)
	}
	if res.Reference.LinkType != wantLink {
		t.Errorf("tcpdump wrote link type %s, want %s", res.Reference.LinkType, wantLink)
	}
	for _, p := range res.Difference.Problems {
		t.Error(p)
	}
	// Both directions of every flow are there: the load's requests and
	// replies, UDP and TCP.
	dirs := map[string]bool{}
	for _, f := range res.Got.Frames {
		dirs[f.Dir] = true
	}
	if !dirs["a>b"] || !dirs["b>a"] {
		t.Errorf("wring's frames go in directions %v: want both", dirs)
	}
	if min := 2*acceptLoad.UDP + 2*acceptLoad.TCP*acceptLoad.Rounds; len(res.Reference.Frames) < min {
		t.Errorf("tcpdump captured %d frames, fewer than the load's %d requests and replies", len(res.Reference.Frames), min)
	}
	if t.Failed() {
		t.Logf("wring's standard error:\n%s\ntcpdump's:\n%s", res.Stderr, res.RefStderr)
	}
	return res
}

const acceptFilter = "udp port 7007 or tcp port 7008"

// TestAcceptPacketVeth: on a veth, the server's end.
func TestAcceptPacketVeth(t *testing.T) {
	p := netns.New(t, 2)
	a, _, err := p.AddAddresses(71)
	if err != nil {
		t.Fatal(err)
	}
	compareWithTcpdump(t, netns.Comparison{NS: p.NSA, Interface: p.IfA, Filter: acceptFilter,
		ServerNS: p.NSA, ClientNS: p.NSB, Server: a}, spec.LinkEthernet)
}

// TestAcceptPacketLoopback: on lo inside a namespace, where each frame
// passes twice (sent, then received) and is captured once; lo@0, its only
// queue, is the whole device (lo records no receive queue).
func TestAcceptPacketLoopback(t *testing.T) {
	for _, dev := range []string{"lo", "lo@0"} {
		t.Run(dev, func(t *testing.T) {
			ns := netns.NewNamespace(t)
			compareWithTcpdump(t, netns.Comparison{NS: ns, Interface: "lo", GotInterface: dev, Filter: acceptFilter,
				ServerNS: ns, ClientNS: ns, Server: netip.MustParseAddr("127.0.0.1")}, spec.LinkEthernet)
		})
	}
}

// TestAcceptPacketTun: on a tun device, link type RAW.
func TestAcceptPacketTun(t *testing.T) {
	l := netns.NewTunLink(t, 72)
	compareWithTcpdump(t, netns.Comparison{NS: l.NSA, Interface: l.IfA, Filter: acceptFilter,
		ServerNS: l.NSB, ClientNS: l.NSA, Server: l.B}, spec.LinkRaw)
}

// TestAcceptPacketAny: -i any, cooked LINUX_SLL2.
func TestAcceptPacketAny(t *testing.T) {
	p := netns.New(t, 1)
	a, _, err := p.AddAddresses(73)
	if err != nil {
		t.Fatal(err)
	}
	compareWithTcpdump(t, netns.Comparison{NS: p.NSA, Interface: "any", Filter: acceptFilter,
		ServerNS: p.NSA, ClientNS: p.NSB, Server: a}, spec.LinkLinuxSLL2)
}

// TestAcceptPacketVLAN: VLAN-tagged traffic, the tags shown in the frames
// as tcpdump shows them (AF_PACKET strips them; both put them back).
func TestAcceptPacketVLAN(t *testing.T) {
	p := netns.New(t, 1)
	a, _, err := p.AddAddresses(74)
	if err != nil {
		t.Fatal(err)
	}
	p.TagVLAN(t, 7)
	res := compareWithTcpdump(t, netns.Comparison{NS: p.NSA, Interface: p.IfA, Filter: "vlan 7 and (" + acceptFilter + ")",
		ServerNS: p.NSA, ClientNS: p.NSB, Server: a}, spec.LinkEthernet)
	for i, f := range res.Got.Frames {
		if len(f.Data) < 16 || f.Data[12] != 0x81 || f.Data[13] != 0 || f.Data[15] != 7 {
			t.Fatalf("frame %d has no VLAN 7 tag: % x", i, f.Data[:min(len(f.Data), 18)])
		}
	}
}

// TestAcceptPacketDirection: -Q in and -Q out keep one direction each, as
// tcpdump's do.
func TestAcceptPacketDirection(t *testing.T) {
	for _, q := range []string{"in", "out"} {
		t.Run(q, func(t *testing.T) {
			p := netns.New(t, 1)
			a, _, err := p.AddAddresses(75)
			if err != nil {
				t.Fatal(err)
			}
			argv, env := wringCommand(t)
			c := netns.Comparison{NS: p.NSA, Interface: p.IfA, Filter: acceptFilter, Tcpdump: []string{"-Q", q},
				Capture: append(argv, "capture", "--mode", "packet", "-Q", q), Env: env, Load: acceptLoad,
				ServerNS: p.NSA, ClientNS: p.NSB, Server: a, Dir: t.TempDir()}
			res, err := c.Run()
			if err != nil {
				t.Fatal(err)
			}
			for _, pr := range res.Difference.Problems {
				t.Error(pr)
			}
			for _, f := range res.Got.Frames {
				// The server is A (10.75.0.1): frames it receives come
				// from 10.75.0.2, which sorts after it.
				wantDir := map[string]string{"in": "b>a", "out": "a>b"}[q]
				if strings.HasPrefix(f.Flow, "ip proto") && f.Dir != wantDir {
					t.Fatalf("-Q %s captured a frame going %s in %s", q, f.Dir, f.Flow)
				}
			}
			t.Logf("-Q %s: %d frames, tcpdump %d", q, len(res.Got.Frames), len(res.Reference.Frames))
		})
	}
}
