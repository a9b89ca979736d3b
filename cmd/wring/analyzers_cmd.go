package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/wringcap/wring/analyzers/bundled"
	"github.com/wringcap/wring/wasm"
)

// analyzersCmd lists the bundled analyzers and the counters each declares.
type analyzersCmd struct{}

func (analyzersCmd) Run(s *streams) error {
	for _, a := range bundled.List() {
		bin, err := bundled.Module(a.Name)
		if err != nil {
			return err
		}
		fmt.Fprintf(s.Out, "%-6s %s (%d bytes)\n", a.Name, a.Description, len(bin))
		h, err := wasm.NewHost(context.Background(), hostConfig(s), wasm.Analyzer{Name: a.Name, Binary: bin})
		if err != nil {
			return exitf(1, "%v", err)
		}
		var names []string
		for _, c := range h.Counters() {
			names = append(names, c.Name)
		}
		h.Close(context.Background())
		fmt.Fprintf(s.Out, "       counters: %s\n", strings.Join(names, " "))
	}
	return nil
}
