package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/capture/pcapfile"
	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/internal/netns"
)

// Issue 12, acceptance 4: a single packet sent to an otherwise idle
// interface appears on a terminal within 200 ms, in text and in JSON mode,
// and with -U -w F the file holds it within 200 ms. Each mode sends
// latencyProbes packets one at a time, 300 ms apart, on a veth pair made by
// the test, and measures from the send to the line (or the file's record);
// the median must be under 200 ms, and every probe must arrive (a probe
// that never shows is a failure, not a slow sample).

const (
	latencyProbes = 5
	latencyBound  = 200 * time.Millisecond
)

// latencyFrame is a UDP datagram to port 9999 with seq in its payload.
func latencyFrame(t *testing.T, seq int) []byte {
	t.Helper()
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, DstMAC: net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: net.IP{10, 9, 0, 2}, DstIP: net.IP{10, 9, 0, 1}}
	udp := &layers.UDP{SrcPort: 40000, DstPort: 9999}
	if err := udp.SetNetworkLayerForChecksum(ip); err != nil {
		t.Fatal(err)
	}
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, eth, ip, udp, gopacket.Payload(fmt.Sprintf("probe %d", seq))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// ptyLines timestamps the lines of r as they arrive.
type ptyLines struct {
	mu    sync.Mutex
	lines []ptyLine
	cond  *sync.Cond
}

type ptyLine struct {
	at   time.Time
	text string
}

func watchPtyLines(r io.Reader) *ptyLines {
	w := &ptyLines{}
	w.cond = sync.NewCond(&w.mu)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			w.mu.Lock()
			w.lines = append(w.lines, ptyLine{time.Now(), sc.Text()})
			w.cond.Broadcast()
			w.mu.Unlock()
		}
		w.mu.Lock()
		w.lines = append(w.lines, ptyLine{time.Now(), "\x00EOF"})
		w.cond.Broadcast()
		w.mu.Unlock()
	}()
	return w
}

// waitFor returns the arrival time of the first line from index from on
// that contains s, or false after d.
func (w *ptyLines) waitFor(from int, s string, d time.Duration) (time.Time, int, bool) {
	timer := time.AfterFunc(d, func() { w.mu.Lock(); w.cond.Broadcast(); w.mu.Unlock() })
	defer timer.Stop()
	deadline := time.Now().Add(d)
	w.mu.Lock()
	defer w.mu.Unlock()
	for {
		for i := from; i < len(w.lines); i++ {
			if strings.Contains(w.lines[i].text, s) {
				return w.lines[i].at, i + 1, true
			}
			if w.lines[i].text == "\x00EOF" {
				return time.Time{}, i, false
			}
		}
		from = len(w.lines)
		if !time.Now().Before(deadline) {
			return time.Time{}, from, false
		}
		w.cond.Wait()
	}
}

func (w *ptyLines) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var b strings.Builder
	for _, l := range w.lines {
		b.WriteString(l.text + "\n")
	}
	return b.String()
}

func medianDuration(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func TestCaptureLatencyToScreen(t *testing.T) {
	if _, err := exec.LookPath("script"); err != nil {
		corpus.Unavailable(t, "the latency test needs script(1) from util-linux for a pty")
	}
	p := netns.New(t, 1)
	argv, env := wringCommand(t)
	for _, mode := range []struct {
		name  string
		args  []string
		match func(seq int) string
	}{
		{"text", nil, func(seq int) string { return "UDP, length 7" }},
		{"json", []string{"--json"}, func(seq int) string { return `"dport":9999` }},
	} {
		t.Run(mode.name, func(t *testing.T) {
			// script gives wring a pty for its standard output and error
			// and copies what it writes to ours as it comes.
			cmdline := strings.Join(append(append(append([]string{}, argv...), "capture", "-i", p.IfA), mode.args...), " ") + " udp port 9999"
			cmd := exec.Command("ip", "netns", "exec", p.NSA, "script", "-q", "-e", "-c", cmdline, "/dev/null")
			cmd.Env = append(os.Environ(), env...)
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			cmd.Stdin = strings.NewReader("")
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() {
				_ = cmd.Process.Signal(os.Interrupt)
				done := make(chan struct{})
				go func() { _ = cmd.Wait(); close(done) }()
				select {
				case <-done:
				case <-time.After(10 * time.Second):
					_ = cmd.Process.Kill()
					<-done
				}
			}()
			w := watchPtyLines(out)
			_, next, ok := w.waitFor(0, "listening on ", 20*time.Second)
			if !ok {
				t.Fatalf("wring capture on a pty did not start listening:\n%s", w)
			}
			var lat []time.Duration
			for seq := range latencyProbes {
				time.Sleep(300 * time.Millisecond)
				sent := time.Now()
				if _, err := netns.Send(p.NSB, p.IfB, [][]byte{latencyFrame(t, seq)}); err != nil {
					t.Fatal(err)
				}
				at, n, ok := w.waitFor(next, mode.match(seq), 5*time.Second)
				if !ok {
					t.Fatalf("probe %d did not appear on the pty within 5 s:\n%s", seq, w)
				}
				next = n
				lat = append(lat, at.Sub(sent))
			}
			med := medianDuration(lat)
			t.Logf("%s on a pty: send to line %v (median %v)", mode.name, lat, med)
			if med > latencyBound {
				t.Errorf("%s: median latency to the pty %v, want under %v (all: %v)", mode.name, med, latencyBound, lat)
			}
		})
	}
	t.Run("-U -w", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "out.pcap")
		c, err := netns.StartCapture("wring", p.NSA, append(append([]string{}, argv...), "capture", "-i", p.IfA, "-U", "-w", file, "udp port 9999"), env...)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Stop()
		var lat []time.Duration
		for seq := range latencyProbes {
			time.Sleep(300 * time.Millisecond)
			sent := time.Now()
			if _, err := netns.Send(p.NSB, p.IfB, [][]byte{latencyFrame(t, seq)}); err != nil {
				t.Fatal(err)
			}
			for {
				if n := pcapRecords(file); n > seq {
					lat = append(lat, time.Since(sent))
					break
				}
				if time.Since(sent) > 5*time.Second {
					t.Fatalf("probe %d not in the -U -w file within 5 s (%d records)", seq, pcapRecords(file))
				}
				time.Sleep(2 * time.Millisecond)
			}
		}
		med := medianDuration(lat)
		t.Logf("-U -w: send to record in the file %v (median %v)", lat, med)
		if med > latencyBound {
			t.Errorf("-U -w: median latency to the file %v, want under %v (all: %v)", med, latencyBound, lat)
		}
	})
}

// pcapRecords counts the whole records in the pcap file at path (0 when it
// cannot be read yet).
func pcapRecords(path string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	r, err := pcapfile.NewReader(f, path)
	if err != nil {
		return 0
	}
	n := 0
	var info packet.Info
	for {
		if _, err := r.ReadPacket(&info); err != nil {
			return n
		}
		n++
	}
}
