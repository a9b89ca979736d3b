package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/wringcap/wring/capture/live"
)

// TestLiveSummaryInterfaceDrops: the device's receive drops are tcpdump's
// "dropped by interface" line on the AF_PACKET path, where they mean what
// they mean to tcpdump, a line of wring's own on the others, and nothing
// when there are none.
func TestLiveSummaryInterfaceDrops(t *testing.T) {
	ks := []live.QueueStats{{Queue: 0, Seen: 10, Received: 10}}
	for _, tc := range []struct {
		drops     ifDrops
		want, not string
	}{
		{ifDrops{n: 7, tapped: true}, "7 packets dropped by interface\n", "wring: the device dropped"},
		{ifDrops{n: 1, tapped: true}, "1 packet dropped by interface\n", "wring: the device dropped"},
		{ifDrops{n: 7, tapped: false}, "wring: the device dropped 7 frames on receive since the capture opened", "dropped by interface"},
		{ifDrops{n: 0, tapped: true}, "0 packets dropped by kernel\n", "dropped by interface"},
		{ifDrops{n: 0, tapped: false}, "0 packets dropped by kernel\n", "the device dropped"},
	} {
		var b bytes.Buffer
		printLiveSummary(&b, ks, nil, tc.drops)
		out := b.String()
		if !strings.Contains(out, tc.want) || strings.Contains(out, tc.not) {
			t.Errorf("%+v: summary\n%s\nwant %q and no %q", tc.drops, out, tc.want, tc.not)
		}
	}
}
