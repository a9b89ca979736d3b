package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/wringcap/wring/analyzers/bundled"
	"github.com/wringcap/wring/wasm"
)

// analyzersCmd lists the bundled analyzers, the counters each declares and
// the configuration keys each takes.
type analyzersCmd struct{}

func (analyzersCmd) Run(s *streams) error {
	for _, a := range bundled.List() {
		bin, err := bundled.Module(a.Name)
		if err != nil {
			return err
		}
		fmt.Fprintf(s.Out, "%-6s %s (%d bytes)\n", a.Name, a.Description, len(bin))
		// Granted so that an analyzer importing the rule functions loads:
		// this host has no rule table and runs no packets.
		h, err := wasm.NewHost(context.Background(), hostConfig(s), wasm.Analyzer{Name: a.Name, Binary: bin, GrantRules: true})
		if err != nil {
			return exitf(1, "%v", err)
		}
		var names []string
		for _, c := range h.Counters() {
			names = append(names, c.Name)
		}
		h.Close(context.Background())
		fmt.Fprintf(s.Out, "       counters: %s\n", strings.Join(names, " "))
		if len(a.Config) == 0 {
			fmt.Fprintf(s.Out, "       config: none\n")
		}
		for _, k := range a.Config {
			fmt.Fprintf(s.Out, "       config: %s=%d..%d (%s)\n", k.Name, k.Min, k.Max, k.Help)
		}
	}
	return nil
}
