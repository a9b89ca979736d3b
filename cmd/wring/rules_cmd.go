package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/wringcap/wring/filters/rules"
)

// rulesCmd groups the rule-table commands.
type rulesCmd struct {
	Check rulesCheckCmd `cmd:"" help:"Validate a rule file (text or JSON), print the normalized rules and the classifier's size."`
}

// rulesCheckCmd validates a rule file by building the classifier from it.
type rulesCheckCmd struct {
	File string `arg:"" help:"Rule file: the text format, or JSON (spec/RULES.md); - reads standard input."`
	JSON bool   `name:"json" help:"Print the normalized rules as JSON instead of text."`
}

// Run prints the normalized rules and the size line; exit 1 for an
// invalid rule file, 2 for an unreadable one.
func (c *rulesCheckCmd) Run(s *streams) error {
	f, cl, err := loadRules(c.File, s.In)
	if err != nil {
		return err
	}
	norm := cl.List()
	if c.JSON {
		b, err := norm.JSON()
		if err != nil {
			return exitf(1, "rules: %v", err)
		}
		fmt.Fprintf(s.Out, "%s\n", b)
	} else {
		s.Out.Write(norm.Text())
	}
	sz := cl.Size()
	fmt.Fprintf(s.Err, "%s: %d rule%s, %d flow%s: %d tuple%s (hash probes per packet, at most), %d table entr%s, %d flow entr%s\n",
		displayRules(c.File), len(f.Rules), plural(uint64(len(f.Rules))), len(f.Flows), plural(uint64(len(f.Flows))),
		sz.Tuples, plural(uint64(sz.Tuples)), sz.Entries, pluralY(sz.Entries), sz.FlowKeys, pluralY(sz.FlowKeys))
	return nil
}

func pluralY(n int) string {
	if n == 1 {
		return "y"
	}
	return "ies"
}

func displayRules(name string) string {
	if name == "-" {
		return "standard input"
	}
	return name
}

// loadRules reads a rule file (JSON when it starts with '{', the text
// format otherwise) and builds a classifier from it.
func loadRules(name string, stdin io.Reader) (*rules.File, *rules.Classifier, error) {
	var r io.Reader = stdin
	if name != "-" {
		fh, err := os.Open(name)
		if err != nil {
			return nil, nil, exitf(2, "rules: %v", err)
		}
		defer fh.Close()
		r = fh
	}
	src, err := io.ReadAll(io.LimitReader(r, rules.MaxInput+1))
	if err != nil {
		return nil, nil, exitf(2, "rules: %s: %v", displayRules(name), err)
	}
	var f *rules.File
	if t := bytes.TrimLeft(src, " \t\r\n"); len(t) > 0 && t[0] == '{' {
		f, err = rules.ParseJSON(src)
	} else {
		f, err = rules.ParseText(src)
	}
	if err != nil {
		return nil, nil, exitf(1, "rules: %s: %v", displayRules(name), err)
	}
	cl := rules.New()
	if err := cl.Load(f); err != nil {
		if errors.Is(err, rules.ErrLimit) {
			return nil, nil, exitf(1, "rules: %s: %v", displayRules(name), err)
		}
		return nil, nil, exitf(1, "rules: %s: %v", displayRules(name), strings.TrimSpace(err.Error()))
	}
	return f, cl, nil
}
