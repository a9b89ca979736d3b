package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/wringcap/wring/internal/netns"
)

// TestCaptureListInterfaces: -D lists every interface of the namespace
// with its receive queues, link type and modes, then any.
func TestCaptureListInterfaces(t *testing.T) {
	p := netns.New(t, 4)
	l := netns.NewTunLink(t, 76)
	argv, env := wringCommand(t)
	list := func(ns string) string {
		cmd := exec.Command("ip", append(append([]string{"netns", "exec", ns}, argv...), "capture", "-D")...)
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("wring capture -D: %v\n%s", err, out)
		}
		return string(out)
	}
	veth, tun := list(p.NSA), list(l.NSA)
	for _, c := range []struct{ out, re string }{
		{veth, `(?m)^\d+\.lo \[Up, Loopback\] queues 1, link-type EN10MB, modes passive packet$`},
		{veth, `(?m)^\d+\.` + p.IfA + ` \[Up\] queues 4, link-type EN10MB, modes xdp passive packet$`},
		{veth, `(?m)^\d+\.any \[Up\] queues 1, link-type LINUX_SLL2, modes packet$`},
		{tun, `(?m)^\d+\.` + l.IfA + ` \[Up\] queues 1, link-type RAW, modes passive packet$`},
	} {
		if !regexp.MustCompile(c.re).MatchString(c.out) {
			t.Errorf("no line matching %s in:\n%s", c.re, c.out)
		}
	}
}

// TestCapturePromiscuous: a capture turns promiscuous mode on while it
// runs, and -p leaves it off.
func TestCapturePromiscuous(t *testing.T) {
	p := netns.New(t, 1)
	argv, env := wringCommand(t)
	promiscuity := func() string {
		out, err := exec.Command("ip", "-d", "-n", p.NSA, "link", "show", p.IfA).CombinedOutput()
		if err != nil {
			t.Fatalf("ip link show: %v: %s", err, out)
		}
		m := regexp.MustCompile(`promiscuity (\d+)`).FindStringSubmatch(string(out))
		if m == nil {
			t.Fatalf("no promiscuity in %s", out)
		}
		return m[1]
	}
	for _, c := range []struct {
		flags []string
		want  string
	}{{nil, "1"}, {[]string{"-p"}, "0"}} {
		args := append(append(append([]string(nil), argv...), "capture", "--mode", "packet", "-i", p.IfA, "-w", filepath.Join(t.TempDir(), "x.pcap")), c.flags...)
		cpt, err := netns.StartCapture("wring", p.NSA, args, env...)
		if err != nil {
			t.Fatal(err)
		}
		got := promiscuity()
		if _, err := cpt.Stop(); err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("wring capture %s: promiscuity %s while capturing, want %s", strings.Join(c.flags, " "), got, c.want)
		}
		if after := promiscuity(); after != "0" {
			t.Errorf("promiscuity %s after the capture, want 0", after)
		}
	}
}
