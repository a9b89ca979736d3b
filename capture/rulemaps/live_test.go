//go:build linux

package rulemaps

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/capture/passive"
	"github.com/wringcap/wring/filters/rules"
	unix "github.com/wringcap/wring/internal/linux"
	"github.com/wringcap/wring/internal/netns"
	"github.com/wringcap/wring/spec"
)

// liveRules are the rules of TestLivePassive: one per action, by UDP
// destination port, and a VLAN rule (the kernel holds a received frame's
// tag in metadata, not in the frame).
const liveRules = `
rule 1 priority 10 proto udp dport 9001 -> drop
rule 2 priority 10 proto udp dport 9002 -> sample 3 packet
rule 3 priority 10 proto udp dport 9003 -> bypass after 5
rule 4 priority 10 proto udp dport 9004 -> sample 2 flow
rule 5 priority 10 proto udp dport 9005 -> pass
rule 6 priority 5 vlan 7 proto udp dport 9006 -> bypass after 2
rule 7 priority 20 proto udp dport 9000-9010 -> tag 77
flow 8 proto udp src 10.9.0.1 sport 4000 dst 10.9.0.2 dport 9003 -> drop
`

// liveFrame is a UDP frame of flow (src port sp) to port dp, its sequence
// number in the payload so that every frame is distinct.
func liveFrame(sp, dp uint16, vlan int, seq uint32) []byte {
	b := []byte{0x02, 0, 0, 0, 0, 0xaa, 0x02, 0, 0, 0, 0, 0xbb}
	if vlan >= 0 {
		b = append(b, 0x81, 0x00, byte(vlan>>8), byte(vlan))
	}
	b = append(b, 0x08, 0x00)
	ip := []byte{0x45, 0, 0, 0, 0, 0, 0, 0, 64, 17, 0, 0, 10, 9, 0, 1, 10, 9, 0, 2}
	udp := make([]byte, 8+16)
	binary.BigEndian.PutUint16(udp[0:], sp)
	binary.BigEndian.PutUint16(udp[2:], dp)
	binary.BigEndian.PutUint16(udp[4:], uint16(len(udp)))
	binary.BigEndian.PutUint32(udp[8:], seq)
	binary.BigEndian.PutUint16(ip[2:], uint16(len(ip)+len(udp)))
	return append(append(b, ip...), udp...)
}

// TestLivePassive is acceptance 2's kernel part on the passive path: the
// rules block spliced in front of the passive program on a veth between
// two namespaces, with drop, pass, sample (per packet and per flow) and
// bypass rules. What lands in the rings is exactly what the userspace
// decider captures from the frames sent, and the kernel's per-rule
// counters and outcome counts reconcile with it and with the program's
// own count of packets seen.
func TestLivePassive(t *testing.T) {
	needKernel(t)
	for _, queues := range []int{1, 4} {
		t.Run(fmt.Sprintf("queues=%d", queues), func(t *testing.T) { livePassive(t, queues) })
	}
}

