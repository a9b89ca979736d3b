package main

import (
	"bytes"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/internal/netns"
)

// TestCaptureSIPOpensRTP is issue 16's acceptance 3: `wring capture 'udp
// port 5060' --analyzer sip --grant sip:rules` on a veth keeps every SIP
// packet and the RTP and RTCP of the answered calls only: not the media of
// calls never signalled, nor a call's media after its BYE. Calls whose RTP
// follows the 200 OK at once (in the same burst) lose the packets the
// capture handled before the analyzer's rule took effect: they are
// counted and printed, and must be the first packets of their streams.
// tshark, with RTP heuristics, counts the same packets per SSRC.
func TestCaptureSIPOpensRTP(t *testing.T) {
	netns.Require(t)
	p := netns.New(t, 1)
	out := filepath.Join(t.TempDir(), "sip.pcap")
	events := filepath.Join(t.TempDir(), "events.json")
	args := []string{"capture", "-i", p.IfA, "-w", out, "--events", events, "--duration", "12s",
		"--analyzer", "sip", "--grant", "sip:rules", "udp port 5060"}
	var stderr syncBuf
	code := make(chan int, 1)
	go func() {
		c := -1
		if err := netns.Do(p.NSA, func() error { c = run(args, bytes.NewReader(nil), io.Discard, &stderr); return nil }); err != nil {
			t.Error(err)
		}
		code <- c
	}()
	deadline := time.Now().Add(9 * time.Second)
	for !strings.Contains(stderr.String(), "listening on") {
		if time.Now().After(deadline) {
			t.Fatalf("capture did not start:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	send := func(frames [][]byte) {
		t.Helper()
		if _, err := netns.Send(p.NSB, p.IfB, frames); err != nil {
			t.Fatal(err)
		}
	}
	cs := newSIPCallSet()
	required, optional, answered, never, prompt, promptRTP := cs.required, cs.optional, cs.answered, cs.never, cs.prompt, cs.promptRTP
	// 1. Call set-up, a pause, then the media of the answered calls and
	// of calls never signalled; 2. the first half hang up, a pause, then
	// every answered call sends more media (only the second half's is
	// kept); 3. calls whose media follows the 200 OK in the same burst.
	send(cs.setup)
	time.Sleep(300 * time.Millisecond)
	send(cs.media1)
	send(cs.byes)
	time.Sleep(300 * time.Millisecond)
	send(cs.media2)
	send(cs.burst)
	if c := <-code; c != 0 {
		t.Fatalf("wring %v: exit %d\n%s", args, c, stderr.String())
	}
	t.Logf("%s", stderr.String())

	got := readFrames(t, out)
	notWantedSet := cs.notWanted
	missing, extra, unwanted, promptGot := 0, 0, 0, 0
	for f := range required {
		if !got[f] {
			missing++
		}
	}
	for f := range got {
		switch {
		case required[f]:
		case optional[f]:
			promptGot++
		case notWantedSet[f]:
			unwanted++
		default:
			extra++
		}
	}
	if missing != 0 || unwanted != 0 || extra != 0 {
		t.Errorf("OUT: %d required frames missing, %d frames of unsignalled or ended calls, %d unknown frames (of %d written)", missing, unwanted, extra, len(got))
	}
	// The prompt calls' missed packets are the first of their streams: a
	// stream's kept packets are a suffix.
	for _, c := range prompt {
		for _, ssrc := range []uint32{c.ssrcA, c.ssrcB} {
			first := -1
			for f := range got {
				if s, seq, ok := rtpOf([]byte(f)); ok && s == ssrc && (first < 0 || int(seq) < first) {
					first = int(seq)
				}
			}
			kept := 0
			for f := range got {
				if s, _, ok := rtpOf([]byte(f)); ok && s == ssrc {
					kept++
				}
			}
			if first >= 0 && kept != 20-first+1 {
				t.Errorf("call %s ssrc %#x: %d packets kept from seq %d: not the stream's last ones", c.id, ssrc, kept, first)
			}
		}
	}
	fmt.Printf("sip: %d SIP and media frames required, all written; %d of %d RTP/RTCP frames sent right after their 200 OK were missed before the rule took effect\n",
		len(required), promptRTP-promptGot, promptRTP)
	t.Logf("missed between the 200 OK and the rule taking effect: %d of %d RTP/RTCP frames (10 calls, sent in the same burst as the 200 OK)", promptRTP-promptGot, promptRTP)

	m := flowReportRe.FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("no flow report:\n%s", stderr.String())
	}
	if m[1] != "60" || m[3] != "20" || m[6] != "0" {
		t.Errorf("flow report %q: want 60 added (RTP and RTCP of 30 calls), 20 removed (10 BYEs), 0 refused", m[0])
	}

	// tshark agrees per stream.
	perSSRC := map[uint32]int{}
	for f := range got {
		if s, _, ok := rtpOf([]byte(f)); ok {
			perSSRC[s]++
		}
	}
	if _, err := exec.LookPath("tshark"); err != nil {
		corpus.Unavailable(t, "tshark is not installed")
		return
	}
	ts, err := exec.Command("tshark", "-n", "-r", out, "-o", "rtp.heuristic_rtp:TRUE", "-Y", "rtp", "-T", "fields", "-e", "rtp.ssrc").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	tsCount := map[uint32]int{}
	for _, l := range strings.Fields(string(ts)) {
		v, err := strconv.ParseUint(strings.TrimPrefix(l, "0x"), 16, 32)
		if err != nil {
			t.Fatalf("tshark ssrc %q: %v", l, err)
		}
		tsCount[uint32(v)]++
	}
	if len(tsCount) != len(perSSRC) {
		t.Errorf("tshark sees %d RTP streams, wring wrote %d", len(tsCount), len(perSSRC))
	}
	for s, n := range perSSRC {
		if tsCount[s] != n {
			t.Errorf("ssrc %#x: tshark counts %d RTP packets, OUT holds %d", s, tsCount[s], n)
		}
	}
	wantStreams := 2*20 + 2*len(prompt) // every answered call's two streams, and the prompt calls' (unless all missed)
	t.Logf("tshark: %d RTP streams, %d packets; expected streams at most %d", len(tsCount), sumCounts(tsCount), wantStreams)
	for _, c := range answered {
		for _, s := range []uint32{c.ssrcA, c.ssrcB} {
			wantN := 30
			if c.ssrcA-0x1000 >= 10 {
				wantN = 40
			}
			if tsCount[s] != wantN {
				t.Errorf("call %s ssrc %#x: tshark counts %d, want %d", c.id, s, tsCount[s], wantN)
			}
		}
	}
	for _, c := range never {
		if tsCount[c.ssrcA]+tsCount[c.ssrcB] != 0 {
			t.Errorf("call %s, never signalled: RTP in OUT", c.id)
		}
	}
}
