package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
)

// maxProgramText bounds what verify reads: far more than the text of the
// largest program (4096 instructions) in any format.
const maxProgramText = 16 << 20

// verifyCmd reads a classic BPF program in one of the text formats, runs
// the verifier on it and prints what was proven.
type verifyCmd struct {
	File        string `arg:"" optional:"" default:"-" help:"Program file: tcpdump -d, -dd or -ddd output, or bpf_asm assembly (- reads standard input)."`
	Format      string `enum:"auto,listing,c,decimal,asm" default:"auto" help:"Text format of the program: ${enum} (auto recognises it)."`
	Record      bool   `help:"Allow loads from wring's parse record (ld [0xffd00000+off])."`
	NoAncillary bool   `name:"no-ancillary" help:"Reject Linux ancillary loads (SKF_AD_*), for programs that must also run under libpcap."`
}

// Run verifies the program: exit 0 with the facts, 1 when the verifier
// rejects it ("PC n: reason"), 2 when the text cannot be read.
func (c *verifyCmd) Run(s *streams) error {
	name, src, err := c.read(s.In)
	if err != nil {
		return exitf(2, "verify: %v", err)
	}
	format, err := spec.ParseFormat(c.Format)
	if err != nil {
		return exitf(2, "verify: %v", err)
	}
	if format == spec.TextAuto {
		format = spec.DetectFormat(src)
	}
	prog, err := spec.ParseText(src, format)
	if err != nil {
		return exitf(2, "verify: %s (%v): %v", name, format, err)
	}
	vp, err := verifier.Verify(prog, verifier.Options{Record: c.Record, NoAncillary: c.NoAncillary})
	if err != nil {
		var ve *verifier.Error
		if errors.As(err, &ve) {
			return exitf(1, "verify: %s: rejected: %v", name, ve)
		}
		return exitf(1, "verify: %s: rejected: %v", name, err)
	}
	return printFacts(s.Out, name, format, vp)
}

// read returns the program text and a name for messages.
func (c *verifyCmd) read(stdin io.Reader) (string, []byte, error) {
	name := c.File
	var r io.Reader
	if name == "" || name == "-" {
		name, r = "<stdin>", stdin
	} else {
		f, err := os.Open(name)
		if err != nil {
			return name, nil, err
		}
		defer f.Close()
		r = f
	}
	src, err := io.ReadAll(io.LimitReader(r, maxProgramText+1))
	if err != nil {
		return name, nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(src) > maxProgramText {
		return name, nil, fmt.Errorf("%s: more than %d bytes of program text", name, maxProgramText)
	}
	return name, src, nil
}

// printFacts writes what the verifier proved about p.
func printFacts(out io.Writer, name string, format spec.Format, p *verifier.Program) error {
	w := bufio.NewWriter(out)
	fmt.Fprintf(w, "%s: verified (%v format)\n", name, format)
	fmt.Fprintf(w, "instructions:      %d\n", p.Len())
	if m := p.MaxOffset(); m == 0 {
		fmt.Fprintf(w, "max packet offset: none (no absolute packet loads)\n")
	} else {
		fmt.Fprintf(w, "max packet offset: %d (absolute loads read bytes 0..%d)\n", m, m-1)
	}
	fmt.Fprintf(w, "scratch slots:     %s\n", scratchList(p.Scratch()))
	fmt.Fprintf(w, "extensions:        %s\n", extensionList(p.Extensions()))
	var guards []string
	for pc := 0; pc < p.Len(); pc++ {
		switch g := p.Guard(pc); g {
		case 0:
		case ^uint32(0):
			guards = append(guards, fmt.Sprintf("  pc %d: never satisfied (every path from here returns 0)", pc))
		default:
			guards = append(guards, fmt.Sprintf("  pc %d: packet length >= %d, else return 0", pc, g))
		}
	}
	if len(guards) == 0 {
		fmt.Fprintf(w, "length guards:     none\n")
	} else {
		fmt.Fprintf(w, "length guards:     %d (checked before the instruction; they cover every absolute load)\n", len(guards))
		fmt.Fprintln(w, strings.Join(guards, "\n"))
	}
	return w.Flush()
}

// scratchList names the scratch slots in the bit set.
func scratchList(bits uint16) string {
	var s []string
	for i := 0; i < spec.MemWords; i++ {
		if bits&(1<<i) != 0 {
			s = append(s, fmt.Sprintf("M[%d]", i))
		}
	}
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, " ")
}

// extensionList names the extensions in the bit set, in bpf_asm's
// spelling.
func extensionList(e verifier.Extension) string {
	var s []string
	for off := uint32(0); off < spec.AncMax; off += 4 {
		if e&verifier.Ancillary(off) != 0 {
			name := spec.AncillaryNames[off]
			if name == "" {
				name = fmt.Sprintf("SKF_AD_OFF+%d", off)
			}
			s = append(s, name)
		}
	}
	if e&verifier.ExtRecord != 0 {
		s = append(s, "record")
	}
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, " ")
}
