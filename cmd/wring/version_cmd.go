package main

import (
	"fmt"
	"runtime/debug"
	"strings"
)

// version is set at link time (-ldflags "-X main.version=v1.2.3"); otherwise
// the module's build information is used.
var version = ""

type versionCmd struct{}

// Run prints the version line.
func (versionCmd) Run(s *streams) error {
	fmt.Fprintln(s.Out, versionString())
	return nil
}

// versionString is "wring VERSION", where VERSION is the link-time version,
// else the module version, followed by the VCS revision, its time and
// whether the tree had uncommitted changes, as the build information records
// them (go build in a repository stamps them; go run does not).
func versionString() string {
	bi, ok := debug.ReadBuildInfo()
	return formatVersion(version, bi, ok)
}

func formatVersion(linked string, bi *debug.BuildInfo, ok bool) string {
	v := linked
	if v == "" {
		v = "devel"
		if ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
	}
	if !ok {
		return "wring " + v
	}
	var rev, at, modified, goVer string
	goVer = bi.GoVersion
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	var b strings.Builder
	b.WriteString("wring " + v)
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		b.WriteString(" (" + rev)
		if at != "" {
			b.WriteString(" " + at)
		}
		if modified == "true" {
			b.WriteString(", modified")
		}
		b.WriteString(")")
	} else {
		b.WriteString(" (no VCS revision recorded: built with go run or -buildvcs=false)")
	}
	if goVer != "" {
		b.WriteString(" " + goVer)
	}
	return b.String()
}
