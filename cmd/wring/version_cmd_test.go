package main

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestFormatVersion(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/wringcap/wring", Version: "(devel)"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "df58a1c0123456789abcdef"}, {Key: "vcs.time", Value: "2026-12-06T19:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	for _, c := range []struct {
		linked string
		bi     *debug.BuildInfo
		ok     bool
		want   string
	}{
		{"", bi, true, "wring devel (df58a1c01234 2026-12-06T19:00:00Z, modified) go1.26.8"},
		{"v1.2.3", bi, true, "wring v1.2.3 (df58a1c01234 2026-12-06T19:00:00Z, modified) go1.26.8"},
		{"", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.4.0"}}, true, "wring v0.4.0 (no VCS revision recorded: built with go run or -buildvcs=false) go1.26.8"},
		{"", nil, false, "wring devel"},
	} {
		if got := formatVersion(c.linked, c.bi, c.ok); got != c.want {
			t.Errorf("got  %q\nwant %q", got, c.want)
		}
	}
	// The running binary: the same line from wring version and --version.
	var a, b strings.Builder
	run([]string{"version"}, nil, &a, &b)
	var c, d strings.Builder
	run([]string{"--version"}, nil, &c, &d)
	if a.String() == "" || a.String() != c.String() {
		t.Errorf("wring version %q, wring --version %q", a.String(), c.String())
	}
}
