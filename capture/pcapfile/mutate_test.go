package pcapfile_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/wringcap/wring/capture/pcapfile"
	"github.com/wringcap/wring/internal/corpus"
)

// TestDamagedLikeTcpdump damages corpus files (cut short at many offsets,
// header fields changed) and checks each against tcpdump -r -w: the same
// packets written, and an *Error with the file and offset where tcpdump
// reports an error.
func TestDamagedLikeTcpdump(t *testing.T) {
	if _, err := exec.LookPath("tcpdump"); err != nil {
		corpus.Unavailable(t, "tcpdump is not installed")
	}
	dir := t.TempDir()
	var srcs []string
	for _, n := range []string{"tcpdump/ahcp.pcapng", "tcpdump/isup.pcap", "tcpdump/dhcp-option-108.pcapng", "libpcap/filter/rarp_req_reply.pcapng", "libpcap/filter/vxlan.pcap", "tcpdump/time_2106.pcap", "tcpdump/pim-packet-assortment.pcap"} {
		srcs = append(srcs, corpus.Path(t, n))
	}
	type variant struct {
		name string
		b    []byte
	}
	var variants []variant
	for _, src := range srcs {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		base := filepath.Base(src)
		// Cut short at offsets inside headers, records and blocks.
		for _, cut := range []int{0, 3, 10, 23, 24, 30, 40, 41, 60, 100, 101, 200, 333, len(b) / 2, len(b) - 1} {
			if cut < len(b) {
				variants = append(variants, variant{base + "-cut" + strconv.Itoa(cut), b[:cut]})
			}
		}
		if bytes.HasPrefix(b, []byte{0xd4, 0xc3, 0xb2, 0xa1}) || bytes.HasPrefix(b, []byte{0xa1, 0xb2, 0xc3, 0xd4}) {
			order := binary.ByteOrder(binary.LittleEndian)
			if b[0] == 0xa1 {
				order = binary.BigEndian
			}
			for _, m := range []struct {
				name  string
				off   int
				value uint32
				size  int
			}{
				{"minor2", 6, 2, 2}, {"minor3", 6, 3, 2}, {"major543", 4, 543, 2}, {"minor0", 6, 0, 2},
				{"snap0", 16, 0, 4}, {"snap40", 16, 40, 4}, {"snaphuge", 16, 0x80000001, 4}, {"snapmax", 16, 262145, 4},
				{"caplen-big", 24 + 8, 300000, 4}, {"caplen-snap", 24 + 8, 70000, 4},
			} {
				c := append([]byte(nil), b...)
				if m.size == 2 {
					order.PutUint16(c[m.off:], uint16(m.value))
				} else {
					order.PutUint32(c[m.off:], m.value)
				}
				variants = append(variants, variant{base + "-" + m.name, c})
			}
		}
	}
	agree := 0
	for _, v := range variants {
		path := filepath.Join(dir, v.name)
		if err := os.WriteFile(path, v.b, 0o644); err != nil {
			t.Fatal(err)
		}
		want, stderr, ok := tcpdumpRewrite(t, path)
		got, err := rewrite(path)
		switch {
		case ok && err == nil:
			if !bytes.Equal(got, want) {
				t.Errorf("%s: output differs from tcpdump's at byte %d", v.name, firstDiff(got, want))
				continue
			}
		case !ok && err != nil:
			var pe *pcapfile.Error
			if !errors.As(err, &pe) || pe.File != path {
				t.Errorf("%s: %v is not a *pcapfile.Error naming the file", v.name, err)
			}
			if !bytes.Equal(got, want) && len(want) > 0 {
				t.Errorf("%s: packets before the error differ from tcpdump's (at byte %d)", v.name, firstDiff(got, want))
			}
		case ok:
			t.Errorf("%s: tcpdump reads it, the reader fails: %v", v.name, err)
			continue
		default:
			t.Errorf("%s: tcpdump fails (%s), the reader reads it", v.name, lastLine(stderr))
			continue
		}
		agree++
	}
	t.Logf("%d damaged files, %d handled as tcpdump handles them", len(variants), agree)
}
