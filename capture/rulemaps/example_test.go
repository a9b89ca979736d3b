//go:build linux

package rulemaps_test

import (
	"fmt"
	"net/netip"

	"github.com/wringcap/wring/capture/passive"
	"github.com/wringcap/wring/capture/rulemaps"
	"github.com/wringcap/wring/filters/rules"
)

// Load a rule file into the kernel tables, splice the block into the
// passive programs, and add an exact flow at run time without reloading
// them. (It needs root: no output is checked.)
func ExampleMaps_Update() {
	f, err := rules.ParseText([]byte("rule 1 priority 10 proto udp dport 5060 -> capture\nrule 2 priority 100 -> drop\n"))
	if err != nil {
		panic(err)
	}
	c := rules.New()
	if err := c.Load(f); err != nil {
		panic(err)
	}
	m, err := rulemaps.New(rulemaps.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()
	t := c.Snapshot()
	if err := m.Sync(&t); err != nil {
		panic(err)
	}
	block, err := m.Instructions(rulemaps.BlockOptions{Ctx: passive.CtxReg, StackTop: passive.StackOffset,
		Done: passive.RulesDoneLabel, Skip: passive.RulesSkipLabel})
	if err != nil {
		panic(err)
	}
	probe, err := passive.Load(passive.Spec{Rules: block, RingBytes: 1 << 20})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer probe.Close()
	// An RTP stream announced by SIP: capture it, both directions.
	rtp := rules.Flow{ID: 10, Proto: rules.ProtoUDP, Both: true, Action: rules.Action{Verb: rules.VerbCapture},
		Src: netip.MustParseAddrPort("192.0.2.1:40000"), Dst: netip.MustParseAddrPort("198.51.100.7:40002")}
	if err := m.Update(c, rules.Change{Flows: []rules.Flow{rtp}}); err != nil {
		panic(err)
	}
	counters, _ := m.Counters()
	fmt.Println(len(counters), "rules and flows")
}
