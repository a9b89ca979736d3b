package pcapfile_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/capture/pcapfile"
	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/spec"
)

func openPcap(name string) (pcapfile.PacketWriter, error) {
	f, err := os.Create(name)
	if err != nil {
		return nil, err
	}
	return pcapfile.NewWriter(f, pcapfile.Header{LinkType: uint32(spec.LinkEthernet), Snaplen: 262144})
}

// TestRotateBySizeLikeTcpdump splits a corpus file with -C 1 -W 3 style
// rotation (with a small size) and compares the file set with tcpdump's
// for the same size limit.
func TestRotateBySizeLikeTcpdump(t *testing.T) {
	if _, err := exec.LookPath("tcpdump"); err != nil {
		corpus.Unavailable(t, "tcpdump is not installed")
	}
	src := corpus.Path(t, "tcpdump/pim-packet-assortment.pcap")
	for _, count := range []int{0, 3} {
		dir := t.TempDir()
		// tcpdump's -C unit is 1,000,000 bytes; the corpus file is
		// smaller, so compare at 1 MB with a file made of copies.
		big := filepath.Join(dir, "big.pcap")
		writeRepeated(t, src, big, 40)
		tdDir := filepath.Join(dir, "td")
		os.Mkdir(tdDir, 0o755)
		args := []string{"-Z", "root", "-r", big, "-w", filepath.Join(tdDir, "out"), "-C", "1"}
		if count > 0 {
			args = append(args, "-W", "3")
		}
		if out, err := exec.Command("tcpdump", args...).CombinedOutput(); err != nil {
			t.Fatalf("tcpdump: %v: %s", err, out)
		}
		wrDir := filepath.Join(dir, "wr")
		os.Mkdir(wrDir, 0o755)
		r, err := pcapfile.Open(big)
		if err != nil {
			t.Fatal(err)
		}
		rot, err := pcapfile.NewRotator(pcapfile.RotateOptions{Name: filepath.Join(wrDir, "out"), Size: 1_000_000, Count: count,
			Open: func(name string) (pcapfile.PacketWriter, error) {
				f, err := os.Create(name)
				if err != nil {
					return nil, err
				}
				return pcapfile.NewWriter(f, pcapfile.Header{LinkType: r.LinkTypeValue() | r.LinkTypeExt(), Snaplen: r.Snaplen()})
			}})
		if err != nil {
			t.Fatal(err)
		}
		var info packet.Info
		for {
			data, err := r.ReadPacket(&info)
			if err != nil {
				break
			}
			if err := rot.WritePacket(&info, data); err != nil {
				t.Fatal(err)
			}
		}
		rot.Close()
		r.Close()
		want, got := dirFiles(t, tdDir), dirFiles(t, wrDir)
		if len(want) != len(got) {
			t.Fatalf("count %d: tcpdump wrote %v, wring %v", count, keys(want), keys(got))
		}
		for name, b := range want {
			if !bytes.Equal(got[name], b) {
				t.Errorf("count %d: file %s differs", count, name)
			}
		}
		t.Logf("count %d: %d files identical to tcpdump's: %v", count, len(want), keys(want))
	}
}

func writeRepeated(t *testing.T, src, dst string, n int) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	out := append([]byte(nil), b...)
	for i := 1; i < n; i++ {
		out = append(out, b[24:]...)
	}
	if err := os.WriteFile(dst, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

func dirFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	m := map[string][]byte{}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		m[e.Name()] = b
	}
	return m
}

func keys(m map[string][]byte) []string {
	var k []string
	for n := range m {
		k = append(k, n)
	}
	sort.Strings(k)
	return k
}

// TestRotateByTime checks -G naming and the -W limit on packet times.
func TestRotateByTime(t *testing.T) {
	dir := t.TempDir()
	rot, err := pcapfile.NewRotator(pcapfile.RotateOptions{Name: filepath.Join(dir, "cap-%H%M%S"), Interval: 10 * time.Second, Count: 2,
		Location: time.UTC, Open: openPcap})
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano()
	var errAt int
	for i := 0; i < 30; i++ {
		info := packet.Info{Timestamp: base + int64(i)*int64(time.Second), WireLen: 4, CapLen: 4}
		if err := rot.WritePacket(&info, []byte{1, 2, 3, 4}); err != nil {
			if !errors.Is(err, pcapfile.ErrFileLimit) {
				t.Fatal(err)
			}
			errAt = i
			break
		}
	}
	rot.Close()
	if errAt != 20 {
		t.Errorf("file limit reached at packet %d, want 20", errAt)
	}
	want := []string{filepath.Join(dir, "cap-030405"), filepath.Join(dir, "cap-030415")}
	if got := rot.Names(); len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("files %v, want %v", got, want)
	}
}
