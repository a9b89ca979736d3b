package main

import (
	"fmt"
	"runtime/debug"
)

// version is set at link time (-ldflags "-X main.version=v1.2.3"); otherwise
// the module's build information is used.
var version = ""

type versionCmd struct{}

func (versionCmd) Run(s *streams) error {
	v := version
	if v == "" {
		v = "devel"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
	}
	fmt.Fprintf(s.Out, "wring %s\n", v)
	return nil
}
