// Package progsize compares the size of wring's optimized programs with
// libpcap's: for each expression it counts the instructions of
// expr.Compile with Options.Optimize (which runs filters/expr/optimize) and
// of `tcpdump -d` (Debian's
// libpcap 1.10.3, optimized), and summarizes per link type. The lead's
// BENCHMARKS.md generator prints its table through TestProgramSizeTable.
package progsize

import (
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/wringcap/wring/filters/expr"
	"github.com/wringcap/wring/internal/pcaporacle"
	"github.com/wringcap/wring/spec"
)

// Input is one expression to measure on one link type (a DLT name as
// tcpdump -y takes it).
type Input struct {
	DLT  string
	Expr string
}

// Result is the measurement of one Input. Skip is set, with the reason,
// when one of the two compilers refused the expression; the counts are
// then zero.
type Result struct {
	Input
	Wring      int // instructions after wring's optimizer
	WringUnopt int // instructions before it
	Libpcap    int // instructions of tcpdump -d
	Skip       string
}

// Measure compiles every input with both compilers, using up to
// GOMAXPROCS tcpdump processes at a time. It fails only when tcpdump
// cannot be run at all.
func Measure(inputs []Input) ([]Result, error) {
	if _, err := pcaporacle.Tcpdump(); err != nil {
		return nil, err
	}
	out := make([]Result, len(inputs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))
	for i, in := range inputs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			out[i] = measure(in)
		}()
	}
	wg.Wait()
	return out, nil
}

func measure(in Input) Result {
	r := Result{Input: in}
	lp, err := pcaporacle.Compile(in.Expr, in.DLT, pcaporacle.Options{})
	if err != nil {
		if errors.Is(err, pcaporacle.ErrRefused) {
			r.Skip = "libpcap 1.10.3 refuses it"
		} else {
			r.Skip = "tcpdump: " + err.Error()
		}
		return r
	}
	lt, err := spec.ParseLinkType(in.DLT)
	if err != nil {
		r.Skip = "unknown link type"
		return r
	}
	wu, err := expr.Compile(in.Expr, expr.Options{LinkType: lt})
	if err != nil {
		r.Skip = "wring refuses it"
		return r
	}
	wo, err := expr.Compile(in.Expr, expr.Options{LinkType: lt, Optimize: true})
	if err != nil {
		r.Skip = "wring refuses it"
		return r
	}
	r.Libpcap = len(lp)
	r.WringUnopt = len(wu)
	r.Wring = len(wo)
	return r
}

// Line is the summary of a set of results: how many expressions both
// compilers compiled, on how many wring's program is no longer / strictly
// shorter / longer than libpcap's, and the total instruction counts.
type Line struct {
	Name                             string
	N, NotLonger, Shorter, Longer    int
	SumWring, SumWringUnopt, SumPcap int
	SkippedByPcap, SkippedByWring    int
}

// NotLongerPct returns the share of expressions whose wring program is no
// longer than libpcap's, in percent.
func (l Line) NotLongerPct() float64 { return pct(l.NotLonger, l.N) }

// ShorterPct returns the share of expressions whose wring program is
// strictly shorter than libpcap's, in percent.
func (l Line) ShorterPct() float64 { return pct(l.Shorter, l.N) }

func pct(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}

func (l *Line) add(r Result) {
	switch {
	case r.Skip == "wring refuses it":
		l.SkippedByWring++
		return
	case r.Skip != "":
		l.SkippedByPcap++
		return
	}
	l.N++
	l.SumWring += r.Wring
	l.SumWringUnopt += r.WringUnopt
	l.SumPcap += r.Libpcap
	switch {
	case r.Wring < r.Libpcap:
		l.Shorter++
		l.NotLonger++
	case r.Wring == r.Libpcap:
		l.NotLonger++
	default:
		l.Longer++
	}
}

// Summarize returns one line per link type (in decreasing number of
// expressions) and a line for all of them.
func Summarize(rs []Result) (perDLT []Line, total Line) {
	by := map[string]*Line{}
	total.Name = "all"
	for _, r := range rs {
		l := by[r.DLT]
		if l == nil {
			l = &Line{Name: r.DLT}
			by[r.DLT] = l
		}
		l.add(r)
		total.add(r)
	}
	for _, l := range by {
		perDLT = append(perDLT, *l)
	}
	sort.Slice(perDLT, func(i, j int) bool {
		if perDLT[i].N != perDLT[j].N {
			return perDLT[i].N > perDLT[j].N
		}
		return perDLT[i].Name < perDLT[j].Name
	})
	return perDLT, total
}

// Header is the header of the table Rows returns.
var Header = []string{"link type", "expressions", "wring ≤ libpcap", "wring < libpcap", "wring > libpcap",
	"instructions wring (unoptimized)", "instructions libpcap", "skipped (libpcap / wring refuses)"}

// Rows returns the table rows for BENCHMARKS.md: one per link type with
// at least minN expressions, the rest folded into "other", then the total.
func Rows(perDLT []Line, total Line, minN int) [][]string {
	var rows [][]string
	other := Line{Name: "other"}
	for _, l := range perDLT {
		if l.N < minN {
			other.N += l.N
			other.NotLonger += l.NotLonger
			other.Shorter += l.Shorter
			other.Longer += l.Longer
			other.SumWring += l.SumWring
			other.SumWringUnopt += l.SumWringUnopt
			other.SumPcap += l.SumPcap
			other.SkippedByPcap += l.SkippedByPcap
			other.SkippedByWring += l.SkippedByWring
			continue
		}
		rows = append(rows, row(l))
	}
	if other.N > 0 || other.SkippedByPcap+other.SkippedByWring > 0 {
		rows = append(rows, row(other))
	}
	t := row(total)
	for i := range t {
		t[i] = "**" + t[i] + "**"
	}
	return append(rows, t)
}

func row(l Line) []string {
	return []string{
		l.Name,
		fmt.Sprint(l.N),
		fmt.Sprintf("%d (%.1f%%)", l.NotLonger, l.NotLongerPct()),
		fmt.Sprintf("%d (%.1f%%)", l.Shorter, l.ShorterPct()),
		fmt.Sprint(l.Longer),
		fmt.Sprintf("%d (%d)", l.SumWring, l.SumWringUnopt),
		fmt.Sprint(l.SumPcap),
		fmt.Sprintf("%d / %d", l.SkippedByPcap, l.SkippedByWring),
	}
}

// Markdown renders rows under Header as a markdown table.
func Markdown(rows [][]string) string {
	var b strings.Builder
	b.WriteString("| " + strings.Join(Header, " | ") + " |\n")
	b.WriteString("|" + strings.Repeat("---|", len(Header)) + "\n")
	for _, r := range rows {
		b.WriteString("| " + strings.Join(r, " | ") + " |\n")
	}
	return b.String()
}