// livePassive runs TestLivePassive on a veth with this many queues. With
// several, the ring of each CPU reconciles on its own: the packets the
// program saw there are those the rules decided there, and those it
// copied the ones they captured there. Packets of one flow may reach
// different CPUs, so which packets sample 3 packet picks can depend on
// the interleaving: for that rule the count must match, the other rules'
// frames exactly.
func livePassive(t *testing.T, queues int) {
	pair := netns.New(t, queues)
	f, err := rules.ParseText([]byte(liveRules))
	if err != nil {
		t.Fatal(err)
	}
	c := rules.New()
	if err := c.Load(f); err != nil {
		t.Fatal(err)
	}
	m, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	tab := c.Snapshot()
	if err := m.Sync(&tab); err != nil {
		t.Fatal(err)
	}
	block, err := m.Instructions(BlockOptions{Ctx: passive.CtxReg, StackTop: passive.StackOffset,
		Done: passive.RulesDoneLabel, Skip: passive.RulesSkipLabel})
	if err != nil {
		t.Fatal(err)
	}
	probe, err := passive.Load(passive.Spec{Rules: block, RingBytes: 1 << 22})
	if err != nil {
		t.Fatal(err)
	}
	defer probe.Close()
	if err := netns.Do(pair.NSA, func() error {
		idx, err := netns.Ifindex(pair.NSA, pair.IfA)
		if err != nil {
			return err
		}
		return probe.Attach(idx, true, false)
	}); err != nil {
		t.Fatal(err)
	}
	// 8 flows per port, 12 packets each, interleaved; VLAN 7 on port 9006.
	var frames [][]byte
	seq := uint32(0)
	for round := 0; round < 12; round++ {
		for dp := uint16(9000); dp <= 9007; dp++ {
			for fl := uint16(0); fl < 8; fl++ {
				vlan := -1
				if dp == 9006 {
					vlan = 7 | 3<<13
				}
				sp := 4000 + fl
				frames = append(frames, liveFrame(sp, dp, vlan, seq))
				seq++
			}
		}
	}
	if queues == 1 {
		sent, err := netns.Send(pair.NSB, pair.IfB, frames)
		if err != nil || sent != len(frames) {
			t.Fatalf("sent %d of %d frames: %v", sent, len(frames), err)
		}
	} else {
		// Two senders, each pinned to a CPU and sending half the flows
		// (by source port), so that both CPUs' programs and rings work.
		var halves [2][][]byte
		for _, fr := range frames {
			h := binary.BigEndian.Uint16(fr[len(fr)-24:]) % 2 // UDP source port
			halves[h] = append(halves[h], fr)
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for h := range halves {
			wg.Add(1)
			go func() {
				defer wg.Done()
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				var set unix.CPUSet
				set.Set(h % runtime.NumCPU())
				if err := unix.SchedSetaffinity(0, &set); err != nil {
					errs[h] = err
					return
				}
				sent, err := netns.Send(pair.NSB, pair.IfB, halves[h])
				if err == nil && sent != len(halves[h]) {
					err = fmt.Errorf("sent %d of %d frames", sent, len(halves[h]))
				}
				errs[h] = err
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	// Userspace's verdict on the same frames, in order.
	d, err := rules.NewDecider(c, rules.DefaultFlowSlots)
	if err != nil {
		t.Fatal(err)
	}
	want := map[uint32]bool{} // sequence numbers captured
	for _, fr := range frames {
		var rec packet.Record
		packet.Parse(packet.Info{Timestamp: testTime, CapLen: uint32(len(fr)), WireLen: uint32(len(fr)), LinkType: spec.LinkEthernet}, fr, &rec)
		if d.DecideRecord((*[spec.RecordSize]byte)(&rec)).Outcome == rules.OutcomeCapture {
			want[binary.BigEndian.Uint32(fr[len(fr)-16:])] = true
		}
	}
	// What the kernel copied.
	got := map[uint32]bool{}
	other := 0
	deadline := time.Now().Add(5 * time.Second)
	recs := make([][]byte, 256)
	for len(got) < len(want) && time.Now().Before(deadline) {
		for i := 0; i < probe.Rings(); i++ {
			rd, err := passive.NewReader(probe.Ring(i))
			if err != nil {
				t.Fatal(err)
			}
			for {
				n, err := rd.Read(recs, 0)
				if err != nil {
					t.Fatal(err)
				}
				if n == 0 {
					break
				}
				for _, r := range recs[:n] {
					_, data, err := passive.Parse(r)
					if err != nil {
						t.Fatal(err)
					}
					if len(data) < 16 || data[11] != 0xbb {
						other++
						continue
					}
					s := binary.BigEndian.Uint32(data[len(data)-16:])
					if got[s] {
						t.Errorf("frame %d copied twice", s)
					}
					got[s] = true
				}
			}
			rd.Close()
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Frames of the sample-per-packet rule (destination port 9002): by
	// count when several CPUs may interleave them.
	isSample := func(s uint32) bool { return s/8%8 == 2 }
	missing, extra, wantSample, gotSample := 0, 0, 0, 0
	for s := range want {
		if queues > 1 && isSample(s) {
			wantSample++
			continue
		}
		if !got[s] {
			missing++
		}
	}
	for s := range got {
		if queues > 1 && isSample(s) {
			gotSample++
			continue
		}
		if !want[s] {
			extra++
		}
	}
	if wantSample != gotSample {
		t.Errorf("sample 3 packet: the rings hold %d of its frames, userspace captures %d", gotSample, wantSample)
	}
	us := d.Stats()
	ks, err := m.Stats()
	if err != nil {
		t.Fatal(err)
	}
	var seen uint64
	cpus, err := m.CPUStats()
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < probe.Rings(); i++ {
		pc, err := probe.Counters(i)
		if err != nil {
			t.Fatal(err)
		}
		seen += pc.Seen
		var decided uint64
		for _, o := range cpus[i].Outcomes {
			decided += o
		}
		if pc.Seen != decided+cpus[i].Unclassified || pc.Matched != cpus[i].Outcomes[rules.OutcomeCapture]+cpus[i].Unclassified || pc.Dropped != 0 {
			t.Errorf("ring %d: seen %d, matched %d, ring full %d; the rules decided %d there, captured %d", i, pc.Seen, pc.Matched, pc.Dropped, decided, cpus[i].Outcomes[rules.OutcomeCapture])
		}
		t.Logf("ring %d: seen %d, copied %d; rules %v", i, pc.Seen, pc.Matched, cpus[i].Outcomes)
	}
	t.Logf("sent %d frames; userspace captures %d, the rings hold %d of ours (%d missing, %d extra) and %d others",
		len(frames), len(want), len(got), missing, extra, other)
	t.Logf("kernel outcomes %v (no match %d), userspace %v (no match %d); the program saw %d packets",
		ks.Outcomes, ks.NoMatch, us.Outcomes, us.NoMatch, seen)
	if missing != 0 || extra != 0 {
		t.Errorf("the rings differ from userspace's decisions: %d missing, %d extra", missing, extra)
	}
	if ks.Outcomes != us.Outcomes || ks.NoMatch != us.NoMatch {
		t.Errorf("outcome counts differ")
	}
	var sum uint64
	for _, o := range ks.Outcomes {
		sum += o
	}
	if sum+ks.Unclassified != seen || seen != uint64(len(frames)+other) {
		t.Errorf("seen %d, outcomes sum to %d (+%d unclassified), sent %d (+%d others)", seen, sum, ks.Unclassified, len(frames), other)
	}
	for _, o := range []rules.Outcome{rules.OutcomeDrop, rules.OutcomePass, rules.OutcomeSampledOut, rules.OutcomeBypassed} {
		if ks.Outcomes[o] == 0 {
			t.Errorf("no packet %s: the test does not exercise it", o)
		}
	}
	kc, err := m.Counters()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range kc {
		if k.ID == 6 && k.Packets != 8*12 {
			t.Errorf("the VLAN rule counted %d packets, want %d: the kernel's tag metadata was not read as userspace reads the tag", k.Packets, 8*12)
		}
		u, _ := c.Counters(k.ID)
		if k.Packets != u.Packets || k.Bytes != u.Bytes {
			t.Errorf("rule %d: kernel %d packets %d bytes, userspace %d packets %d bytes", k.ID, k.Packets, k.Bytes, u.Packets, u.Bytes)
		}
	}
}
