package main

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/capture/pcapfile"
	"github.com/wringcap/wring/internal/netns"
)

// liveFrames builds UDP frames of many flows; one in seven goes to port 80,
// some carry a VLAN tag (which `udp dst port 80` must not match in-band, as
// libpcap does not without `vlan`).
func liveFrames(n int) (all [][]byte, match map[string]bool) {
	match = map[string]bool{}
	for i := 0; i < n; i++ {
		var f []byte
		f = append(f, 0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1)
		vlan := i%11 == 5
		if vlan {
			f = append(f, 0x81, 0x00, 0x00, 0x07)
		}
		f = append(f, 0x08, 0x00)
		ip := make([]byte, 20+8+12)
		ip[0], ip[8], ip[9] = 0x45, 64, 17
		binary.BigEndian.PutUint16(ip[2:], uint16(len(ip)))
		copy(ip[12:], []byte{198, 18, 0, 1, 198, 18, 0, 2})
		binary.BigEndian.PutUint16(ip[20:], uint16(2000+i%61))
		dport := uint16(9)
		if i%7 == 0 {
			dport = 80
		}
		binary.BigEndian.PutUint16(ip[22:], dport)
		binary.BigEndian.PutUint16(ip[24:], 20)
		binary.BigEndian.PutUint32(ip[28:], uint32(i))
		f = append(f, ip...)
		all = append(all, f)
		if dport == 80 && !vlan {
			match[string(f)] = true
		}
	}
	return all, match
}

var summaryRe = map[string]*regexp.Regexp{
	"captured": regexp.MustCompile(`(?m)^(\d+) packets? captured$`),
	"received": regexp.MustCompile(`(?m)^(\d+) packets? received by filter$`),
	"dropped":  regexp.MustCompile(`(?m)^(\d+) packets? dropped by kernel$`),
}

var queueRe = regexp.MustCompile(`(?m)^wring: queue (\d+): kernel saw (\d+), filtered out (\d+), dropped (\d+) \(.*\), received (\d+); userspace filtered out (\d+), delivered (\d+), dropped (\d+)$`)

// liveRun runs `wring capture` in namespace A for a fixed time while the
// frames are sent from B, and returns the written packets and stderr.
func liveRun(t *testing.T, p *netns.Pair, args []string, send [][]byte) ([][]byte, string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out.pcap")
	args = append([]string{"capture", "-w", out, "--duration", "2s", "--umem-frames", "4096"}, args...)
	var stderr syncBuffer
	code := make(chan int, 1)
	go func() {
		var c int
		err := netns.Do(p.NSA, func() error {
			c = run(args, bytes.NewReader(nil), io.Discard, &stderr)
			return nil
		})
		if err != nil {
			t.Error(err)
		}
		code <- c
	}()
	// Send once the capture says it listens (its programs attached, its
	// sockets or rings ready): on a loaded machine opening can take longer
	// than any fixed pause.
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(stderr.String(), "listening on"); {
		if time.Now().After(deadline) {
			t.Fatalf("wring %v is not listening after 20 s:\n%s", args, stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	if _, err := netns.Send(p.NSB, p.IfB, send); err != nil {
		t.Fatal(err)
	}
	if c := <-code; c != 0 {
		t.Fatalf("wring %v: exit %d\n%s", args, c, stderr.String())
	}
	r, err := pcapfile.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var got [][]byte
	var info packet.Info
	for {
		data, err := r.ReadPacket(&info)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, append([]byte(nil), data...))
	}
	return got, stderr.String()
}

func num(t *testing.T, s, key string) uint64 {
	t.Helper()
	m := summaryRe[key].FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("no %q line in the summary:\n%s", key, s)
	}
	v, _ := strconv.ParseUint(m[1], 10, 64)
	return v
}

// checkBooks checks the summary: per queue, kernel saw = filtered out +
// dropped + received, and received = userspace filtered out + dropped +
// delivered; in all, captured = delivered and the kernel saw sent frames.
func checkBooks(t *testing.T, stderr string, sent int, queues int) map[int]uint64 {
	t.Helper()
	per := map[int]uint64{}
	var seen, delivered uint64
	for _, m := range queueRe.FindAllStringSubmatch(stderr, -1) {
		v := make([]uint64, len(m))
		for i := 1; i < len(m); i++ {
			v[i], _ = strconv.ParseUint(m[i], 10, 64)
		}
		q, ks, kf, kd, rc, uf, dl, ud := v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8]
		if ks != kf+kd+rc || rc != uf+dl+ud {
			t.Errorf("queue %d does not reconcile: %s", q, m[0])
		}
		per[int(q)] = dl
		seen += ks
		delivered += dl
	}
	if len(per) != queues {
		t.Fatalf("summary has %d queue lines, want %d:\n%s", len(per), queues, stderr)
	}
	if c := num(t, stderr, "captured"); c != delivered {
		t.Errorf("captured %d, delivered per queue %d", c, delivered)
	}
	if num(t, stderr, "received") != seen {
		t.Errorf("the queues saw %d frames, the summary says %d", seen, num(t, stderr, "received"))
	}
	if queues > 1 && seen != uint64(sent) {
		t.Errorf("the kernel saw %d frames, %d were sent", seen, sent)
	}
	if queues == 1 && (seen == 0 || seen > uint64(sent)) {
		t.Errorf("one queue saw %d of %d frames", seen, sent)
	}
	return per
}

