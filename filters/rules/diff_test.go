package rules

import (
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/spec"
)

// randomFile returns nrules wildcard rules and nflows flows drawn from g.
func randomFile(g *gen, nrules, nflows int) *File {
	f := &File{}
	for range nrules {
		f.Rules = append(f.Rules, g.rule())
	}
	seen := map[Key]bool{}
	for len(f.Flows) < nflows {
		fl := g.flow()
		clash := false
		for _, k := range fl.keys() {
			clash = clash || seen[k]
		}
		if clash {
			continue
		}
		for _, k := range fl.keys() {
			seen[k] = true
		}
		f.Flows = append(f.Flows, fl)
	}
	return f
}

// corpusRecords parses the packets of the tcpdump corpus files (those
// gopacket's reader takes) into records.
func corpusRecords(tb testing.TB, max int) []packet.Record {
	var recs []packet.Record
	for _, path := range corpus.Files(tb, "tcpdump") {
		c, err := corpus.ReadCapture(path)
		if c == nil {
			continue // unreadable on purpose
		}
		_ = err
		for _, p := range c.Packets {
			var rec packet.Record
			packet.Parse(packet.Info{Timestamp: p.TsNanos, CapLen: uint32(len(p.Data)), WireLen: p.WireLen, LinkType: c.LinkType}, p.Data, &rec)
			recs = append(recs, rec)
			if len(recs) == max {
				return recs
			}
		}
	}
	return recs
}

// TestDifferential checks the classifier against the linear reference:
// random rule sets of 1 to 100,000 rules (mixed shapes, ranges, IPv4 and
// IPv6, overlapping priorities, either-direction rules and exact flows)
// against random packets aimed at the rules and the tcpdump corpus
// packets. Every packet must get the same rule id and action.
// WRING_RULES_DIFF_PACKETS raises the packet counts.
func TestDifferential(t *testing.T) {
	scale := 1
	if s := os.Getenv("WRING_RULES_DIFF_PACKETS"); s != "" {
		scale, _ = strconv.Atoi(s)
	}
	recs := corpusRecords(t, 20000)
	if len(recs) < 1000 {
		t.Fatalf("only %d corpus packets parsed", len(recs))
	}
	cases := []struct {
		rules, flows, shapes, packets, corpus int
	}{
		{1, 0, 1, 20000, len(recs)},
		{10, 5, 4, 20000, len(recs)},
		{100, 50, 8, 20000, len(recs)},
		{1000, 500, 16, 20000, len(recs)},
		{10000, 2000, 24, 3000, 3000},
		// The linear reference costs 100,000 match calls per packet: the
		// packet count is scaled down, not the rule count.
		{100000, 10000, 24, 600, 300},
	}
	total := 0
	for i, c := range cases {
		t.Run(fmt.Sprintf("rules=%d", c.rules), func(t *testing.T) {
			g := newGen(uint64(i+1)*7919, c.shapes)
			f := randomFile(g, c.rules, c.flows)
			cl := New()
			start := time.Now()
			if err := cl.Load(f); err != nil {
				t.Fatal(err)
			}
			build := time.Since(start)
			sz := cl.Size()
			disagree, matched, flows := 0, 0, 0
			ids := map[uint32]bool{}
			check := func(rec *packet.Record, what string) {
				k := KeyFromRecord((*[spec.RecordSize]byte)(rec))
				h := cl.Lookup(&k, 0)
				id, act, ok := refClassify(f, rec)
				if h.Matched != ok || h.ID != id || h.Action != act {
					disagree++
					if disagree <= 5 {
						t.Errorf("%s: classifier %+v, reference id %d %v matched %v\nview %+v", what, h, id, act, ok, viewOf(rec))
					}
				}
				if ok {
					matched++
					ids[id] = true
				}
				if h.Flow {
					flows++
				}
			}
			n := c.packets * scale
			for j := range n {
				p := g.packet(f)
				rec := p.record(int64(j), 60)
				check(&rec, "random packet")
			}
			nc := min(c.corpus*scale, len(recs))
			for j := range nc {
				check(&recs[j], "corpus packet")
			}
			t.Logf("%d rules, %d flows (%d tuples, %d entries, built in %v): %d random + %d corpus packets, %d matched (%d by flows, %d distinct rules), %d disagreements",
				sz.Rules, sz.Flows, sz.Tuples, sz.Entries, build.Round(time.Millisecond), n, nc, matched, flows, len(ids), disagree)
			total += n + nc
			// The packets must exercise the rules: many distinct winners.
			if want := min(c.rules+c.flows, 100) / 2; matched == 0 || len(ids) < want {
				t.Errorf("%d packets matched %d distinct rules, want at least %d: the packets do not exercise the rules", matched, len(ids), want)
			}
		})
	}
	t.Logf("%d packets compared", total)
}
