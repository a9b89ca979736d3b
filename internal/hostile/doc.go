// Package hostile holds the process-level hostile-module suite (issue 11):
// its tests build the wring binary once, make a 100,000-packet capture, and
// run `wring read` over it with one hostile analyzer beside a well-behaved
// bundled one, measuring each run's wall time and peak RSS. The package has
// no code of its own; see hostile_test.go.
package hostile
