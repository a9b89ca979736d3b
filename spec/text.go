package spec

import (
	"bytes"
	"fmt"
	"io"
	"strings"
)

// Format names one of the text forms of a classic BPF program.
type Format int

// The text formats ParseText reads and WriteText writes.
const (
	// TextAuto asks ParseText to recognise the format (DetectFormat).
	TextAuto Format = iota
	// TextListing is tcpdump's -d listing (libpcap's bpf_image), one
	// instruction per line: "(002) jeq      #0x800           jt 3	jf 17".
	// Trailing "; ..." comments, as in libpcap's TESTrun tables, are
	// accepted.
	TextListing
	// TextC is tcpdump's -dd C array: "{ 0x28, 0, 0, 0x0000000c },".
	TextC
	// TextDecimal is tcpdump's -ddd form: the instruction count on the first
	// line, then "code jt jf k" in decimal, one instruction per line. The
	// one-line form of bpf_asm and iptables' bpf match ("4,40 0 0 12,...")
	// is accepted too.
	TextDecimal
	// TextAsm is the assembly language of Linux's tools/bpf/bpf_asm, with
	// labels for jump targets.
	TextAsm
)

var formatNames = [...]string{
	TextAuto:    "auto",
	TextListing: "listing",
	TextC:       "c",
	TextDecimal: "decimal",
	TextAsm:     "asm",
}

// String returns the format's name as ParseFormat accepts it.
func (f Format) String() string {
	if f >= 0 && int(f) < len(formatNames) {
		return formatNames[f]
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// ParseFormat returns the Format with the given name: auto, listing, c,
// decimal or asm (also the tcpdump flags d, dd, ddd and the aliases
// tcpdump and bpf_asm).
func ParseFormat(name string) (Format, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "auto", "":
		return TextAuto, nil
	case "listing", "d", "-d", "tcpdump":
		return TextListing, nil
	case "c", "dd", "-dd":
		return TextC, nil
	case "decimal", "ddd", "-ddd":
		return TextDecimal, nil
	case "asm", "bpf_asm", "bpfasm":
		return TextAsm, nil
	}
	return TextAuto, fmt.Errorf("unknown program text format %q (want auto, listing, c, decimal or asm)", name)
}

// SyntaxError reports unreadable program text. Line and Col are 1-based;
// Col counts bytes.
type SyntaxError struct {
	Line int
	Col  int
	Msg  string
}

// Error returns "line L, column C: msg".
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Col, e.Msg)
}

// ParseText reads a program in the given text format; TextAuto detects it
// first. Unreadable text gives a *SyntaxError naming the line and column.
// ParseText checks only the text: whether the program may run is
// the verifier's business.
func ParseText(src []byte, f Format) (Program, error) {
	if f == TextAuto {
		f = DetectFormat(src)
	}
	switch f {
	case TextListing:
		return parseListing(src)
	case TextC:
		return parseC(src)
	case TextDecimal:
		return parseDecimal(src)
	case TextAsm:
		return parseAsm(src)
	}
	return nil, fmt.Errorf("parse program text: unknown format %v", f)
}

// WriteText writes p in the given format (TextAuto is not a format to
// write).
func WriteText(w io.Writer, p Program, f Format) error {
	switch f {
	case TextListing:
		return FormatListing(w, p)
	case TextC:
		return FormatC(w, p)
	case TextDecimal:
		return FormatDecimal(w, p)
	case TextAsm:
		return FormatAsm(w, p)
	}
	return fmt.Errorf("write program text: unknown format %v", f)
}

// DetectFormat guesses the text format of src from its first meaningful
// line: "(000) ..." is a listing, a line starting with "{" (or a C
// declaration) a C array, a line holding one number (or the comma form
// "4,40 0 0 12,...") decimal, anything else bpf_asm assembly.
func DetectFormat(src []byte) Format {
	src = withoutBlockComments(src)
	for len(src) > 0 {
		raw := src
		if i := bytes.IndexByte(src, '\n'); i >= 0 {
			raw, src = src[:i], src[i+1:]
		} else {
			src = nil
		}
		line := strings.TrimSpace(string(raw))
		if line == "" || strings.HasPrefix(line, "//") ||
			strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";") {
			continue
		}
		switch {
		case line[0] == '(':
			return TextListing
		case line[0] == '{' || strings.HasPrefix(line, "struct ") || strings.HasPrefix(line, "static "):
			return TextC
		case isDecimalHead(line):
			return TextDecimal
		}
		return TextAsm
	}
	return TextAsm
}

// isDecimalHead reports whether line is the first line of a -ddd program:
// one number, or a number followed by a comma.
func isDecimalHead(line string) bool {
	i := 0
	for i < len(line) && line[i] >= '0' && line[i] <= '9' {
		i++
	}
	if i == 0 {
		return false
	}
	rest := strings.TrimSpace(line[i:])
	return rest == "" || rest[0] == ','
}

// withoutBlockComments blanks out /* ... */ comments (an unterminated one
// runs to the end), keeping the newlines.
func withoutBlockComments(src []byte) []byte {
	i := bytes.Index(src, []byte("/*"))
	if i < 0 {
		return src
	}
	out := append([]byte(nil), src...)
	for i >= 0 {
		end := bytes.Index(out[i+2:], []byte("*/"))
		stop := len(out)
		if end >= 0 {
			stop = i + 2 + end + 2
		}
		for j := i; j < stop; j++ {
			if out[j] != '\n' {
				out[j] = ' '
			}
		}
		next := bytes.Index(out[stop:], []byte("/*"))
		if next < 0 {
			break
		}
		i = stop + next
	}
	return out
}
