package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGrantFlags: the sip analyzer without --grant does not load (named,
// with the capability it lacks); bad grants are errors naming what is
// wrong.
func TestGrantFlags(t *testing.T) {
	in := filepath.Join(t.TempDir(), "calls.pcap")
	writePcap(t, in, newSIPCallSet().setup)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--analyzer", "sip"}, `analyzer "sip"`},
		{[]string{"--analyzer", "sip", "--grant", "sip:files"}, `unknown capability "files"`},
		{[]string{"--analyzer", "sip", "--grant", "dns:rules"}, `no analyzer named "dns"`},
		{[]string{"--analyzer", "sip", "--grant", "sip"}, "want NAME:rules"},
		{[]string{"--grant", "sip:rules"}, "no --analyzer"},
	} {
		var out, errw bytes.Buffer
		args := append([]string{"read", "-r", in, "-w", filepath.Join(t.TempDir(), "o.pcap"), "--events", os.DevNull}, c.args...)
		if len(c.args) == 2 && c.args[0] == "--grant" {
			args = []string{"read", "-r", in, "-w", os.DevNull, "--grant", "sip:rules"}
		}
		code := run(args, nil, &out, &errw)
		if code == 0 || !strings.Contains(errw.String(), c.want) {
			t.Errorf("%v: exit %d, want an error with %q:\n%s", c.args, code, c.want, errw.String())
		}
		if c.want == `analyzer "sip"` && !strings.Contains(errw.String(), "rules capability") {
			t.Errorf("no capability named:\n%s", errw.String())
		}
	}
}
