package main

import (
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/alecthomas/kong"

	"github.com/wringcap/wring/capture"
)

// tcpdumpOnly are tcpdump flags wring does not take, with what to do
// instead: a tcpdump user's fingers type them, and "unknown flag" alone
// does not say whether wring lacks the feature or the flag was mistyped.
var tcpdumpOnly = map[string]string{
	"-i": "reading takes -r FILE; live capture is wring capture -i IF",
	"-d": "printing the program is wring compile -d EXPRESSION",
	"-h": "help is --help",
	"-N": "wring never resolves names",
	"-f": "wring never resolves names",
	"-O": "the optimizer is always on in read and capture (wring compile -O0 shows the unoptimized program)",
	"-V": "reading a list of files is not implemented; give one -r FILE",
	"-E": "ESP decryption is not implemented",
	"-M": "TCP-MD5 signature checks are not implemented",
	"-T": "forcing a protocol interpretation is not implemented",
	"-j": "time-stamp types are not implemented",
	"-J": "time-stamp types are not implemented",
}

// explainParseError rewrites kong's unknown-flag error: it names the
// command, says that the flag is not part of the filter expression, and
// suggests the closest flag the command has (or why tcpdump's flag is
// missing). Other errors pass through.
func explainParseError(err error) error {
	var pe *kong.ParseError
	if !errors.As(err, &pe) || pe.Context == nil {
		return err
	}
	msg := pe.Unwrap().Error()
	const prefix = "unknown flag "
	if !strings.HasPrefix(msg, prefix) {
		return err
	}
	flag := strings.TrimPrefix(msg, prefix)
	if i := strings.IndexByte(flag, ','); i >= 0 {
		flag = flag[:i]
	}
	cmd := "wring"
	if n := pe.Context.Selected(); n != nil {
		cmd = n.Name
	}
	hint := suggestFlag(flag, pe.Context.Flags())
	if why, ok := tcpdumpOnly[flag]; ok && hint == "" {
		hint = "tcpdump's " + flag + " is not supported: " + why
	} else if hint != "" {
		hint = "did you mean " + hint + "?"
	}
	out := fmt.Sprintf("%s: unknown flag %s (words starting with - are flags, never part of the filter expression; put an expression that starts with - after --)", cmd, flag)
	if hint != "" {
		out += "; " + hint
	}
	return errors.New(out)
}

// suggestFlag returns the flag of flags closest to the unknown one, or "".
// A short flag suggests the same letter in the other case, or a long flag
// starting with that letter; a long flag suggests the nearest long name by
// edit distance (at most a third of its length, at least 2) or by prefix.
func suggestFlag(unknown string, flags []*kong.Flag) string {
	var live []*kong.Flag
	for _, f := range flags {
		if !f.Hidden {
			live = append(live, f)
		}
	}
	if !strings.HasPrefix(unknown, "--") {
		if len(unknown) != 2 {
			return ""
		}
		r := rune(unknown[1])
		other := unicode.ToLower(r)
		if other == r {
			other = unicode.ToUpper(r)
		}
		for _, f := range live {
			if f.Short == other {
				return fmt.Sprintf("-%c (--%s)", other, f.Name)
			}
		}
		return ""
	}
	name := strings.TrimPrefix(unknown, "--")
	best, bestD := "", max(2, len(name)/3)+1
	for _, f := range live {
		for _, n := range append([]string{f.Name}, f.Aliases...) {
			d := editDistance(name, n)
			if strings.HasPrefix(n, name) && len(name) >= 3 {
				d = 1
			}
			if d < bestD {
				best, bestD = n, d
			}
		}
	}
	if best == "" {
		return ""
	}
	return "--" + best
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// checkOutputFlags refuses the flag combinations read and capture share
// that would otherwise be silently ignored: a batch size out of range,
// --json with --count, a text-only flag with either, and analyzer events
// that would collide with the packet output.
func checkOutputFlags(batch int, o *outputFlags, p *printFlags, a *analyzerFlags, s *streams) error {
	if batch < 1 || batch > capture.MaxBatch {
		return exitf(2, "--batch %d: want 1 to %d packets", batch, capture.MaxBatch)
	}
	if o.JSON && p.CountOnly {
		return exitf(2, "--json and --count: give one of them")
	}
	if f := p.textOnly(); f != "" && (o.JSON || p.CountOnly) {
		return exitf(2, "%s changes the text lines, which --json and --count do not print", f)
	}
	if err := eventsConflict(a, o.Write, p.CountOnly, s); err != nil {
		return exitf(2, "%v", err)
	}
	return nil
}
