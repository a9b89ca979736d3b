package e2e_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/wringcap/wring/spec"
)

// TestFlowsAgainstTsharkOnMixedCapture is issue 15's acceptance 3 on the
// generated capture: tshark's TCP and UDP conversations (frames per
// 5-tuple) against the flow analyzer's records summed per 5-tuple. A
// 5-tuple that carried IP fragments is compared by the fragment rule
// (tshark counts a reassembled datagram once: wring = tshark + fragments -
// datagrams); every other 5-tuple must be equal, and no one-packet FIN
// tails may appear.
func TestFlowsAgainstTsharkOnMixedCapture(t *testing.T) {
	needTshark(t)
	file, all := mixedPackets(t, 3)
	var frags fragRef
	fragments, datagrams := map[string]int{}, map[string]int{}
	vlans := map[string]map[uint16]bool{} // outer VLAN ids of each 5-tuple's fragments
	for i := range all {
		pk := &all[i]
		r := &pk.Record
		if r.Flags()&spec.RecFlagFragment == 0 || (r.IPProto() != 6 && r.IPProto() != 17) {
			continue
		}
		sp, dp, _ := frags.ports(pk)
		k := convKey(map[uint8]string{6: "tcp", 17: "udp"}[r.IPProto()], r.SrcAddr(), sp, r.DstAddr(), dp)
		fragments[k]++
		if vlans[k] == nil {
			vlans[k] = map[uint16]bool{}
		}
		vlans[k][vlanID(r)] = true
		if r.Flags()&spec.RecFlagLaterFragment == 0 {
			datagrams[k]++
		}
	}
	want := tsharkConv(t, file)
	got, _, tails := flowsPer5Tuple(t, all, "")
	if tails != 0 {
		t.Errorf("%d one-packet FIN tails", tails)
	}
	keys := map[string]bool{}
	for k := range want {
		keys[k] = true
	}
	for k := range got {
		keys[k] = true
	}
	same, fragSame := 0, 0
	cats := map[string][]string{}
	for k := range keys {
		w := want[k]
		if n := fragments[k]; n > 0 {
			w += uint64(n - datagrams[k])
		}
		if got[k] == w {
			if fragments[k] > 0 {
				fragSame++
			}
			same++
			continue
		}
		cat := "other"
		if fragments[k] > 0 && len(vlans[k]) > 1 && want[k] == 0 {
			cat = "fragments tshark did not reassemble (a datagram's fragments on different VLANs)"
		}
		cats[cat] = append(cats[cat], fmt.Sprintf("%s: wring %d, tshark %d", k, got[k], want[k]))
	}
	names := make([]string, 0, len(cats))
	for c := range cats {
		names = append(names, c)
	}
	sort.Strings(names)
	for _, c := range names {
		t.Logf("%4d  %s, e.g. %s", len(cats[c]), c, strings.Join(cats[c][:min(3, len(cats[c]))], "; "))
	}
	t.Logf("%d packets; %d 5-tuples, %d equal (%d of them carried fragments), %d differ", len(all), len(keys), same, fragSame, len(keys)-same)
	if len(cats["other"]) != 0 {
		t.Errorf("%d 5-tuples differ without an explanation", len(cats["other"]))
	}
}
