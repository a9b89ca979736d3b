package spec_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/spec"
)

// TestRoundTripCorpus reads every expected listing of libpcap's
// filter_accept cases (libpcap master's bpf_image text, some with "; 0x.."
// opcode comments) and checks, for every format, parse → print → parse
// gives the same instructions. It also checks the listing printer against
// libpcap master's text, which differs from 1.10.3 only in dropping the
// trailing blanks after operand-less instructions.
func TestRoundTripCorpus(t *testing.T) {
	cases := corpus.CasesOf(t, "filter_accept")
	if len(cases) == 0 {
		t.Fatal("no filter_accept cases")
	}
	programs, instructions, textSame := 0, 0, 0
	for _, c := range cases {
		p, err := spec.ParseText([]byte(c.Expected), spec.TextAuto)
		if err != nil {
			t.Errorf("%s: parse expected listing: %v", c.Label, err)
			continue
		}
		if len(p) == 0 {
			t.Errorf("%s: no instructions", c.Label)
			continue
		}
		programs++
		instructions += len(p)
		for _, f := range []spec.Format{spec.TextListing, spec.TextC, spec.TextDecimal, spec.TextAsm} {
			var b bytes.Buffer
			if err := spec.WriteText(&b, p, f); err != nil {
				t.Errorf("%s: write %v: %v", c.Label, f, err)
				continue
			}
			if got := spec.DetectFormat(b.Bytes()); got != f {
				t.Errorf("%s: DetectFormat of %v text = %v", c.Label, f, got)
			}
			back, err := spec.ParseText(b.Bytes(), f)
			if err != nil {
				t.Errorf("%s: reparse %v: %v\n%s", c.Label, f, err, b.Bytes())
				continue
			}
			if !slices.Equal(back, p) {
				t.Errorf("%s: %v round trip changed the program\n%s", c.Label, f, b.Bytes())
			}
		}
		if !strings.Contains(c.Expected, ";") {
			var b bytes.Buffer
			spec.FormatListing(&b, p)
			if trimLines(b.String()) == trimLines(c.Expected) {
				textSame++
			} else {
				t.Errorf("%s: listing differs from libpcap's\n- want:\n%s\n-  got:\n%s", c.Label, c.Expected, b.String())
			}
		}
	}
	t.Logf("%d programs (%d instructions) round-trip in 4 formats; %d listings equal libpcap master's text", programs, instructions, textSame)
}

func trimLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n")
}

// TestAsmInterop assembles golang.org/x/net/bpf's all_instructions.txt
// (bpf_asm syntax covering every instruction, with labels) and compares the
// result with all_instructions.bpf, which Linux's bpf_asm produced from it.
func TestAsmInterop(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "golang.org/x/net").Output()
	dir := strings.TrimSpace(string(out))
	if err != nil || dir == "" {
		corpus.Unavailable(t, "golang.org/x/net is not in the module cache")
	}
	src, err1 := os.ReadFile(filepath.Join(dir, "bpf", "testdata", "all_instructions.txt"))
	want, err2 := os.ReadFile(filepath.Join(dir, "bpf", "testdata", "all_instructions.bpf"))
	if err1 != nil || err2 != nil {
		corpus.Unavailable(t, "x/net/bpf testdata missing")
	}
	got, err := spec.ParseText(src, spec.TextAuto)
	if err != nil {
		t.Fatalf("parse all_instructions.txt: %v", err)
	}
	if f := spec.DetectFormat(want); f != spec.TextDecimal {
		t.Fatalf("DetectFormat(all_instructions.bpf) = %v, want decimal", f)
	}
	ref, err := spec.ParseText(want, spec.TextDecimal)
	if err != nil {
		t.Fatalf("parse all_instructions.bpf: %v", err)
	}
	if len(got) != len(ref) {
		t.Fatalf("got %d instructions, bpf_asm made %d", len(got), len(ref))
	}
	for i := range ref {
		if got[i] != ref[i] {
			t.Errorf("instruction %d: got %+v, bpf_asm made %+v", i, got[i], ref[i])
		}
	}
}
