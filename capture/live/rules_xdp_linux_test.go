package live

import (
	"context"
	"encoding/binary"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wringcap/wring/capture"
	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/capture/rulemaps"
	"github.com/wringcap/wring/filters/rules"
	"github.com/wringcap/wring/internal/netns"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
)

// xdpRuleText are the rules of TestXDPRules, one per action by UDP
// destination port: 9000 matches none (captured), 9006 and 9007 only the
// tag rule (captured; the filter then rejects 9007).
const xdpRuleText = `
rule 1 priority 10 proto udp dport 9001 -> drop
rule 2 priority 10 proto udp dport 9002 -> sample 3 packet
rule 3 priority 10 proto udp dport 9003 -> bypass after 5
rule 4 priority 10 proto udp dport 9004 -> sample 2 flow
rule 5 priority 10 proto udp dport 9005 -> pass
rule 7 priority 20 proto udp dport 9006-9010 -> tag 77
`

// notDst9007 is `not udp dst port 9007` for untagged IPv4 without
// options, hand-written so that the test does not depend on the compiler.
var notDst9007 = spec.Program{
	{Op: 0x28, K: 12},                  // ldh [12]
	{Op: 0x15, Jt: 0, Jf: 4, K: 0x800}, // jeq #0x800
	{Op: 0x30, K: 23},                  // ldb [23]
	{Op: 0x15, Jt: 0, Jf: 2, K: 17},    // jeq #17
	{Op: 0x28, K: 36},                  // ldh [36]
	{Op: 0x15, Jt: 1, Jf: 0, K: 9007},  // jeq #9007
	{Op: 0x06, K: 262144},              // ret #262144
	{Op: 0x06, K: 0},                   // ret #0
}

// ruleFrame is a UDP frame of flow (source port sp) to port dp, its
// sequence number in the last 4 bytes so that every frame is distinct.
func ruleFrame(sp, dp uint16, seq uint32) []byte {
	f := make([]byte, 60)
	copy(f, []byte{0x02, 0, 0, 0, 0, 0xaa, 0x02, 0, 0, 0, 0, 0xbb, 0x08, 0x00})
	ip := f[14:]
	ip[0], ip[8], ip[9] = 0x45, 64, 17
	binary.BigEndian.PutUint16(ip[2:], 46)
	copy(ip[12:], []byte{10, 9, 0, 1, 10, 9, 0, 2})
	binary.BigEndian.PutUint16(f[34:], sp)
	binary.BigEndian.PutUint16(f[36:], dp)
	binary.BigEndian.PutUint16(f[38:], 26)
	binary.BigEndian.PutUint32(f[56:], seq)
	return f
}

// ruleSeq returns the sequence number of one of ruleFrame's frames, or
// false for any other frame.
func ruleSeq(f []byte) (uint32, bool) {
	if len(f) != 60 || f[11] != 0xbb || f[12] != 0x08 || f[23] != 17 {
		return 0, false
	}
	return binary.BigEndian.Uint32(f[56:]), true
}

// seqCollector records the sequence numbers a capture delivers, with the
// queue each arrived on.
type seqCollector struct {
	mu    sync.Mutex
	seqs  map[uint32]int // sequence number -> times delivered
	queue map[uint32]int
	other int
}

func (c *seqCollector) Handle(b *packet.Batch) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range b.Packets {
		s, ok := ruleSeq(p.Data)
		if !ok {
			c.other++
			continue
		}
		c.seqs[s]++
		c.queue[s] = int(p.Info.Queue)
	}
	return nil
}

