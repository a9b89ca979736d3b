package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wringcap/wring/capture/sample"
)

func runRead(t *testing.T, stdin []byte, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errw bytes.Buffer
	code = run(append([]string{"read"}, args...), bytes.NewReader(stdin), &out, &errw)
	return code, out.String(), errw.String()
}

// TestReadSample is README's main-job command: without -r, the bundled
// sample is read and summarised, one line per packet, with tcpdump's
// closing counts.
func TestReadSample(t *testing.T) {
	code, out, errs := runRead(t, nil)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 500 {
		t.Errorf("%d lines, want 500", len(lines))
	}
	for _, want := range []string{"reading from file " + sample.Name, "500 packets captured", "500 packets received by filter", "0 packets dropped by kernel", "wring: queue 0: received 500"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	if !strings.Contains(out, "Flags [S.]") || !strings.Contains(out, "IP6 ") || !strings.Contains(out, "UDP, length") {
		t.Errorf("summary lines look wrong:\n%s", strings.Join(lines[:10], "\n"))
	}
}

func TestReadJSONCountFilter(t *testing.T) {
	code, out, errs := runRead(t, nil, "--json", "-c", "5", "tcp", "port", "80")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 6 {
		t.Fatalf("%d lines, want 5 packets and the stats object", len(lines))
	}
	for _, l := range lines[:5] {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		if m["type"] != "packet" || m["proto"].(float64) != 6 || m["proto_name"] != "tcp" || (m["sport"].(float64) != 80 && m["dport"].(float64) != 80) {
			t.Errorf("not a tcp port 80 packet: %s", l)
		}
	}
	var st struct {
		Type     string
		Captured uint64
		Received uint64
	}
	if err := json.Unmarshal([]byte(lines[5]), &st); err != nil || st.Type != "stats" || st.Captured != 5 || st.Received == 0 {
		t.Errorf("stats line %s: %+v %v", lines[5], st, err)
	}
	if !strings.Contains(errs, "5 packets captured") {
		t.Errorf("stderr: %s", errs)
	}
}

func TestReadStdinAndWrite(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out.pcap")
	code, _, errs := runRead(t, sample.Pcap, "-r", "-", "-w", out, "udp")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	b, err := os.ReadFile(out)
	if err != nil || len(b) < 24 {
		t.Fatalf("output: %v (%d bytes)", err, len(b))
	}
	// Read it back: the same lines as filtering the sample directly.
	code, txt, errs := runRead(t, nil, "-r", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	code, want, errs := runRead(t, sample.Pcap, "-r", "-", "udp")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if txt != want || txt == "" {
		t.Errorf("read back:\n%s\nwant the sample's udp lines:\n%s", txt, want)
	}
}

func TestReadErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.pcap")
	os.WriteFile(bad, []byte("this is not a capture file"), 0o644)
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-r", filepath.Join(dir, "missing.pcap")}, 2, "missing.pcap"},
		{[]string{"-r", bad}, 2, "bad.pcap: offset 0: unknown file format"},
		{[]string{"tcp", "port"}, 1, "column"},
		{[]string{"-C", "1"}, 2, "-C, -G and -W need -w"},
		{[]string{"-w", filepath.Join(dir, "x"), "-W", "3"}, 2, "-W needs -C or -G"},
		{[]string{"--batch", "100000"}, 2, "batch"},
	} {
		code, _, errs := runRead(t, nil, c.args...)
		if code != c.code || !strings.Contains(errs, c.want) {
			t.Errorf("read %v: exit %d, stderr %q; want exit %d and %q", c.args, code, errs, c.code, c.want)
		}
	}
}
