package main

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wringcap/wring/internal/corpus"
)

// corpusFile returns the path of a tcpdump corpus file.
func corpusFile(t *testing.T, name string) string {
	t.Helper()
	for _, f := range corpus.Files(t, "tcpdump") {
		if filepath.Base(f) == name {
			return f
		}
	}
	corpus.Unavailable(t, name+" is not in the tcpdump corpus")
	return ""
}

// TestPcapngOutput covers issue 15's two pcapng output defects through the
// CLI: a record longer than its wire length no longer ends the run (every
// packet is written and counted, as with pcap output), and a pcapng input
// keeps its interface name and section options (capinfos says so).
func TestPcapngOutput(t *testing.T) {
	if _, err := exec.LookPath("capinfos"); err != nil {
		corpus.Unavailable(t, "capinfos is not installed")
	}
	dir := t.TempDir()
	for _, name := range []string{"rsvp-rsvp_obj_print-oobr.pcap", "pim_header_asan-2.pcap", "icmp-icmp_print-oobr-2.pcap"} {
		in := corpusFile(t, name)
		outs := map[string]string{}
		for _, format := range []string{"pcap", "pcapng"} {
			out := filepath.Join(dir, name+"."+format)
			args := []string{"read", "-r", in, "-w", out}
			if format == "pcapng" {
				args = append(args, "--pcapng")
			}
			var o, e bytes.Buffer
			if code := run(args, nil, &o, &e); code != 0 {
				t.Fatalf("%s to %s: exit %d: %s", name, format, code, e.String())
			}
			ci, err := exec.Command("capinfos", "-c", "-M", out).CombinedOutput()
			if err != nil {
				t.Fatalf("capinfos: %v\n%s", err, ci)
			}
			outs[format] = strings.SplitN(string(ci), "\n", 2)[1] // without the file name
			if !strings.Contains(e.String(), "3 packets captured") {
				t.Errorf("%s to %s: summary %q, want 3 packets", name, format, e.String())
			}
		}
		if !strings.Contains(outs["pcapng"], "Number of packets:   3") || outs["pcap"] != outs["pcapng"] {
			t.Errorf("%s: pcapng output %q, pcap output %q", name, outs["pcapng"], outs["pcap"])
		}
	}
	in := corpusFile(t, "OSPFv2_Capture_FINAL.pcapng")
	out := filepath.Join(dir, "ospf.pcapng")
	var o, e bytes.Buffer
	if code := run([]string{"read", "-r", in, "--pcapng", "-w", out}, nil, &o, &e); code != 0 {
		t.Fatalf("exit %d: %s", code, e.String())
	}
	for _, f := range []string{in, out} {
		ci, err := exec.Command("capinfos", "-M", f).CombinedOutput()
		if err != nil {
			t.Fatalf("capinfos: %v\n%s", err, ci)
		}
		for _, want := range []string{`Name = \Device\NPF_{08CBC0D0-BD89-48BE-9696-8047B3534AD3}`, "Capture oper-sys:    32-bit Windows 7 Service Pack 1, build 7601",
			"Capture hardware:    Genuine Intel(R) CPU           T2400  @ 1.83GHz"} {
			if !strings.Contains(string(ci), want) {
				t.Errorf("%s: capinfos lacks %q:\n%s", filepath.Base(f), want, ci)
			}
		}
	}
}
