package benchdata

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/verifier"
	"github.com/wringcap/wring/vm"
)

var update = flag.Bool("update", false, "rewrite filters/*.ddd from tcpdump -ddd -y EN10MB")

// TestFiltersMatchTcpdump recompiles every benchmark filter with Debian's
// tcpdump and compares the result with the committed -ddd file (-update
// rewrites the files).
func TestFiltersMatchTcpdump(t *testing.T) {
	if _, err := exec.LookPath("tcpdump"); err != nil {
		corpus.Unavailable(t, "tcpdump is not installed")
	}
	fs := Filters()
	if len(fs) != 5 {
		t.Fatalf("%d filters, want 5", len(fs))
	}
	for _, f := range fs {
		out, err := exec.Command("tcpdump", "-ddd", "-y", "EN10MB", f.Expr).Output()
		if err != nil {
			t.Fatalf("tcpdump -ddd %q: %v", f.Expr, err)
		}
		path := FilterPath(f.Name)
		if *update {
			if err := os.WriteFile(path, out, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		committed, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, committed) {
			t.Errorf("%s: tcpdump now compiles %q differently (go test -run TestFiltersMatchTcpdump -update)\n- committed:\n%s\n- tcpdump:\n%s", path, f.Expr, committed, out)
		}
		if _, err := verifier.Verify(f.Program, verifier.Options{}); err != nil {
			t.Errorf("%s: %v", f.Name, err)
		}
	}
}

// TestWorkingSet checks the working set's size and determinism, and that
// every benchmark filter matches some of its packets and rejects others.
// The per-filter match counts of the reference VM are compared with
// tcpdump's (tcpdump -r set.pcap -w matched.pcap EXPR).
func TestWorkingSet(t *testing.T) {
	set := WorkingSet(t)
	if len(set) != WorkingSetSize {
		t.Fatalf("%d packets, want %d", len(set), WorkingSetSize)
	}
	again, msg := buildWorkingSet(corpus.Root())
	if msg != "" {
		t.Fatal(msg)
	}
	if !slices.EqualFunc(set, again, func(a, b Packet) bool { return a.WireLen == b.WireLen && bytes.Equal(a.Data, b.Data) }) {
		t.Fatal("two builds of the working set differ")
	}
	haveTcpdump := true
	if _, err := exec.LookPath("tcpdump"); err != nil {
		haveTcpdump = false
	}
	dir := t.TempDir()
	setPath := filepath.Join(dir, "set.pcap")
	if haveTcpdump {
		writePcap(t, setPath, set)
	}
	for _, f := range Filters() {
		p, err := verifier.Verify(f.Program, verifier.Options{})
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		matched := 0
		for _, pkt := range set {
			if vm.Run(p, pkt.Data, pkt.WireLen, nil) != 0 {
				matched++
			}
		}
		t.Logf("%-22s %q: %d of %d packets match", f.Name, f.Expr, matched, len(set))
		if matched < 8 || matched > len(set)-8 {
			t.Errorf("%s: %d of %d packets match; the set needs both matches and non-matches", f.Name, matched, len(set))
		}
		if haveTcpdump {
			out := filepath.Join(dir, f.Name+".pcap")
			if b, err := exec.Command("tcpdump", "-r", setPath, "-w", out, f.Expr).CombinedOutput(); err != nil {
				t.Fatalf("tcpdump: %v\n%s", err, b)
			}
			if n := countPcap(t, out); n != matched {
				t.Errorf("%s: tcpdump matches %d packets, the VM %d", f.Name, n, matched)
			}
		}
	}
	if !haveTcpdump {
		corpus.Unavailable(t, "tcpdump is not installed: match counts not cross-checked")
	}
}

func writePcap(t *testing.T, path string, set []Packet) {
	t.Helper()
	var b bytes.Buffer
	w := pcapgo.NewWriterNanos(&b)
	if err := w.WriteFileHeader(262144, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	ts := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, p := range set {
		ci := gopacket.CaptureInfo{Timestamp: ts.Add(time.Duration(i) * time.Microsecond), CaptureLength: len(p.Data), Length: int(p.WireLen)}
		if err := w.WritePacket(ci, p.Data); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func countPcap(t *testing.T, path string) int {
	t.Helper()
	c, err := corpus.ReadCapture(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return len(c.Packets)
}
