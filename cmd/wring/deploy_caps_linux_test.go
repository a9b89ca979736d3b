package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wringcap/wring/capture/live"
	"github.com/wringcap/wring/internal/netns"
)

// fleetRun is one run of the DaemonSet's wring capture in namespace A of
// a veth pair, under a setpriv prefix.
type fleetRun struct {
	code    int
	stdout  string
	stderr  string
	scraped string // the metrics endpoint's answer during the run
}

// TestFleetCapabilities runs the DaemonSet's own args (the interface and
// the ConfigMap's files put in place, the IPFIX collector a UDP socket in
// the namespace, events to a file) on a veth with exactly the manifest's
// capabilities, as root with nothing else in the bounding set (what a
// container with drop ALL gets) and as an unprivileged user holding them
// as ambient capabilities (what the systemd unit gives DynamicUser): the
// capture counts the frames sent and the metrics endpoint answers. Then
// without each one of them: wring exits with one line naming it. The set
// is also the one live.Capabilities gives for passive capture.
func TestFleetCapabilities(t *testing.T) {
	requireSetpriv(t)
	var code []string
	for _, c := range live.Capabilities(live.ModePassive) {
		code = append(code, strings.TrimPrefix(c.String(), "CAP_"))
	}
	if !slices.Equal(slices.Sorted(slices.Values(code)), slices.Sorted(slices.Values(fleetCaps))) {
		t.Fatalf("passive capture checks for %v, the manifests grant %v", code, fleetCaps)
	}
	objs := loadObjects(t)
	ds, cm := objs["DaemonSet/wring"], objs["ConfigMap/wring"]
	if ds == nil || cm == nil {
		t.Fatal("no DaemonSet/wring or ConfigMap/wring")
	}
	ctr := ds.Spec.Template.Spec.Containers[0]
	var caps []string
	for _, c := range ctr.SecurityContext.Capabilities.Add {
		caps = append(caps, strings.ToLower(c))
	}

	p := netns.New(t, 1)
	argv, env := wringCommand(t)
	// A copy of the test binary others may run, in directories they may
	// enter, for the unprivileged user.
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for d := filepath.Dir(dir); d != "/" && d != "."; d = filepath.Dir(d) {
		if fi, err := os.Stat(d); err == nil && fi.Mode().Perm()&0o001 == 0 {
			if strings.HasPrefix(d, os.TempDir()) {
				os.Chmod(d, fi.Mode().Perm()|0o011)
			}
		}
	}
	exe := filepath.Join(dir, "wring")
	copyFile(t, argv[0], exe)
	conf := filepath.Join(dir, "etc")
	os.Mkdir(conf, 0o755)
	for k, v := range cm.Data {
		if err := os.WriteFile(filepath.Join(conf, k), []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// The collector: a UDP socket made in namespace A.
	var col *net.UDPConn
	if err := netns.Do(p.NSA, func() error {
		var err error
		col, err = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer col.Close()
	go io.Copy(io.Discard, readerOf(col))

	// Untagged frames only: this test is about capabilities. (Under the
	// ConfigMap's negated expression the passive path keeps 273 of
	// liveFrames' 300, leaving out its 27 VLAN-tagged frames; whether
	// that is libpcap's live semantics is not settled here.)
	all, _ := liveFrames(330)
	var frames [][]byte
	for _, f := range all {
		if f[12] != 0x81 {
			frames = append(frames, f)
		}
	}
	// home holds the compilation cache of one case's runs (the DaemonSet
	// keeps it in a volume). Each case has its own: root without
	// CAP_DAC_OVERRIDE may not read the user's, nor the user root's.
	run := func(t *testing.T, home string, prefix []string) fleetRun {
		work, err := os.MkdirTemp(dir, "run")
		if err != nil {
			t.Fatal(err)
		}
		os.Chmod(work, 0o777)
		var args []string
		for _, a := range ctr.Args {
			a = strings.ReplaceAll(a, "$(WRING_INTERFACE)", p.IfA)
			a = strings.ReplaceAll(a, "/etc/wring/", conf+"/")
			switch {
			case strings.HasPrefix(a, "--export="):
				a = fmt.Sprintf("--export=ipfix://%s", col.LocalAddr())
			case strings.HasPrefix(a, "--events="):
				// NATS is a TCP client: no capability; the end-to-end run
				// is TestCaptureEventsNATS.
				a = "--events=" + filepath.Join(work, "events.json")
			}
			args = append(args, a)
		}
		_, port, _ := net.SplitHostPort(strings.TrimPrefix(args[slices.IndexFunc(args, func(s string) bool { return strings.HasPrefix(s, "--metrics=") })], "--metrics="))
		args = append(args, "--duration=60s") // SIGTERM ends it sooner, as the kubelet does
		full := append(append(append([]string{"netns", "exec", p.NSA}, prefix...), exe), args...)
		cmd := exec.Command("ip", full...)
		cmd.Env = append(os.Environ(), append(env, "HOME="+home)...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		exited := false
		// The metrics endpoint answers from the start; the queues' series
		// appear once the capture is attached.
		var r fleetRun
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) && !strings.Contains(r.scraped, "wring_queue_received_packets_total") {
			select {
			case err = <-done:
				exited = true
			case <-time.After(100 * time.Millisecond):
			}
			if exited {
				break
			}
			r.scraped = scrape(p.NSA, "127.0.0.1:"+port)
		}
		if strings.Contains(r.scraped, "wring_queue_received_packets_total") {
			if _, err := netns.Send(p.NSB, p.IfB, frames); err != nil {
				t.Fatal(err)
			}
			time.Sleep(500 * time.Millisecond)
		}
		if !exited {
			cmd.Process.Signal(syscall.SIGTERM)
			err = <-done
		}
		r.code = cmd.ProcessState.ExitCode()
		if err != nil && r.code < 0 {
			t.Fatal(err)
		}
		r.stdout, r.stderr = stdout.String(), stderr.String()
		return r
	}
	rootWith := func(caps []string) []string {
		return withCaps(capList(caps))
	}
	userWith := func(caps []string) []string {
		l := capList(caps)
		inh := "-all"
		if l != "" {
			inh += "," + l
		}
		return []string{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=" + inh, "--ambient-caps=" + inh, "--bounding-set=" + inh, "--no-new-privs", "--"}
	}
	for _, who := range []struct {
		name   string
		prefix func([]string) []string
	}{
		{"root in a container", rootWith}, {"unprivileged user with ambient capabilities", userWith},
	} {
		t.Run(strings.ReplaceAll(who.name, " ", "_"), func(t *testing.T) {
			home, err := os.MkdirTemp(dir, "home")
			if err != nil {
				t.Fatal(err)
			}
			os.Chmod(home, 0o777)
			r := run(t, home, who.prefix(caps))
			if r.code != 0 {
				t.Fatalf("with %v: exit %d\n%s", caps, r.code, r.stderr)
			}
			n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(r.stdout), " packets"))
			if err != nil || n < len(frames) {
				t.Fatalf("with %v: --count printed %q, sent %d frames\n%s", caps, r.stdout, len(frames), r.stderr)
			}
			if !strings.Contains(r.scraped, "200 OK") || !strings.Contains(r.scraped, "wring_queue_received_packets_total") {
				t.Fatalf("with %v: the metrics endpoint (the readiness probe's) answered %.300q", caps, r.scraped)
			}
			if !strings.Contains(r.stderr, "capture path: passive") {
				t.Fatalf("not the passive path:\n%s", r.stderr)
			}
			t.Logf("%s with %v: %d packets counted of %d frames sent; metrics endpoint ready", who.name, caps, n, len(frames))
			for i, c := range caps {
				less := slices.Delete(slices.Clone(caps), i, i+1)
				r := run(t, home, who.prefix(less))
				last := lastNonEmpty(r.stderr)
				want := fmt.Sprintf("wring: capture %s: passive capture needs CAP_%s, which this process lacks", p.IfA, strings.ToUpper(c))
				if r.code == 0 || !strings.HasPrefix(last, want) || len(errorLines(r.stderr)) != 1 {
					t.Errorf("without %s: exit %d, want one error line %q:\n%s", c, r.code, want, r.stderr)
					continue
				}
				t.Logf("without %s: exit %d: %s", c, r.code, last)
			}
		})
	}
}

func capList(caps []string) string {
	var l []string
	for _, c := range caps {
		l = append(l, "+"+c)
	}
	return strings.Join(l, ",")
}

func lastNonEmpty(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// scrape GETs /metrics at addr from namespace ns with a socket made there,
// and returns the answer ("" when nothing answers).
func scrape(ns, addr string) string {
	var c net.Conn
	if err := netns.Do(ns, func() error {
		var err error
		c, err = net.DialTimeout("tcp", addr, time.Second)
		return err
	}); err != nil {
		return ""
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	fmt.Fprintf(c, "GET /metrics HTTP/1.0\r\nHost: %s\r\n\r\n", addr)
	b, _ := io.ReadAll(bufio.NewReader(c))
	return string(b)
}

func copyFile(t *testing.T, from, to string) {
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o755); err != nil {
		t.Fatal(err)
	}
}