func exact(t *testing.T, got [][]byte, match map[string]bool) {
	t.Helper()
	seen := map[string]bool{}
	for _, g := range got {
		if !match[string(g)] {
			t.Errorf("captured a frame the filter rejects: % x", g[:min(len(g), 46)])
		}
		if seen[string(g)] {
			t.Errorf("captured a frame twice")
		}
		seen[string(g)] = true
	}
	if len(seen) != len(match) {
		t.Errorf("captured %d frames, %d match", len(seen), len(match))
	}
}

// TestCaptureCommand runs `wring capture` on a 4-queue veth in every mode:
// exactly the matching frames are written, spread over the queues, and the
// books reconcile per queue.
func TestCaptureCommand(t *testing.T) {
	netns.Require(t)
	for _, mode := range []string{"xdp", "packet"} {
		t.Run(mode, func(t *testing.T) {
			p := netns.New(t, 4)
			send, match := liveFrames(2800)
			got, stderr := liveRun(t, p, []string{"-i", p.IfA, "--mode", mode, "udp dst port 80"}, send)
			t.Logf("%s", stderr)
			exact(t, got, match)
			queues := 4
			per := checkBooks(t, stderr, len(send), queues)
			if mode == "xdp" {
				used := 0
				for _, d := range per {
					if d > 0 {
						used++
					}
				}
				if used < 2 {
					t.Errorf("captured frames on %d queue(s): %v", used, per)
				}
			}
		})
	}
}

// TestCaptureOneQueue: IF@Q captures queue Q only, in both modes.
func TestCaptureOneQueue(t *testing.T) {
	netns.Require(t)
	for _, mode := range []string{"xdp", "packet"} {
		t.Run(mode, func(t *testing.T) {
			p := netns.New(t, 4)
			send, match := liveFrames(2800)
			got, stderr := liveRun(t, p, []string{"-i", p.IfA + "@3", "--mode", mode, "udp dst port 80"}, send)
			t.Logf("%s", stderr)
			per := checkBooks(t, stderr, len(send), 1)
			if _, ok := per[3]; !ok {
				t.Fatalf("no line for queue 3: %v", per)
			}
			if len(got) == 0 || len(got) >= len(match) {
				t.Fatalf("queue 3 captured %d of %d matching frames: want a share", len(got), len(match))
			}
			for _, g := range got {
				if !match[string(g)] {
					t.Errorf("captured a non-matching frame")
				}
			}
			if uint64(len(got)) != per[3] {
				t.Errorf("wrote %d frames, summary says %d", len(got), per[3])
			}
		})
	}
}

// TestCaptureBadInterface: a missing interface or queue is a clear error.
func TestCaptureBadInterface(t *testing.T) {
	var stderr bytes.Buffer
	code := run([]string{"capture", "-i", "wring-no-such0", "tcp"}, bytes.NewReader(nil), io.Discard, &stderr)
	if code != 1 || !bytes.Contains(stderr.Bytes(), []byte("wring-no-such0")) {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
	stderr.Reset()
	code = run([]string{"capture", "-i", "lo@x"}, bytes.NewReader(nil), io.Discard, &stderr)
	if code != 2 || !bytes.Contains(stderr.Bytes(), []byte(`queue "x"`)) {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
	if os.Geteuid() == 0 {
		stderr.Reset()
		code = run([]string{"capture", "-i", "lo@7", "tcp"}, bytes.NewReader(nil), io.Discard, &stderr)
		if code != 1 || !bytes.Contains(stderr.Bytes(), []byte("receive queue")) {
			t.Fatalf("lo@7: exit %d, stderr %q", code, stderr.String())
		}
	}
}