// collect runs c's sources into a new collector until ctx is done; the
// function it returns waits for that and returns the pipeline's counters
// (it may be called again: later calls return the same counters).
func collect(t *testing.T, c *Capture, ctx context.Context) (*seqCollector, func() []capture.Snapshot) {
	t.Helper()
	col := &seqCollector{seqs: map[uint32]int{}, queue: map[uint32]int{}}
	pl, err := capture.New(capture.Config{Sources: c.Sources(), Handlers: []capture.Handler{col}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- pl.Run(ctx) }()
	var once sync.Once
	var counters []capture.Snapshot
	return col, func() []capture.Snapshot {
		once.Do(func() {
			if err := <-done; err != nil {
				t.Error(err)
			}
			counters = pl.Counters()
		})
		return counters
	}
}

// vethXDPStats reads the veth driver's own per-queue XDP counters of ifname
// in namespace ns (ethtool -S): frames the program ran on, dropped
// (XDP_DROP) and redirected (to the sockets), by receive queue.
func vethXDPStats(t *testing.T, ns, ifname string) (packets, drops, redirects map[int]uint64) {
	t.Helper()
	out, err := exec.Command("ip", "netns", "exec", ns, "ethtool", "-S", ifname).CombinedOutput()
	if err != nil {
		t.Fatalf("ethtool -S %s: %v: %s", ifname, err, out)
	}
	packets, drops, redirects = map[int]uint64{}, map[int]uint64{}, map[int]uint64{}
	re := regexp.MustCompile(`(?m)^\s*rx_queue_(\d+)_(xdp_packets|xdp_drops|xdp_redirect):\s*(\d+)$`)
	for _, m := range re.FindAllStringSubmatch(string(out), -1) {
		q, _ := strconv.Atoi(m[1])
		v, _ := strconv.ParseUint(m[3], 10, 64)
		map[string]map[int]uint64{"xdp_packets": packets, "xdp_drops": drops, "xdp_redirect": redirects}[m[2]][q] = v
	}
	if len(packets) == 0 {
		t.Fatalf("ethtool -S %s shows no per-queue XDP counters:\n%s", ifname, out)
	}
	return packets, drops, redirects
}

// TestXDPRules is acceptance 2 of the rules (spec/RULES.md) on the AF_XDP
// path: a veth with 4 receive queues, the rules in the XDP program in
// front of a filter, frames of 128 flows spread over the queues by the
// sender's flow hash. The sockets receive exactly the frames the
// userspace decider captures and the filter accepts; dropped frames end
// in XDP_DROP, and every frame the rules or the filter keep from the
// sockets reaches the host (an AF_PACKET capture on the same interface
// sees exactly those). Each queue's books reconcile three ways: the
// program's count of frames seen, the rules' outcome counts on that queue
// and the sockets' receive counts, checked against the veth driver's own
// per-queue XDP counters.
func TestXDPRules(t *testing.T) {
	const queues = 4
	p := netns.New(t, queues)
	f, err := rules.ParseText([]byte(xdpRuleText))
	if err != nil {
		t.Fatal(err)
	}
	cl := rules.New()
	if err := cl.Load(f); err != nil {
		t.Fatal(err)
	}
	m, err := rulemaps.New(rulemaps.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	tab := cl.Snapshot()
	if err := m.Sync(&tab); err != nil {
		t.Fatal(err)
	}
	filter := verified(t, notDst9007, verifier.Options{})
	c := openIn(t, p, Options{Mode: ModeXDP, Rules: m, Filters: Filters{InBand: filter}, Frames: 4096})
	t.Logf("path: %s", c.Path())
	if !c.RulesInKernel() || !c.FilterInKernel() {
		t.Fatalf("path %q: rules in the kernel %v, filter %v; want both", c.Path(), c.RulesInKernel(), c.FilterInKernel())
	}
	// The host's view: AF_PACKET sees what XDP passes, after the program.
	host := openIn(t, p, Options{Mode: ModePacket})

	// 16 flows per port, 12 frames each, interleaved.
	var send [][]byte
	seq := uint32(0)
	for round := 0; round < 12; round++ {
		for dp := uint16(9000); dp <= 9007; dp++ {
			for fl := uint16(0); fl < 16; fl++ {
				send = append(send, ruleFrame(4000+fl, dp, seq))
				seq++
			}
		}
	}
	dport := func(s uint32) uint16 { return binary.BigEndian.Uint16(send[s][36:]) }
	ctx, cancel := context.WithCancel(context.Background())
	col, xdpDone := collect(t, c, ctx)
	hostCol, hostDone := collect(t, host, ctx)
	// Stop both pipelines before the captures close, also when the test
	// fails before it stops them itself.
	defer func() { cancel(); xdpDone(); hostDone() }()
	time.Sleep(100 * time.Millisecond)
	if n, err := netns.Send(p.NSB, p.IfB, send); err != nil || n != len(send) {
		t.Fatalf("sent %d of %d frames: %v", n, len(send), err)
	}
	time.Sleep(500 * time.Millisecond)
	cancel()
	pc := xdpDone()
	hostDone()
	st := c.Stats()
	kc := capture.Sum(pc)

	// Userspace's verdict on the same frames, in order: what the sockets
	// must hold, and what the host must see.
	d, err := rules.NewDecider(cl, rules.DefaultFlowSlots)
	if err != nil {
		t.Fatal(err)
	}
	wantXSK, wantHost := map[uint32]bool{}, map[uint32]bool{}
	byOutcome := map[rules.Outcome]int{}
	filtered := 0
	for i, fr := range send {
		var rec packet.Record
		packet.Parse(packet.Info{Timestamp: 1_700_000_000_000_000_000, CapLen: uint32(len(fr)), WireLen: uint32(len(fr)), LinkType: spec.LinkEthernet}, fr, &rec)
		o := d.DecideRecord((*[spec.RecordSize]byte)(&rec)).Outcome
		byOutcome[o]++
		switch {
		case o == rules.OutcomeCapture && dport(uint32(i)) != 9007:
			wantXSK[uint32(i)] = true
		case o == rules.OutcomeCapture:
			filtered++
			wantHost[uint32(i)] = true
		case o != rules.OutcomeDrop:
			wantHost[uint32(i)] = true
		}
	}
	// Frames of sample 3 packet (port 9002) are compared by count: the
	// rule's count is shared by the queues, whose frames the kernel may
	// process in another order than they were sent.
	compare := func(name string, got map[uint32]int, want map[uint32]bool) {
		missing, extra, twice, gotSample, wantSample := 0, 0, 0, 0, 0
		for s := range want {
			if dport(s) == 9002 {
				wantSample++
			} else if got[s] == 0 {
				missing++
			}
		}
		for s, n := range got {
			if n > 1 {
				twice++
			}
			if dport(s) == 9002 {
				gotSample++
			} else if !want[s] {
				extra++
				if extra <= 5 {
					t.Errorf("%s: frame %d (port %d) should not be there", name, s, dport(s))
				}
			}
		}
		t.Logf("%s: %d frames (%d of sample 3 packet); want %d (%d); %d missing, %d extra, %d twice",
			name, len(got), gotSample, len(want), wantSample, missing, extra, twice)
		if missing != 0 || extra != 0 || twice != 0 || gotSample != wantSample {
			t.Errorf("%s: %d missing, %d extra, %d delivered twice; sample 3 packet %d frames, want %d", name, missing, extra, twice, gotSample, wantSample)
		}
	}
	compare("sockets", col.seqs, wantXSK)
	compare("host", hostCol.seqs, wantHost)
	if col.other != 0 {
		t.Errorf("the sockets received %d frames that were not sent", col.other)
	}

	// bypass after 5: exactly 5 frames of each of the 16 flows captured.
	perFlow := map[uint16]int{}
	for s := range col.seqs {
		if dport(s) == 9003 {
			perFlow[binary.BigEndian.Uint16(send[s][34:])]++
		}
	}
	for fl := uint16(0); fl < 16; fl++ {
		if perFlow[4000+fl] != 5 {
			t.Errorf("bypass after 5: flow from port %d captured %d frames, want 5", 4000+fl, perFlow[4000+fl])
		}
	}
	// sample 3 packet: one frame in 3 of the rule's 192; sample 2 flow:
	// the flows userspace picks, exactly (compared above), some of 16.
	sample, flows := 0, map[uint16]bool{}
	for s := range col.seqs {
		switch dport(s) {
		case 9002:
			sample++
		case 9004:
			flows[binary.BigEndian.Uint16(send[s][34:])] = true
		}
	}
	if sample != 16*12/3 {
		t.Errorf("sample 3 packet captured %d of %d frames, want %d", sample, 16*12, 16*12/3)
	}
	if len(flows) == 0 || len(flows) == 16 {
		t.Errorf("sample 2 flow captured %d of 16 flows: the test does not exercise it", len(flows))
	}

	// The books, per queue.
	vPackets, vDrops, vRedirects := vethXDPStats(t, p.NSA, p.IfA)
	var tot rulemaps.Stats
	var seen, received uint64
	for _, s := range st {
		r := s.Rules
		if r == nil {
			t.Fatalf("queue %d: no rule outcomes", s.Queue)
		}
		for i, o := range r.Outcomes {
			tot.Outcomes[i] += o
		}
		tot.NoMatch += r.NoMatch
		tot.Unclassified += r.Unclassified
		decided := r.Unclassified
		for _, o := range r.Outcomes {
			decided += o
		}
		captured := r.Outcomes[rules.OutcomeCapture] + r.Unclassified
		kept := decided - captured // dropped, passed, sampled out, bypassed
		var byFilter uint64        // the rules captured them, the filter rejected them
		if captured >= s.Received+s.Dropped {
			byFilter = captured - s.Received - s.Dropped
		}
		onQueue := 0
		for sq, q := range col.queue {
			if q == s.Queue {
				onQueue += col.seqs[sq]
			}
		}
		t.Logf("queue %d: sent %d = captured %d + dropped %d + passed %d + sampled out %d + bypassed %d + filtered out %d (+ lost %d); veth: xdp %d, drops %d, redirects %d",
			s.Queue, s.Seen, s.Received, r.Outcomes[rules.OutcomeDrop], r.Outcomes[rules.OutcomePass], r.Outcomes[rules.OutcomeSampledOut],
			r.Outcomes[rules.OutcomeBypassed], byFilter, s.Dropped, vPackets[s.Queue], vDrops[s.Queue], vRedirects[s.Queue])
		switch {
		case s.Seen == 0:
			t.Errorf("queue %d received nothing: the flows should spread over every queue", s.Queue)
		case s.Seen != decided:
			t.Errorf("queue %d: the program saw %d frames, the rules decided %d there", s.Queue, s.Seen, decided)
		case !s.Reconciles() || s.FilteredOut != kept+byFilter || s.Seen != s.Received+s.Dropped+kept+byFilter:
			t.Errorf("queue %d does not reconcile: %+v, rules %+v", s.Queue, s, *r)
		case s.Dropped != 0:
			t.Errorf("queue %d: the sockets lost %d frames (%s)", s.Queue, s.Dropped, s.DropDetail)
		case s.Received != uint64(onQueue):
			t.Errorf("queue %d: the socket counted %d frames, the pipeline got %d from it", s.Queue, s.Received, onQueue)
		case vPackets[s.Queue] != s.Seen || vDrops[s.Queue] != r.Outcomes[rules.OutcomeDrop] || vRedirects[s.Queue] != s.Received:
			t.Errorf("queue %d: the driver counts %d frames, %d XDP_DROP, %d redirected; the program %d, the rules %d dropped, the socket %d",
				s.Queue, vPackets[s.Queue], vDrops[s.Queue], vRedirects[s.Queue], s.Seen, r.Outcomes[rules.OutcomeDrop], s.Received)
		}
		seen += s.Seen
		received += s.Received
	}
	// The totals: every frame sent was seen once, the rules' outcomes are
	// userspace's, the filter rejected what it rejects in userspace.
	var us [5]uint64
	for o, n := range byOutcome {
		us[o] = uint64(n)
	}
	t.Logf("sent %d; kernel outcomes %v (no match %d), userspace %v; filter rejected %d", len(send), tot.Outcomes, tot.NoMatch, us, filtered)
	if seen != uint64(len(send)) || tot.Outcomes != us || tot.Unclassified != 0 {
		t.Errorf("the queues saw %d of %d frames sent; kernel outcomes %v (unclassified %d), userspace %v", seen, len(send), tot.Outcomes, tot.Unclassified, us)
	}
	if rejected := int64(tot.Outcomes[rules.OutcomeCapture]) - int64(received); received != uint64(len(wantXSK)) || rejected != int64(filtered) {
		t.Errorf("the sockets received %d, userspace keeps %d; the filter rejected %d of the rules' captures, %d in userspace",
			received, len(wantXSK), rejected, filtered)
	}
	if tot.NoMatch != 16*12 {
		t.Errorf("no rule matched %d frames, want %d (port 9000's)", tot.NoMatch, 16*12)
	}
	if tot.Outcomes[rules.OutcomeBypassed] != 16*7 {
		t.Errorf("bypassed %d frames, want %d (7 of each flow's 12)", tot.Outcomes[rules.OutcomeBypassed], 16*7)
	}
	for _, o := range []rules.Outcome{rules.OutcomeDrop, rules.OutcomePass, rules.OutcomeSampledOut, rules.OutcomeBypassed} {
		if tot.Outcomes[o] == 0 {
			t.Errorf("no frame %s: the test does not exercise it", o)
		}
	}
	if !kc.Reconciles() || kc.Received != received {
		t.Errorf("pipeline %+v does not match the sockets' %d received", kc, received)
	}
	// The rules' own counters are userspace's.
	counts, err := m.Counters()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range counts {
		u, _ := cl.Counters(k.ID)
		if k.Packets != u.Packets || k.Bytes != u.Bytes {
			t.Errorf("rule %d: kernel %d packets %d bytes, userspace %d packets %d bytes", k.ID, k.Packets, k.Bytes, u.Packets, u.Bytes)
		}
	}
}

// TestXDPRulesOneQueue: on IF@Q the rules stay in userspace, as on the
// passive path (in the XDP program they would decide every queue's
// frames), and the capture says why.
func TestXDPRulesOneQueue(t *testing.T) {
	p := netns.New(t, 4)
	m, err := rulemaps.New(rulemaps.Options{RuleSlots: 16, FlowKeys: 16, BypassFlows: 16})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var mu sync.Mutex
	var lines []string
	opts := Options{Mode: ModeXDP, Rules: m, Frames: 256, Log: func(f string, a ...any) {
		mu.Lock()
		defer mu.Unlock()
		lines = append(lines, fmt.Sprintf(f, a...))
	}}
	var c *Capture
	if err := netns.Do(p.NSA, func() error {
		c, err = Open(Device{Name: p.IfA, Queue: 2}, opts)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	t.Logf("path: %s; log %q", c.Path(), lines)
	if c.RulesInKernel() || !strings.Contains(strings.Join(lines, "\n"), "the rules run in userspace: in the kernel they would see every queue's packets") {
		t.Errorf("rules in the kernel %v, log %q: want them in userspace, and why", c.RulesInKernel(), lines)
	}
	for _, s := range c.Stats() {
		if s.Rules != nil {
			t.Errorf("queue %d has rule outcomes %+v without rules in the kernel", s.Queue, *s.Rules)
		}
	}
}
