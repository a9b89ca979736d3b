package main

import (
	"bufio"
	"bytes"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Result is the median of one benchmark's runs.
type Result struct {
	Name    string             // full name without the -GOMAXPROCS suffix
	Metrics map[string]float64 // unit -> value, e.g. "ns/op", "allocs/op", "ns/pkt"
}

// Results maps a benchmark name to its result.
type Results map[string]*Result

var procSuffix = regexp.MustCompile(`-\d+$`)

// Parse reads `go test -bench` output and keeps the median of each metric
// across repeated runs.
func Parse(out []byte) Results {
	samples := map[string]map[string][]float64{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := procSuffix.ReplaceAllString(f[0], "")
		if samples[name] == nil {
			samples[name] = map[string][]float64{}
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				break
			}
			samples[name][f[i+1]] = append(samples[name][f[i+1]], v)
		}
	}
	res := Results{}
	for name, m := range samples {
		r := &Result{Name: name, Metrics: map[string]float64{}}
		for unit, vs := range m {
			sort.Float64s(vs)
			r.Metrics[unit] = vs[len(vs)/2]
		}
		res[name] = r
	}
	return res
}

// Get returns a metric of a benchmark, and whether it was measured.
func (rs Results) Get(name, unit string) (float64, bool) {
	r, ok := rs[name]
	if !ok {
		return 0, false
	}
	v, ok := r.Metrics[unit]
	return v, ok
}

// Pivot collects the benchmarks named Topic/<row>/<column> into rows and
// columns, in first-seen order sorted by name.
func (rs Results) Pivot(topic string) (rows, cols []string) {
	seenR, seenC := map[string]bool{}, map[string]bool{}
	for name := range rs {
		rest, ok := strings.CutPrefix(name, topic+"/")
		if !ok {
			continue
		}
		i := strings.LastIndex(rest, "/")
		if i < 0 {
			continue
		}
		r, c := rest[:i], rest[i+1:]
		if !seenR[r] {
			seenR[r] = true
			rows = append(rows, r)
		}
		if !seenC[c] {
			seenC[c] = true
			cols = append(cols, c)
		}
	}
	sort.Strings(rows)
	sort.Strings(cols)
	return rows, cols
}
