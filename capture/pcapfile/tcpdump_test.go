package pcapfile_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/capture/pcapfile"
	"github.com/wringcap/wring/internal/corpus"
)

// rewrite reads a capture file and writes its packets as tcpdump -w does
// (microsecond pcap, the file's link type and snapshot length). It returns
// the output bytes and the read error, if any.
func rewrite(path string) ([]byte, error) {
	r, err := pcapfile.Open(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var out bytes.Buffer
	w, err := pcapfile.NewWriter(&out, pcapfile.Header{LinkType: r.LinkTypeValue() | r.LinkTypeExt(), Snaplen: r.Snaplen()})
	if err != nil {
		return nil, err
	}
	var info packet.Info
	for {
		data, err := r.ReadPacket(&info)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			w.Flush()
			return out.Bytes(), err
		}
		if err := w.WritePacket(&info, data); err != nil {
			return nil, err
		}
	}
	err = w.Flush()
	return out.Bytes(), err
}

// tcpdumpRewrite runs tcpdump -r path -w out and returns what it wrote, its
// stderr and whether it succeeded.
func tcpdumpRewrite(t *testing.T, path string) ([]byte, string, bool) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out.pcap")
	cmd := exec.Command("tcpdump", "-r", path, "-w", out)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	b, _ := os.ReadFile(out)
	return b, stderr.String(), err == nil
}

// TestReadLikeTcpdump reads every corpus file (tcpdump's captures, libpcap's
// filter captures and its invalid savefiles) and rewrites it as pcap; the
// bytes must equal what tcpdump -r FILE -w OUT writes. Where tcpdump fails
// to read a file, the reader must fail too, with an *Error naming the file
// and an offset, after the same packets.
func TestReadLikeTcpdump(t *testing.T) {
	if _, err := exec.LookPath("tcpdump"); err != nil {
		corpus.Unavailable(t, "tcpdump is not installed")
	}
	var files []string
	for _, sub := range []string{"tcpdump", "libpcap/filter", "libpcap/savefile"} {
		files = append(files, corpus.Files(t, sub)...)
	}
	same, failedBoth, linkRejected := 0, 0, 0
	for _, f := range files {
		want, stderr, ok := tcpdumpRewrite(t, f)
		got, err := rewrite(f)
		name := filepath.Base(f)
		switch {
		case ok && err == nil:
			if !bytes.Equal(got, want) {
				t.Errorf("%s: output differs from tcpdump's (%d vs %d bytes, first difference at %d)", name, len(got), len(want), firstDiff(got, want))
				continue
			}
			same++
		case !ok && strings.Contains(stderr, "unknown data link type"):
			// tcpdump reads the file but its filter compiler rejects the
			// link type; the reader must still read it.
			if err != nil {
				t.Errorf("%s: tcpdump read it (then rejected the link type) but the reader failed: %v", name, err)
			}
			linkRejected++
		case !ok && err != nil:
			var pe *pcapfile.Error
			if !errors.As(err, &pe) || pe.File != f || !strings.Contains(err.Error(), "offset") {
				t.Errorf("%s: error %v is not a *pcapfile.Error naming the file and offset", name, err)
			}
			if len(want) > 0 && !bytes.Equal(got, want) {
				t.Errorf("%s: packets before the error differ from tcpdump's", name)
			}
			t.Logf("%s: tcpdump: %s; wring: %v", name, strings.TrimSpace(lastLine(stderr)), err)
			failedBoth++
		case ok:
			t.Errorf("%s: tcpdump reads it, the reader fails: %v", name, err)
		default:
			t.Errorf("%s: tcpdump fails (%s), the reader reads it", name, strings.TrimSpace(lastLine(stderr)))
		}
	}
	t.Logf("%d files: %d identical, %d rejected by both, %d with a link type tcpdump's compiler rejects", len(files), same, failedBoth, linkRejected)
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
