package pcapfile_test

import (
	"bytes"
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

// copyNg reads a pcapng file and writes it again with NewNgWriterFrom, as
// wring read -r IN --pcapng -w OUT does.
func copyNg(t *testing.T, in, out string) int {
	t.Helper()
	r, err := pcapfile.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.AllowMixedLinkTypes()
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	w, err := pcapfile.NewNgWriterFrom(f, r.LinkType(), r.Snaplen(), r)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		var info packet.Info
		data, err := r.ReadPacket(&info)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := w.WritePacket(&info, data); err != nil {
			t.Fatal(err)
		}
		n++
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if d := r.NgOptionsDropped(); d != 0 {
		t.Fatalf("%d options dropped", d)
	}
	return n
}

// describe returns what tshark and capinfos say of a file's section,
// interfaces and packets: capinfos' capture hardware, OS and comment lines
// and per interface its name, description, encapsulation and capture
// length; tshark's interface number and name, lengths and time per packet.
func describe(t *testing.T, file string) (string, string) {
	t.Helper()
	ci, err := exec.Command("capinfos", "-M", file).CombinedOutput()
	if err != nil {
		t.Fatalf("capinfos %s: %v\n%s", file, err, ci)
	}
	var keep []string
	for _, l := range strings.Split(string(ci), "\n") {
		l = strings.TrimSpace(l)
		for _, p := range []string{"Capture hardware", "Capture oper-sys", "Capture comment", "Number of interfaces", "Interface #",
			"Name =", "Description =", "Encapsulation =", "Capture length =", "Operating system =", "Hardware =", "Number of packets ="} {
			if strings.HasPrefix(l, p) {
				keep = append(keep, l)
			}
		}
	}
	ts, err := exec.Command("tshark", "-n", "-r", file, "-T", "fields", "-e", "frame.interface_id", "-e", "frame.interface_name",
		"-e", "frame.interface_description", "-e", "frame.len", "-e", "frame.cap_len", "-e", "frame.time_epoch").Output()
	if err != nil {
		t.Fatalf("tshark %s: %v", file, err)
	}
	return strings.Join(keep, "\n"), string(ts)
}

// TestNgCopyKeepsDescriptions is issue 15's reproducer for pcapng output
// that dropped interface names and file options and renumbered the
// interfaces: a pcapng file copied through the reader and NewNgWriterFrom
// describes its section, interfaces and packets to capinfos and tshark as
// the original does (the corpus's pcapng files, and a file of two
// interfaces of different link types whose first packet is on the second).
func TestNgCopyKeepsDescriptions(t *testing.T) {
	for _, tool := range []string{"tshark", "capinfos", "mergecap"} {
		if _, err := exec.LookPath(tool); err != nil {
			corpus.Unavailable(t, tool+" is not installed")
		}
	}
	dir := t.TempDir()
	var files []string
	named := 0
	for _, f := range corpus.Files(t, "tcpdump") {
		if !strings.HasSuffix(f, ".pcapng") {
			continue
		}
		if r, err := pcapfile.Open(f); err == nil {
			if d, ok := r.NgInterface(0); ok && hasName(d) {
				named++
				// Four are enough to show it (tshark and capinfos
				// take a second each on this machine); the two the
				// merged files need are among the first.
				if len(files) < 2 || strings.Contains(f, "OSPFv2") || strings.Contains(f, "vsock-1") {
					files = append(files, f)
				}
			}
			r.Close()
		}
	}
	if named < 2 {
		t.Fatalf("only %d pcapng files of the corpus describe their interface", named)
	}
	// Two interfaces, the vsock one's packets first in time: the copy
	// must not renumber it to 0.
	var ospf, vsock string
	for _, f := range files {
		switch filepath.Base(f) {
		case "OSPFv2_Capture_FINAL.pcapng":
			ospf = f
		case "vsock-1.pcapng":
			vsock = f
		}
	}
	if ospf != "" && vsock != "" {
		two := filepath.Join(dir, "two.pcapng")
		if out, err := exec.Command("mergecap", "-a", "-w", two, ospf, vsock).CombinedOutput(); err != nil {
			t.Fatalf("mergecap: %v\n%s", err, out)
		}
		swapped := filepath.Join(dir, "swapped.pcapng")
		if out, err := exec.Command("mergecap", "-a", "-w", swapped, vsock, ospf).CombinedOutput(); err != nil {
			t.Fatalf("mergecap: %v\n%s", err, out)
		}
		files = append(files, two, swapped)
	}
	for _, f := range files {
		out := filepath.Join(dir, filepath.Base(f)+".copy.pcapng")
		n := copyNg(t, f, out)
		wantInfo, wantPkts := describe(t, f)
		gotInfo, gotPkts := describe(t, out)
		if gotInfo != wantInfo {
			t.Errorf("%s: capinfos says\n%s\nof the copy, and of the original\n%s", filepath.Base(f), gotInfo, wantInfo)
		}
		if gotPkts != wantPkts {
			t.Errorf("%s: tshark's packets differ:\n%.600s\nwant\n%.600s", filepath.Base(f), gotPkts, wantPkts)
		}
		if n == 0 || !bytes.Contains([]byte(wantInfo), []byte("Name =")) {
			t.Errorf("%s: %d packets, descriptions %q: not a case that shows anything", filepath.Base(f), n, wantInfo)
		}
	}
	t.Logf("%d files copied (of %d corpus pcapng files with interface names)", len(files), named)
}

func hasName(d pcapfile.NgInterface) bool {
	for _, o := range d.Options {
		if o.Code == 2 {
			return true
		}
	}
	return false
}

// FuzzNgCopy copies whatever pcapng file the reader accepts with
// NewNgWriterFrom and reads the copy back: the same packets, and for each
// interface described, the same link type and options.
func FuzzNgCopy(f *testing.F) {
	for _, name := range []string{"OSPFv2_Capture_FINAL.pcapng", "vsock-1.pcapng"} {
		for _, p := range corpus.Files(f, "tcpdump") {
			if filepath.Base(p) == name {
				if b, err := os.ReadFile(p); err == nil {
					f.Add(b)
				}
			}
		}
	}
	f.Add([]byte("\x0a\x0d\x0d\x0a\x1c\x00\x00\x00\x4d\x3c\x2b\x1a\x01\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff\x1c\x00\x00\x00" +
		"\x01\x00\x00\x00\x20\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x02\x00\x03\x00eth\x00\x00\x00\x00\x00\x20\x00\x00\x00" +
		"\x06\x00\x00\x00\x24\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x04\x00\x00\x00\x04\x00\x00\x00abcd\x24\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := pcapfile.NewReaderBytes(b, "fuzz")
		if err != nil || r.Format() != pcapfile.FormatPcapNG {
			return
		}
		r.AllowMixedLinkTypes()
		var out bytes.Buffer
		w, err := pcapfile.NewNgWriterFrom(&out, r.LinkType(), r.Snaplen(), r)
		if err != nil {
			t.Fatal(err)
		}
		type rec struct {
			iface   uint32
			wireLen uint32
			data    string
		}
		var want []rec
		for len(want) < 1000 {
			var info packet.Info
			data, err := r.ReadPacket(&info)
			if err != nil {
				break
			}
			want = append(want, rec{info.Interface, info.WireLen, string(data)})
			if err := w.WritePacket(&info, data); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		back, err := pcapfile.NewReaderBytes(out.Bytes(), "copy")
		if err != nil {
			t.Fatalf("copy unreadable: %v", err)
		}
		back.AllowMixedLinkTypes()
		for i, w := range want {
			var info packet.Info
			data, err := back.ReadPacket(&info)
			if err != nil {
				t.Fatalf("copy packet %d: %v", i, err)
			}
			if string(data) != w.data || info.WireLen != w.wireLen {
				t.Fatalf("copy packet %d differs", i)
			}
			if d, ok := r.NgInterface(w.iface); ok {
				g, ok := back.NgInterface(info.Interface)
				if !ok || g.LinkType != d.LinkType || len(g.Options) != len(d.Options) {
					t.Fatalf("packet %d: interface %d described %+v, copy's %d %+v", i, w.iface, d, info.Interface, g)
				}
				for j := range d.Options {
					if g.Options[j].Code != d.Options[j].Code || !bytes.Equal(g.Options[j].Value, d.Options[j].Value) {
						t.Fatalf("interface %d option %d: %+v, copy's %+v", w.iface, j, d.Options[j], g.Options[j])
					}
				}
			}
		}
	})
}
