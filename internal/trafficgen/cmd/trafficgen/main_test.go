package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wringcap/wring/internal/corpus"
)

func TestRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.pcap")
	var out, errw bytes.Buffer
	if code := run([]string{"-n", "500", "-seed", "9", "-o", path}, &out, &errw); code != 0 {
		t.Fatalf("exit %d: %s", code, errw.String())
	}
	c, err := corpus.ReadCapture(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Packets) != 500 || c.Snaplen != 262144 {
		t.Fatalf("%d packets, snaplen %d", len(c.Packets), c.Snaplen)
	}
	// Standard output gives the same bytes as the file.
	out.Reset()
	if code := run([]string{"-n", "500", "-seed", "9"}, &out, &errw); code != 0 {
		t.Fatalf("exit %d", code)
	}
	file, _ := os.ReadFile(path)
	if !bytes.Equal(out.Bytes(), file) {
		t.Fatal("stdout and -o differ")
	}
	for _, bad := range [][]string{{"-n", "-1"}, {"-snaplen", "0"}, {"extra"}, {"-bogus"}} {
		errw.Reset()
		if code := run(bad, &out, &errw); code != 2 || !strings.Contains(errw.String(), "trafficgen") && !strings.Contains(errw.String(), "flag") {
			t.Errorf("%v: exit %d, %q", bad, code, errw.String())
		}
	}
}
