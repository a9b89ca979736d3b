package main

import (
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wringcap/wring/internal/netns"
	"github.com/wringcap/wring/spec"
)

// withCaps is the setpriv prefix that runs a command as root holding only
// the given capabilities (e.g. "+net_raw"; "" for none): the bounding set
// limits what root gets at exec, and nothing is inheritable.
func withCaps(caps string) []string {
	bound := "-all"
	if caps != "" {
		bound += "," + caps
	}
	return []string{"setpriv", "--inh-caps=-all", "--bounding-set=" + bound, "--"}
}

func requireSetpriv(t *testing.T) {
	if _, err := exec.LookPath("setpriv"); err != nil {
		netns.Require(t)
		t.Skip("needs setpriv (util-linux)")
	}
}

// TestCaptureMissingCapability: without the capability a mode needs,
// wring capture fails with one line naming it, for each mode.
func TestCaptureMissingCapability(t *testing.T) {
	requireSetpriv(t)
	p := netns.New(t, 1)
	argv, env := wringCommand(t)
	for _, c := range []struct {
		caps, mode, want string
	}{
		{"", "packet", "AF_PACKET capture needs CAP_NET_RAW"},
		{"", "auto", "AF_PACKET capture needs CAP_NET_RAW"},
		{"+net_raw", "xdp", "AF_XDP capture needs CAP_BPF"},
		{"+net_raw,+bpf", "xdp", "AF_XDP capture needs CAP_NET_ADMIN"},
	} {
		args := append(append([]string{"netns", "exec", p.NSA}, withCaps(c.caps)...), argv...)
		args = append(args, "capture", "--mode", c.mode, "-i", p.IfA, "-w", filepath.Join(t.TempDir(), "x.pcap"), "--duration", "1s")
		cmd := exec.Command("ip", args...)
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		msg := strings.TrimRight(string(out), "\n")
		if err == nil {
			t.Errorf("caps %q, mode %s: succeeded: %s", c.caps, c.mode, msg)
			continue
		}
		lines := strings.Split(msg, "\n")
		last := lines[len(lines)-1]
		if !strings.Contains(last, c.want) || !strings.HasPrefix(last, "wring: capture "+p.IfA+": ") {
			t.Errorf("caps %q, mode %s: got %q, want one line with %q", c.caps, c.mode, msg, c.want)
		}
		if c.mode != "auto" && len(lines) != 1 {
			t.Errorf("caps %q, mode %s: %d lines, want 1:\n%s", c.caps, c.mode, len(lines), msg)
		}
		t.Logf("caps %q, mode %s: %s", c.caps, c.mode, last)
	}
}

// TestCaptureNetRawOnly: with CAP_NET_RAW alone, AF_PACKET capture works
// (auto mode falls back to it) and still matches tcpdump.
func TestCaptureNetRawOnly(t *testing.T) {
	requireSetpriv(t)
	for _, mode := range []string{"packet", "auto"} {
		t.Run(mode, func(t *testing.T) {
			ns := netns.NewNamespace(t)
			argv, env := wringCommand(t)
			c := netns.Comparison{NS: ns, Interface: "lo", Filter: acceptFilter,
				Capture: append(append(withCaps("+net_raw"), argv...), "capture", "--mode", mode), Env: env, Load: acceptLoad,
				ServerNS: ns, ClientNS: ns, Server: netip.MustParseAddr("127.0.0.1"), Dir: t.TempDir()}
			res, err := c.Run()
			if err != nil {
				t.Fatal(err)
			}
			if !res.Load.Complete() || res.Got.LinkType != spec.LinkEthernet {
				t.Errorf("load %s, link type %s", res.Load, res.Got.LinkType)
			}
			for _, p := range res.Difference.Problems {
				t.Error(p)
			}
			if !strings.Contains(res.Stderr, "capture path: AF_PACKET") {
				t.Errorf("path is not AF_PACKET:\n%s", res.Stderr)
			}
			t.Logf("CAP_NET_RAW only, mode %s: %d frames, tcpdump %d", mode, len(res.Got.Frames), len(res.Reference.Frames))
		})
	}
}
