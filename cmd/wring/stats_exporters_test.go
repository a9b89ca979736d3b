package main

import (
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"
)

// TestJSONStatsExporters: with --json, the final stats object carries the
// IPFIX exporter's counters, and they agree with what the collector got.
func TestJSONStatsExporters(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	got := make(chan int, 1)
	go func() {
		buf := make([]byte, 65536)
		n := 0
		for {
			k, _, err := pc.ReadFrom(buf)
			if err != nil {
				got <- n
				return
			}
			n += k
		}
	}()
	code, out, errs := runRead(t, nil, "--json", "--export", "ipfix://"+pc.LocalAddr().String(), "--analyzer", "flow", "--events", "/dev/null")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var st statsJSON
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &st); err != nil || st.Type != "stats" {
		t.Fatalf("last line is not the stats object (%v): %s", err, lines[len(lines)-1])
	}
	if len(st.Exporters) != 1 || st.Exporters[0].Kind != "ipfix" {
		t.Fatalf("exporters %+v, want one ipfix", st.Exporters)
	}
	c := st.Exporters[0].Counters
	if c["exported"] == 0 || c["exported"] != c["received"] || c["dropped"] != 0 {
		t.Errorf("counters %v: want every received record exported", c)
	}
	// Everything was sent before run returned: drain the socket, then stop.
	pc.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	if n := <-got; uint64(n) != c["bytes"] {
		t.Errorf("collector got %d bytes, stats say %d", n, c["bytes"])
	}
}
