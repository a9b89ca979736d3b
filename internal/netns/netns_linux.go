package netns

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/wringcap/wring/internal/linux"

	"github.com/wringcap/wring/internal/corpus"
)

// Pair is two namespaces, A and B, with a veth pair between them: IfA in A,
// IfB in B. Frames sent on IfB arrive on IfA's receive queues.
type Pair struct {
	NSA, NSB string // namespace names under /run/netns
	IfA, IfB string // interface names
	Queues   int    // RX and TX queues on each end
}

// Require stops the test unless it can create namespaces and veth pairs:
// root with CAP_NET_ADMIN and the ip command. In CI (CI=true) it fails.
func Require(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() != 0 {
		corpus.Unavailable(tb, "live-path test needs root (CAP_NET_ADMIN, CAP_BPF)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		corpus.Unavailable(tb, "live-path test needs the ip command (iproute2)")
	}
}

// New creates the namespaces and the veth pair with the given number of
// queues, brings both ends up and registers their removal with tb.Cleanup.
func New(tb testing.TB, queues int) *Pair {
	tb.Helper()
	Require(tb)
	p, err := Create(queues)
	if p != nil {
		tb.Cleanup(p.Close)
	}
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// Create is New for programs that are not tests (benchmarks): the caller
// must Close the pair. On error the partial setup is already removed.
func Create(queues int) (*Pair, error) {
	if queues < 1 {
		queues = 1
	}
	id := randomID()
	p := &Pair{
		NSA: "wring-a-" + id, NSB: "wring-b-" + id,
		IfA: "wra" + id[:6], IfB: "wrb" + id[:6],
		Queues: queues,
	}
	q := fmt.Sprint(queues)
	steps := [][]string{
		{"netns", "add", p.NSA},
		{"netns", "add", p.NSB},
		{"link", "add", p.IfA, "numtxqueues", q, "numrxqueues", q, "netns", p.NSA, "type", "veth",
			"peer", "name", p.IfB, "numtxqueues", q, "numrxqueues", q, "netns", p.NSB},
		{"-n", p.NSA, "link", "set", "lo", "up"},
		{"-n", p.NSB, "link", "set", "lo", "up"},
		{"-n", p.NSA, "link", "set", p.IfA, "up"},
		{"-n", p.NSB, "link", "set", p.IfB, "up"},
	}
	for _, s := range steps {
		if out, err := exec.Command("ip", s...).CombinedOutput(); err != nil {
			p.Close()
			return nil, fmt.Errorf("ip %s: %v: %s", strings.Join(s, " "), err, out)
		}
	}
	for _, ns := range []string{p.NSA, p.NSB} {
		// No IPv6 router solicitations or DAD: the only frames on the pair
		// are the ones the test sends.
		_ = exec.Command("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1").Run()
	}
	if queues > 1 {
		if err := p.spreadTX(); err != nil {
			p.Close()
			return nil, err
		}
	}
	return p, nil
}

// spreadTX lets every CPU transmit on every queue of IfB (XPS), so the
// kernel picks the TX queue, and with it the peer's RX queue, by flow hash
// rather than by the sending CPU.
func (p *Pair) spreadTX() error {
	n := runtime.NumCPU()
	if n > 32 {
		n = 32
	}
	mask := fmt.Sprintf("%x", uint64(1)<<n-1)
	for q := 0; q < p.Queues; q++ {
		f := fmt.Sprintf("/sys/class/net/%s/queues/tx-%d/xps_cpus", p.IfB, q)
		cmd := exec.Command("ip", "netns", "exec", p.NSB, "sh", "-c", "echo "+mask+" > "+f)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("set %s: %v: %s", f, err, out)
		}
	}
	return nil
}

// Close removes both namespaces (and with them the veth pair). It is safe
// to call more than once.
func (p *Pair) Close() {
	for _, ns := range []string{p.NSA, p.NSB} {
		if _, err := os.Stat(filepath.Join("/run/netns", ns)); err == nil {
			_ = exec.Command("ip", "netns", "del", ns).Run()
		}
	}
}

// Do runs fn on an OS thread switched into namespace ns and switches back
// afterwards. Sockets fn creates stay in ns after it returns.
func Do(ns string, fn func() error) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	self, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", linux.Gettid()))
	if err != nil {
		return fmt.Errorf("netns: open current namespace: %w", err)
	}
	defer self.Close()
	target, err := os.Open(filepath.Join("/run/netns", ns))
	if err != nil {
		return fmt.Errorf("netns: open %s: %w", ns, err)
	}
	defer target.Close()
	if err := linux.Setns(int(target.Fd()), linux.CLONE_NEWNET); err != nil {
		return fmt.Errorf("netns: enter %s: %w", ns, err)
	}
	ferr := fn()
	if err := linux.Setns(int(self.Fd()), linux.CLONE_NEWNET); err != nil {
		// The thread is stuck in the wrong namespace: never hand it back.
		runtime.Goexit()
	}
	return ferr
}

// Ifindex returns the index of interface name inside namespace ns.
func Ifindex(ns, name string) (int, error) {
	var idx int
	err := Do(ns, func() error {
		b, err := os.ReadFile(filepath.Join("/sys/class/net", name, "ifindex"))
		if err != nil {
			// /sys shows the namespace it was mounted in; ask the kernel instead.
			ifi, err2 := netInterfaceIndex(name)
			if err2 != nil {
				return err2
			}
			idx = ifi
			return nil
		}
		_, err = fmt.Sscan(strings.TrimSpace(string(b)), &idx)
		return err
	})
	return idx, err
}

func randomID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
