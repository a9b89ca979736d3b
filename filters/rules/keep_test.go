package rules

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/wringcap/wring/spec"
)

// TestKeep: the keep action parses, round-trips through both formats and
// is decided as captured by the flow that holds it.
func TestKeep(t *testing.T) {
	src := "rule 1 priority 5 proto udp dport 5060 -> keep\nflow 2 proto udp src 10.0.0.1 sport 4000 dst 10.0.0.2 dport 5000 both idle 30s -> keep\n"
	f, err := ParseText([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if f.Rules[0].Action.Verb != VerbKeep || f.Flows[0].Action.Verb != VerbKeep {
		t.Fatalf("parsed %+v", f)
	}
	if !strings.Contains(string(f.Text()), "-> keep") {
		t.Fatalf("text: %s", f.Text())
	}
	j, err := f.JSON()
	if err != nil {
		t.Fatal(err)
	}
	g, err := ParseJSON(j)
	if err != nil || g.Flows[0].Action.Verb != VerbKeep || g.Rules[0].Action.Verb != VerbKeep {
		t.Fatalf("json %s: %v %+v", j, err, g)
	}
	if _, err := ParseText([]byte("rule 1 -> keep 3\n")); err == nil {
		t.Fatal("keep with an argument parsed")
	}
	cl := New()
	if err := cl.Load(f); err != nil {
		t.Fatal(err)
	}
	d, err := NewDecider(cl, 64)
	if err != nil {
		t.Fatal(err)
	}
	p := pktFields{ver: 4, proto: ProtoUDP, src: netip.MustParseAddr("10.0.0.2"), dst: netip.MustParseAddr("10.0.0.1"), sport: 5000, dport: 4000, l4: true, ether: 0x0800}
	rec := p.record(0, 60)
	k := KeyFromRecord((*[spec.RecordSize]byte)(&rec))
	dec := d.Decide(&k, 1, 100, 0)
	if dec.Outcome != OutcomeCapture || !dec.Hit.Matched || dec.Hit.ID != 2 || dec.Hit.Action.Verb != VerbKeep {
		t.Fatalf("decision %+v", dec)
	}
}
