package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/wringcap/wring/internal/quicgen"
)

// TestReadAnalyzerQUIC runs the bundled QUIC analyzer from the command
// line (--analyzer quic) over a generated capture: every ClientHello comes
// out as a quic_client_hello event with the server name and ALPN the
// generator used, and its counters reach the summary.
func TestReadAnalyzerQUIC(t *testing.T) {
	w, conns, err := quicgen.Set(12, 11, 3)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	capture := filepath.Join(dir, "quic.pcap")
	if err := os.WriteFile(capture, w.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	ev := filepath.Join(dir, "events.json")
	var out, errw bytes.Buffer
	if code := run([]string{"read", "-r", capture, "-w", os.DevNull, "--analyzer", "quic", "--events", ev}, nil, &out, &errw); code != 0 {
		t.Fatalf("exit %d: %s", code, errw.String())
	}
	b, err := os.ReadFile(ev)
	if err != nil {
		t.Fatal(err)
	}
	var got, want []string
	for _, l := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		var e struct{ Event, SNI, ALPN string }
		if err := json.Unmarshal(l, &e); err != nil {
			t.Fatalf("bad event %q: %v", l, err)
		}
		if e.Event != "quic_client_hello" {
			t.Fatalf("unexpected event %s", l)
		}
		got = append(got, e.SNI+" "+e.ALPN)
	}
	for _, c := range conns {
		want = append(want, c.SNI+" "+strings.Join(c.ALPN, ","))
	}
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("events %q, want %q", got, want)
	}
	if !strings.Contains(errw.String(), "client_hellos=12") {
		t.Errorf("the summary lacks the analyzer's counters:\n%s", errw.String())
	}
}
