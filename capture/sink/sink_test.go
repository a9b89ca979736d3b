package sink_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/capture/pcapfile"
	"github.com/wringcap/wring/capture/sample"
	"github.com/wringcap/wring/capture/sink"
	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/spec"
)

func samplePackets(t *testing.T) []packet.Packet {
	t.Helper()
	r, err := pcapfile.NewReaderBytes(sample.Pcap, "sample")
	if err != nil {
		t.Fatal(err)
	}
	var out []packet.Packet
	for {
		var p packet.Packet
		d, err := r.ReadPacket(&p.Info)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		p.Data = d
		packet.Parse(p.Info, d, &p.Record)
		out = append(out, p)
	}
}

// TestTextAgainstTcpdump checks the text summary of every sample packet
// against tcpdump -n -tttt... on the same file: the time, and for IP
// packets the addresses, ports and TCP flags appear as tcpdump prints them.
func TestTextAgainstTcpdump(t *testing.T) {
	if _, err := exec.LookPath("tcpdump"); err != nil {
		corpus.Unavailable(t, "tcpdump is not installed")
	}
	f := t.TempDir() + "/sample.pcap"
	os.WriteFile(f, sample.Pcap, 0o644)
	cmd := exec.Command("tcpdump", "-n", "-r", f)
	cmd.Env = append(os.Environ(), "TZ=UTC")
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	td := strings.Split(strings.TrimSpace(string(out)), "\n")
	pk := samplePackets(t)
	if len(td) != len(pk) {
		t.Fatalf("tcpdump printed %d lines for %d packets", len(td), len(pk))
	}
	// The first line of each packet's text (a packet tcpdump decodes and
	// the sink does not is followed by its bytes).
	var lines []string
	for i := range pk {
		var buf bytes.Buffer
		s := sink.NewText(&buf, time.UTC)
		if err := s.Handle(&packet.Batch{Packets: pk[i : i+1], Verdicts: make([]packet.Verdict, 1)}); err != nil {
			t.Fatal(err)
		}
		s.Flush()
		l, _, _ := strings.Cut(buf.String(), "\n")
		lines = append(lines, l)
	}
	checked := 0
	for i, l := range lines {
		tdl := td[i]
		if l[:15] != tdl[:15] {
			t.Errorf("packet %d: time %q, tcpdump %q", i+1, l[:15], tdl[:15])
		}
		// The endpoints and flags: "a.p > b.q: Flags [S.]" as tcpdump has it.
		j := strings.Index(l, "IP")
		k := strings.Index(l, ", length")
		if j < 0 || k < 0 || pk[i].Record.IPProto() != packet.ProtoTCP || pk[i].Record.L4Off() == 0xffff || pk[i].Record.PayloadOff() == 0xffff {
			continue
		}
		if pk[i].Record.Flags()&spec.RecFlagIPv6Ext != 0 {
			continue // tcpdump names the extension headers between addresses and ports
		}
		core := l[j:k]
		if !strings.Contains(tdl, core) {
			t.Errorf("packet %d: %q not in tcpdump's %q", i+1, core, tdl)
		}
		checked++
	}
	if checked < 100 {
		t.Errorf("only %d TCP lines checked", checked)
	}
}

// TestJSONLines checks that every line is a JSON object with the record's
// values.
func TestJSONLines(t *testing.T) {
	pk := samplePackets(t)
	var buf bytes.Buffer
	s := sink.NewJSON(&buf)
	if err := s.Handle(&packet.Batch{Packets: pk, Verdicts: make([]packet.Verdict, len(pk))}); err != nil {
		t.Fatal(err)
	}
	s.Flush()
	sc := bufio.NewScanner(&buf)
	i := 0
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %d: %v: %s", i+1, err, sc.Text())
		}
		r := &pk[i].Record
		if m["len"].(float64) != float64(r.WireLen()) || m["caplen"].(float64) != float64(r.CapLen()) {
			t.Errorf("line %d: lengths %v/%v", i+1, m["caplen"], m["len"])
		}
		if r.IPVersion() != 0 {
			if m["src"] != r.SrcAddr().String() || m["dst"] != r.DstAddr().String() || m["proto"].(float64) != float64(r.IPProto()) {
				t.Errorf("line %d: %s", i+1, sc.Text())
			}
		}
		i++
	}
	if i != len(pk) {
		t.Errorf("%d lines for %d packets", i, len(pk))
	}
}

// TestSinksAllocateNothing: formatting a packet allocates nothing.
func TestSinksAllocateNothing(t *testing.T) {
	pk := samplePackets(t)
	buf := make([]byte, 0, 4096)
	p := &pk[1]
	if n := testing.AllocsPerRun(100, func() { buf = sink.AppendJSON(buf[:0], p) }); n != 0 {
		t.Errorf("AppendJSON: %v allocations", n)
	}
	if n := testing.AllocsPerRun(100, func() { buf = sink.AppendSummary(buf[:0], p, time.UTC) }); n != 0 {
		t.Errorf("AppendSummary: %v allocations", n)
	}
}
