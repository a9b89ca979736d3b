package e2e_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/wasm"
)

// swapWriter is an events writer whose target the test swaps per file.
type swapWriter struct {
	mu sync.Mutex
	w  bytes.Buffer
}

func (s *swapWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func (s *swapWriter) take() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := bytes.Clone(s.w.Bytes())
	s.w.Reset()
	return b
}

// feed runs every packet of a capture through h in batches of 256.
func feed(t testing.TB, h *wasm.Host, c *corpus.Capture) {
	t.Helper()
	const n = 256
	b := &packet.Batch{Packets: make([]packet.Packet, 0, n), Verdicts: make([]packet.Verdict, n)}
	flush := func() {
		clear(b.Verdicts)
		if err := h.Handle(b); err != nil {
			t.Fatal(err)
		}
		b.Packets = b.Packets[:0]
	}
	for _, p := range c.Packets {
		info := packet.Info{Timestamp: p.TsNanos, CapLen: uint32(len(p.Data)), WireLen: p.WireLen, LinkType: c.LinkType}
		b.Packets = append(b.Packets, packet.Packet{Info: info, Data: p.Data})
		pk := &b.Packets[len(b.Packets)-1]
		packet.Parse(info, pk.Data, &pk.Record)
		if len(b.Packets) == n {
			flush()
		}
	}
	if len(b.Packets) > 0 {
		flush()
	}
}

// eventTuples extracts the given fields of the events of one kind, as
// tab-separated tuples.
func eventTuples(t testing.TB, lines []byte, kind string, fields ...string) []string {
	var out []string
	for _, l := range bytes.Split(bytes.TrimSpace(lines), []byte("\n")) {
		if len(l) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatalf("bad event line %q: %v", l, err)
		}
		if m["event"] != kind {
			continue
		}
		var vals []string
		for _, f := range fields {
			v, ok := m[f]
			switch {
			case !ok:
				vals = append(vals, "")
			default:
				vals = append(vals, fmt.Sprint(v))
			}
		}
		out = append(out, strings.Join(vals, "\t"))
	}
	return out
}

// tshark runs the dissector with a display filter and fields, returning one
// tuple per value set (comma-separated multi-values are zipped into several
// tuples).
func tshark(t testing.TB, file, filter string, fields ...string) []string {
	t.Helper()
	args := []string{"-r", file, "-Y", filter, "-T", "fields"}
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	cmd := exec.Command("tshark", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil && len(out) == 0 {
		t.Logf("tshark %s: %v %s", filepath.Base(file), err, stderr.String())
		return nil
	}
	var tuples []string
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if line == "" {
			continue
		}
		cols := strings.Split(line, "\t")
		for len(cols) < len(fields) {
			cols = append(cols, "")
		}
		parts := make([][]string, len(cols))
		max := 1
		for i, c := range cols {
			parts[i] = strings.Split(c, ",")
			if len(parts[i]) > max {
				max = len(parts[i])
			}
		}
		if fields[0] == "http.request.method" {
			max = 1 // URIs contain commas; one request per frame on our side
			for i := range parts {
				parts[i] = []string{cols[i]}
			}
		}
		for k := 0; k < max; k++ {
			var vals []string
			for i := range parts {
				v := ""
				if k < len(parts[i]) {
					v = parts[i][k]
				}
				vals = append(vals, v)
			}
			tuples = append(tuples, strings.Join(vals, "\t"))
		}
	}
	return tuples
}

// diff returns the tuples only in a and only in b (multisets).
func diff(a, b []string) (onlyA, onlyB []string) {
	count := map[string]int{}
	for _, x := range a {
		count[x]++
	}
	for _, x := range b {
		count[x]--
	}
	for k, n := range count {
		for ; n > 0; n-- {
			onlyA = append(onlyA, k)
		}
		for ; n < 0; n++ {
			onlyB = append(onlyB, k)
		}
	}
	sort.Strings(onlyA)
	sort.Strings(onlyB)
	return
}

func needTshark(t testing.TB) {
	if _, err := exec.LookPath("tshark"); err != nil {
		corpus.Unavailable(t, "tshark is not installed")
	}
}
