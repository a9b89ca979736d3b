//go:build linux

package rulemaps

import (
	"testing"
	"time"

	"github.com/cilium/ebpf"

	"github.com/wringcap/wring/filters/rules"
	"github.com/wringcap/wring/internal/netns"
)

// xdpMD is struct xdp_md, the context BPF_PROG_TEST_RUN gives an XDP
// program: with IngressIfindex set, the frame arrives on that device's
// receive queue RxQueueIndex.
type xdpMD struct {
	Data, DataEnd, DataMeta, IngressIfindex, RxQueueIndex, EgressIfindex uint32
}

// TestQueueStats runs the XDP block on frames that arrive on chosen
// receive queues of a veth with MaxQueues+2 of them: each queue's
// outcomes are counted in its own entry, the queues from MaxQueues up in
// the last one (which QueueStats of any such queue reads), and Stats and
// CPUStats add up every entry.
func TestQueueStats(t *testing.T) {
	needKernel(t)
	start := time.Now()
	pair := netns.New(t, MaxQueues+2)
	t.Logf("a veth with %d queues in %v", MaxQueues+2, time.Since(start))
	f, err := rules.ParseText([]byte("rule 1 priority 1 proto udp dport 9001 -> drop\n"))
	if err != nil {
		t.Fatal(err)
	}
	rg := newRigFor(t, f, Options{}, true)
	ifindex, err := netns.Ifindex(pair.NSA, pair.IfA)
	if err != nil {
		t.Fatal(err)
	}
	// Frames per queue: queue q gets q%5+1 dropped and 2 captured ones.
	queues := []int{0, 1, 3, MaxQueues - 1, MaxQueues, MaxQueues + 1}
	want := map[int][5]uint64{}
	if err := netns.Do(pair.NSA, func() error {
		for _, q := range queues {
			w := want[min(q, MaxQueues)]
			for i := 0; i < q%5+1+2; i++ {
				dp := uint16(9001)
				if i < 2 {
					dp = 9000
				}
				fr := liveFrame(4000, dp, -1, uint32(i))
				ctx := xdpMD{DataEnd: uint32(len(fr)), IngressIfindex: uint32(ifindex), RxQueueIndex: uint32(q)}
				if _, err := rg.prog.Run(&ebpf.RunOptions{Data: fr, Context: ctx}); err != nil {
					return err
				}
				if dp == 9001 {
					w[rules.OutcomeDrop]++
				} else {
					w[rules.OutcomeCapture]++
				}
			}
			want[min(q, MaxQueues)] = w
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var total [5]uint64
	for _, q := range append(queues, 2, MaxQueues+100) {
		st, err := rg.m.QueueStats(q)
		if err != nil {
			t.Fatal(err)
		}
		w := want[min(q, MaxQueues)]
		t.Logf("queue %d: %v", q, st.Outcomes)
		if st.Outcomes != w {
			t.Errorf("queue %d: outcomes %v, want %v", q, st.Outcomes, w)
		}
	}
	for _, w := range want {
		for i := range total {
			total[i] += w[i]
		}
	}
	st, err := rg.m.Stats()
	if err != nil {
		t.Fatal(err)
	}
	cpus, err := rg.m.CPUStats()
	if err != nil {
		t.Fatal(err)
	}
	var perCPU [5]uint64
	for _, c := range cpus {
		for i := range perCPU {
			perCPU[i] += c.Outcomes[i]
		}
	}
	if st.Outcomes != total || perCPU != total {
		t.Errorf("Stats %v, CPUStats add up to %v; the queues' entries to %v", st.Outcomes, perCPU, total)
	}
	if _, err := rg.m.QueueStats(-1); err == nil {
		t.Errorf("QueueStats(-1) gave no error")
	}
}
