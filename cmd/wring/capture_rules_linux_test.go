package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/wringcap/wring/internal/netns"
)

// TestCaptureRules: `wring capture --rules` on a veth, in the default
// (passive) and packet modes. The rules run before the expression on every
// packet (the kernel hands all of them up), so a drop rule for source ports
// 2000-2009 counts every such frame sent, tagged or not, and what is
// written is exactly the expression's matches outside those ports.
func TestCaptureRules(t *testing.T) {
	netns.Require(t)
	rf := filepath.Join(t.TempDir(), "drop.rules")
	if err := os.WriteFile(rf, []byte("rule 1 priority 10 proto udp sport 2000-2009 -> drop\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dropped := regexp.MustCompile(`(?m)^wring: rules: \d+ captured \(\d+ matched no rule\), (\d+) dropped`)
	rule1 := regexp.MustCompile(`(?m)^wring: rule 1: (\d+) packets?`)
	for _, mode := range []string{"auto", "packet"} {
		t.Run(mode, func(t *testing.T) {
			p := netns.New(t, 1)
			send, match := liveFrames(700)
			want := map[string]bool{}
			inRange := 0
			for _, f := range send {
				off := 14
				if binary.BigEndian.Uint16(f[12:]) == 0x8100 {
					off = 18
				}
				sport := binary.BigEndian.Uint16(f[off+20:])
				if sport >= 2000 && sport <= 2009 {
					inRange++
					continue
				}
				if match[string(f)] {
					want[string(f)] = true
				}
			}
			got, stderr := liveRun(t, p, []string{"-i", p.IfA, "--mode", mode, "--rules", rf, "udp dst port 80"}, send)
			t.Logf("%s", stderr)
			exact(t, got, want)
			m := dropped.FindStringSubmatch(stderr)
			r := rule1.FindStringSubmatch(stderr)
			if m == nil || r == nil {
				t.Fatalf("no rules summary in:\n%s", stderr)
			}
			if n, _ := strconv.Atoi(m[1]); n != inRange {
				t.Errorf("rules dropped %d, %d frames were sent from ports 2000-2009", n, inRange)
			}
			if r[1] != fmt.Sprint(inRange) {
				t.Errorf("rule 1 counted %s packets, want %d", r[1], inRange)
			}
		})
	}
}
