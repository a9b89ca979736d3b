package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/alecthomas/kong"
)

// manCmd prints wring's manual page in roff (man(7)), generated from the
// command grammar: `wring man > wring.1; man ./wring.1`.
type manCmd struct{}

// Run prints the page.
func (manCmd) Run(k *kong.Context, s *streams) error {
	return writeMan(s.Out, k.Model)
}

// roff escapes text for roff: backslashes, and a leading dot or quote.
func roff(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = strings.ReplaceAll(s, "-", `\-`)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}

func writeMan(w io.Writer, app *kong.Application) error {
	var b strings.Builder
	b.WriteString(".TH WRING 1 \"\" \"wring\" \"User Commands\"\n")
	b.WriteString(".SH NAME\nwring \\- verified, JIT\\-compiled packet filters and sandboxed Wasm analyzers\n")
	b.WriteString(".SH SYNOPSIS\n")
	for _, n := range app.Children {
		if n.Hidden || n.Type != kong.CommandNode {
			continue
		}
		fmt.Fprintf(&b, "\\fBwring %s\\fR [\\fIflags\\fR]", n.Name)
		for _, p := range n.Positional {
			arg := `\fI` + roff(strings.ToUpper(p.Name)) + `\fR`
			if p.IsSlice() {
				arg += " ..."
			}
			if !p.Required {
				arg = "[" + arg + "]"
			}
			b.WriteString(" " + arg)
		}
		b.WriteString("\n.br\n")
	}
	b.WriteString(".SH DESCRIPTION\n")
	b.WriteString(roff("wring reads packets from capture files or live interfaces, filters them with tcpdump's expression language compiled to classic BPF and checked by a static verifier, runs sandboxed WebAssembly analyzers over them, and prints or writes them. Flags have tcpdump's letters and meanings where tcpdump has them, and may come before or after the filter expression; after --, every word is part of the expression.") + "\n")
	b.WriteString(".SH GLOBAL FLAGS\n")
	for _, f := range visible(app.Flags) {
		manFlag(&b, f)
	}
	b.WriteString(".SH COMMANDS\n")
	for _, n := range app.Children {
		if n.Hidden || n.Type != kong.CommandNode {
			continue
		}
		fmt.Fprintf(&b, ".SS wring %s\n%s\n", n.Name, roff(n.Help))
		for _, p := range n.Positional {
			fmt.Fprintf(&b, ".TP\n.I %s\n%s\n", roff(strings.ToUpper(p.Name)), roff(p.Help))
		}
		for _, group := range n.AllFlags(true) {
			for _, f := range group {
				if f.Name == "help" {
					continue
				}
				manFlag(&b, f)
			}
		}
	}
	b.WriteString(".SH EXIT STATUS\n0 success; 1 a negative result (a rejected program, a bad expression) or a write error; 2 bad usage or unreadable input.\n")
	b.WriteString(".SH SEE ALSO\n.BR tcpdump (1),\n.BR pcap-filter (7)\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func manFlag(b *strings.Builder, f *kong.Flag) {
	b.WriteString(".TP\n")
	var names []string
	if f.Short != 0 {
		names = append(names, `\fB\-`+roff(string(f.Short))+`\fR`)
	}
	names = append(names, `\fB\-\-`+roff(f.Name)+`\fR`)
	for _, a := range f.Aliases {
		names = append(names, `\fB\-\-`+roff(a)+`\fR`)
	}
	line := strings.Join(names, ", ")
	if !f.IsBool() && !f.IsCounter() {
		line += " " + `\fI` + roff(f.FormatPlaceHolder()) + `\fR`
	}
	b.WriteString(line + "\n" + roff(f.Help))
	if f.HasDefault && f.Default != "" {
		b.WriteString(" (default: " + roff(f.Default) + ")")
	}
	b.WriteString("\n")
}
