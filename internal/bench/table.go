package main

import (
	"fmt"
	"strings"
)

// Table renders a markdown table.
type Table struct {
	Header []string
	Rows   [][]string
}

func (t *Table) String() string {
	var b strings.Builder
	b.WriteString("| " + strings.Join(t.Header, " | ") + " |\n")
	b.WriteString("|" + strings.Repeat("---|", len(t.Header)) + "\n")
	for _, r := range t.Rows {
		b.WriteString("| " + strings.Join(r, " | ") + " |\n")
	}
	return b.String()
}

// pivotTable renders Topic/<row>/<col> results: one column per engine with
// the per-packet time and allocations, then a ratio column for each
// (subject, anchor) pair. Columns missing from the run are left out; a
// missing cell prints "—".
func pivotTable(rs Results, topic, unit string, order []string, ratios [][2]string) string {
	rows, cols := rs.Pivot(topic)
	if len(rows) == 0 {
		return "No results: the benchmarks did not run.\n"
	}
	present := map[string]bool{}
	for _, c := range cols {
		present[c] = true
	}
	var use []string
	for _, c := range order {
		if present[c] {
			use = append(use, c)
			delete(present, c)
		}
	}
	for _, c := range cols {
		if present[c] {
			use = append(use, c)
		}
	}
	t := Table{Header: []string{"case"}}
	for _, c := range use {
		t.Header = append(t.Header, c+" ("+unit+")")
	}
	var rat [][2]string
	for _, r := range ratios {
		if contains(use, r[0]) && contains(use, r[1]) {
			rat = append(rat, r)
			t.Header = append(t.Header, r[1]+" / "+r[0])
		}
	}
	t.Header = append(t.Header, "allocs/op")
	for _, row := range rows {
		line := []string{"`" + strings.ReplaceAll(row, "_", " ") + "`"}
		allocs := map[string]bool{}
		for _, c := range use {
			v, ok := metric(rs, topic+"/"+row+"/"+c, unit)
			if !ok {
				line = append(line, "—")
				continue
			}
			line = append(line, fmtNum(v))
			if a, ok := rs.Get(topic+"/"+row+"/"+c, "allocs/op"); ok {
				allocs[fmt.Sprintf("%s %g", c, a)] = true
			}
		}
		for _, r := range rat {
			a, ok1 := metric(rs, topic+"/"+row+"/"+r[0], unit)
			b, ok2 := metric(rs, topic+"/"+row+"/"+r[1], unit)
			if ok1 && ok2 && a > 0 {
				line = append(line, fmt.Sprintf("%.1fx", b/a))
			} else {
				line = append(line, "—")
			}
		}
		var al []string
		for _, c := range use {
			if a, ok := rs.Get(topic+"/"+row+"/"+c, "allocs/op"); ok {
				al = append(al, fmt.Sprintf("%s %g", c, a))
			}
		}
		line = append(line, strings.Join(al, ", "))
		t.Rows = append(t.Rows, line)
	}
	return t.String()
}

// metric prefers the named unit and falls back to ns/op for ns/pkt.
func metric(rs Results, name, unit string) (float64, bool) {
	if v, ok := rs.Get(name, unit); ok {
		return v, true
	}
	if unit == "ns/pkt" {
		return rs.Get(name, "ns/op")
	}
	return 0, false
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func fmtNum(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}
