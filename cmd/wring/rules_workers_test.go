package main

import (
	"context"
	"os"
	"testing"

	"github.com/wringcap/wring/capture"
	"github.com/wringcap/wring/capture/pcapfile"
	"github.com/wringcap/wring/filters/rules"
)

// TestRulesFilterPerWorker: with several workers (AF_PACKET fanout, one
// per queue) the rules filter is forked per worker, so that each worker
// owns its bypass table (`go test -race` checks that no two share one),
// while the rule outcomes are counted together: bypass after 5 keeps 5
// packets of every flow of every worker, and the decider's counters sum
// the workers'.
func TestRulesFilterPerWorker(t *testing.T) {
	rf := writeFile(t, "r.rules", "rule 1 proto udp dport 5004-5007 either -> bypass after 5\n")
	_, cl, err := loadRules(rf, nil)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := rules.NewDecider(cl, 1024)
	if err != nil {
		t.Fatal(err)
	}
	flt := &rulesFilter{dec: dec}
	const workers = 4
	var srcs []capture.Source
	for w := range workers {
		// Each worker sees its own 20 flows of 12 packets (a flow reaches
		// one worker, as fanout by flow hash delivers it).
		b, err := os.ReadFile(udpFlows(t, 20, 12, uint16(5004+w)))
		if err != nil {
			t.Fatal(err)
		}
		r, err := pcapfile.NewReaderBytes(b, "flows")
		if err != nil {
			t.Fatal(err)
		}
		srcs = append(srcs, capture.NewFileSource(r))
	}
	for _, batch := range []int{1, 64} {
		pl, err := capture.New(capture.Config{Sources: srcs, Filter: flt, FilterMeta: true, Batch: batch})
		if err != nil {
			t.Fatal(err)
		}
		if err := pl.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		for _, c := range pl.Counters() {
			if c.Delivered != 100 {
				t.Errorf("batch %d: a worker delivered %d packets, want 5 of each of its 20 flows", batch, c.Delivered)
			}
		}
		st := dec.Stats()
		if st.Outcomes[rules.OutcomeCapture] != workers*100 || st.Outcomes[rules.OutcomeBypassed] != workers*140 {
			t.Errorf("batch %d: decider counts %d captured, %d bypassed; want %d, %d", batch,
				st.Outcomes[rules.OutcomeCapture], st.Outcomes[rules.OutcomeBypassed], workers*100, workers*140)
		}
		// The second round reads the files again: fresh sources, fresh
		// counters.
		dec, err = rules.NewDecider(cl, 1024)
		if err != nil {
			t.Fatal(err)
		}
		flt.dec = dec
		srcs = srcs[:0]
		for w := range workers {
			b, _ := os.ReadFile(udpFlows(t, 20, 12, uint16(5004+w)))
			r, err := pcapfile.NewReaderBytes(b, "flows")
			if err != nil {
				t.Fatal(err)
			}
			srcs = append(srcs, capture.NewFileSource(r))
		}
	}
}
