package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
)

// maxFilterFile bounds -F's file: an expression is at most a few kilobytes
// (spec/LIMITS.md bounds the expression itself).
const maxFilterFile = 1 << 20

// expression returns the filter expression: the arguments joined with
// spaces, or with -F the file's text, where '#' starts a comment that runs
// to the end of the line (tcpdump's read_infile). As tcpdump does, -F wins
// over arguments; wring says so instead of dropping them silently.
func expression(args []string, file string, errw io.Writer) (string, error) {
	if file == "" {
		return strings.Join(args, " "), nil
	}
	f, err := os.Open(file)
	if err != nil {
		return "", exitf(2, "-F: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxFilterFile+1))
	if err != nil {
		return "", exitf(2, "-F: %w", err)
	}
	if len(b) > maxFilterFile {
		return "", exitf(2, "-F %s: larger than %d bytes", file, maxFilterFile)
	}
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return "", exitf(2, "-F %s: NUL byte at offset %d", file, i)
	}
	for i := 0; i < len(b); i++ {
		if b[i] == '#' {
			for ; i < len(b) && b[i] != '\n'; i++ {
				b[i] = ' '
			}
		}
	}
	if len(args) > 0 {
		fmt.Fprintf(errw, "wring: warning: -F %s given: the expression arguments %q are ignored\n", file, strings.Join(args, " "))
	}
	return string(b), nil
}
