package main

import (
	"strings"

	"github.com/alecthomas/kong"
)

// permute reorders a command line as GNU getopt does for tcpdump: the
// flags (with their values) first, then "--" and the operands (the filter
// expression's words) in their order, so flags may come anywhere, before,
// between or after the expression's words. A word after "--" is always an
// operand. Which flags take a value comes from the grammar; an unknown flag
// is left among the flags for the parser to report. Commands without
// operands, and lines without a command, are returned as they are.
func permute(app *kong.Application, args []string) []string {
	cmdAt := -1
	var node *kong.Node
	for i, a := range args {
		if strings.HasPrefix(a, "-") {
			continue
		}
		for _, n := range app.Children {
			if n.Name == a || contains(n.Aliases, a) {
				node = n
			}
		}
		cmdAt = i
		break
	}
	if node == nil || len(node.Positional) == 0 {
		return args
	}
	takesValue := map[string]bool{} // "-r", "--read"
	for _, group := range node.AllFlags(false) {
		for _, f := range group {
			v := !f.IsBool() && !f.IsCounter()
			takesValue["--"+f.Name] = v
			for _, a := range f.Aliases {
				takesValue["--"+a] = v
			}
			if f.Short != 0 {
				takesValue["-"+string(f.Short)] = v
			}
		}
	}
	out := append([]string(nil), args[:cmdAt+1]...)
	var operands []string
	rest := args[cmdAt+1:]
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		switch {
		case a == "--":
			operands = append(operands, rest[i+1:]...)
			i = len(rest)
		case a == "-" || !strings.HasPrefix(a, "-"):
			operands = append(operands, a)
		case strings.HasPrefix(a, "--"):
			out = append(out, a)
			if !strings.Contains(a, "=") && takesValue[a] && i+1 < len(rest) {
				out = append(out, rest[i+1])
				i++
			}
		default:
			// A cluster of short flags: the first that takes a value takes
			// the rest of the word, or the next word.
			out = append(out, a)
			for j := 1; j < len(a); j++ {
				if takesValue["-"+a[j:j+1]] {
					if j == len(a)-1 && i+1 < len(rest) {
						out = append(out, rest[i+1])
						i++
					}
					break
				}
			}
		}
	}
	if len(operands) == 0 {
		return out
	}
	return append(append(out, "--"), operands...)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
