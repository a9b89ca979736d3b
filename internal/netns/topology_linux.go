package netns

import (
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/wringcap/wring/internal/linux"
)

// ip runs the ip command with args.
func ip(args ...string) error {
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

// NewNamespace creates one namespace with lo up (for captures on lo) and
// registers its removal with tb.Cleanup.
func NewNamespace(tb testing.TB) string {
	tb.Helper()
	Require(tb)
	ns := "wring-l-" + randomID()
	tb.Cleanup(func() {
		if _, err := os.Stat(filepath.Join("/run/netns", ns)); err == nil {
			_ = exec.Command("ip", "netns", "del", ns).Run()
		}
	})
	if err := ip("netns", "add", ns); err != nil {
		tb.Fatal(err)
	}
	if err := ip("-n", ns, "link", "set", "lo", "up"); err != nil {
		tb.Fatal(err)
	}
	return ns
}

// AddAddresses gives IfA and IfB the IPv4 addresses 10.n.0.1/24 and
// 10.n.0.2/24 (n from 1 to 250 picked by the caller so that sub-interfaces
// get their own subnets) and returns them.
func (p *Pair) AddAddresses(n int) (a, b netip.Addr, err error) {
	return addAddresses(p.NSA, p.IfA, p.NSB, p.IfB, n)
}

func addAddresses(nsA, ifA, nsB, ifB string, n int) (a, b netip.Addr, err error) {
	a = netip.AddrFrom4([4]byte{10, byte(n), 0, 1})
	b = netip.AddrFrom4([4]byte{10, byte(n), 0, 2})
	if err := ip("-n", nsA, "addr", "add", a.String()+"/24", "dev", ifA); err != nil {
		return a, b, err
	}
	if err := ip("-n", nsB, "addr", "add", b.String()+"/24", "dev", ifB); err != nil {
		return a, b, err
	}
	return a, b, nil
}

// TunLink is two namespaces, each with a tun device (a raw IP interface,
// ARPHRD_NONE), joined by the test: every packet the host in A sends on
// IfA is written to IfB in B, and back. Addresses: A 10.n.0.1, B 10.n.0.2,
// point to point.
type TunLink struct {
	NSA, NSB string
	IfA, IfB string
	A, B     netip.Addr

	files  [2]*os.File
	copies sync.WaitGroup
}

// NewTunLink creates the link and registers its removal with tb.Cleanup.
func NewTunLink(tb testing.TB, n int) *TunLink {
	tb.Helper()
	Require(tb)
	id := randomID()
	l := &TunLink{NSA: "wring-ta-" + id, NSB: "wring-tb-" + id, IfA: "wrta" + id[:6], IfB: "wrtb" + id[:6]}
	l.A = netip.AddrFrom4([4]byte{10, byte(n), 0, 1})
	l.B = netip.AddrFrom4([4]byte{10, byte(n), 0, 2})
	tb.Cleanup(l.close)
	for i, ns := range []string{l.NSA, l.NSB} {
		name := []string{l.IfA, l.IfB}[i]
		if err := ip("netns", "add", ns); err != nil {
			tb.Fatal(err)
		}
		if err := Do(ns, func() error {
			f, err := linux.OpenTun(name)
			l.files[i] = f
			return err
		}); err != nil {
			tb.Fatal(err)
		}
		self, peer := []netip.Addr{l.A, l.B}[i], []netip.Addr{l.B, l.A}[i]
		for _, s := range [][]string{
			{"-n", ns, "link", "set", "lo", "up"},
			{"-n", ns, "addr", "add", self.String(), "peer", peer.String() + "/32", "dev", name},
			{"-n", ns, "link", "set", name, "up"},
		} {
			if err := ip(s...); err != nil {
				tb.Fatal(err)
			}
		}
		_ = exec.Command("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1").Run()
	}
	for i := range 2 {
		l.copies.Add(1)
		go l.carry(i)
	}
	return l
}

// carry copies packets read from tun i to the other tun until the device
// is closed.
func (l *TunLink) carry(i int) {
	defer l.copies.Done()
	buf := make([]byte, 65536)
	for {
		n, err := l.files[i].Read(buf)
		if err != nil {
			return
		}
		if _, err := l.files[1-i].Write(buf[:n]); err != nil && err != io.ErrShortWrite {
			continue // the other end is down (closing): drop it
		}
	}
}

func (l *TunLink) close() {
	for _, f := range l.files {
		if f != nil {
			f.Close()
		}
	}
	l.copies.Wait()
	for _, ns := range []string{l.NSA, l.NSB} {
		if _, err := os.Stat(filepath.Join("/run/netns", ns)); err == nil {
			_ = exec.Command("ip", "netns", "del", ns).Run()
		}
	}
}
