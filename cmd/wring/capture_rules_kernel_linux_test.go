package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/filters/rules"
	"github.com/wringcap/wring/internal/netns"
	"github.com/wringcap/wring/spec"
)

// TestCaptureRulesKernel: `wring capture --rules` on the passive path
// classifies in the kernel (the path line says so) with sample, bypass,
// drop and pass rules: the file holds exactly the frames filters/rules'
// decider captures from the frames sent, and the rules summary, read from
// the kernel's counters, gives the decider's outcome counts.
func TestCaptureRulesKernel(t *testing.T) {
	testCaptureRulesKernel(t, "passive", "rules and filter in the kernel")
}

// TestCaptureRulesKernelXDP is TestCaptureRulesKernel on the AF_XDP path:
// drops end in XDP_DROP, what the rules pass, sample out or bypass in
// XDP_PASS, and the rest reaches the sockets.
func TestCaptureRulesKernelXDP(t *testing.T) {
	testCaptureRulesKernel(t, "xdp", "rules in the XDP program")
}

func testCaptureRulesKernel(t *testing.T, mode, path string) {
	netns.Require(t)
	const text = `rule 1 priority 10 proto udp sport 2000-2019 -> sample 3 packet
rule 2 priority 10 proto udp sport 2020-2039 -> bypass after 2
rule 3 priority 10 proto udp sport 2040-2049 -> drop
rule 4 priority 10 proto udp sport 2050-2055 -> pass
`
	rf := filepath.Join(t.TempDir(), "k.rules")
	if err := os.WriteFile(rf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := rules.ParseText([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	c := rules.New()
	if err := c.Load(f); err != nil {
		t.Fatal(err)
	}
	d, err := rules.NewDecider(c, rules.DefaultFlowSlots)
	if err != nil {
		t.Fatal(err)
	}
	p := netns.New(t, 1)
	send, _ := liveFrames(700)
	want := map[string]bool{}
	for _, fr := range send {
		var rec packet.Record
		packet.Parse(packet.Info{CapLen: uint32(len(fr)), WireLen: uint32(len(fr)), LinkType: spec.LinkEthernet}, fr, &rec)
		if d.DecideRecord((*[spec.RecordSize]byte)(&rec)).Outcome == rules.OutcomeCapture {
			want[string(fr)] = true
		}
	}
	got, stderr := liveRun(t, p, []string{"-i", p.IfA, "--mode", mode, "--rules", rf}, send)
	t.Logf("%s", stderr)
	if !strings.Contains(stderr, path) {
		t.Fatalf("the rules did not run in the kernel:\n%s", stderr)
	}
	exact(t, got, want)
	m := regexp.MustCompile(`(?m)^wring: rules: (\d+) captured \((\d+) matched no rule\), (\d+) dropped, (\d+) passed, (\d+) sampled out, (\d+) bypassed`).FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no rules summary in:\n%s", stderr)
	}
	st := d.Stats()
	wantCounts := []uint64{st.Outcomes[rules.OutcomeCapture], st.NoMatch, st.Outcomes[rules.OutcomeDrop], st.Outcomes[rules.OutcomePass],
		st.Outcomes[rules.OutcomeSampledOut], st.Outcomes[rules.OutcomeBypassed]}
	for i, w := range wantCounts {
		if n, _ := strconv.ParseUint(m[i+1], 10, 64); n != w {
			t.Errorf("summary %q: field %d is %d, the decider counts %d", m[0], i+1, n, w)
		}
	}
}
