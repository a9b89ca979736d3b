package main

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/wringcap/wring/wasm"
)

// printAnalyzerReport prints each analyzer's packets, events and non-zero
// counters, then whatever the host did not deliver or had to stop: events
// lost, failures by cause, calls interrupted, load errors.
func printAnalyzerReport(w io.Writer, h *wasm.Host) {
	byAnalyzer := map[string][]string{}
	for _, c := range h.Counters() {
		if c.Value != 0 {
			byAnalyzer[c.Analyzer] = append(byAnalyzer[c.Analyzer], fmt.Sprintf("%s=%d", c.Name, c.Value))
		}
	}
	for _, st := range h.Stats() {
		line := byAnalyzer[st.Analyzer]
		sort.Strings(line)
		fmt.Fprintf(w, "analyzer %s: %d packets, %d events", st.Analyzer, st.Packets, st.Events)
		if st.EventsLost > 0 {
			fmt.Fprintf(w, ", %d events lost (%d over the per-call caps)", st.EventsLost, st.EventsOverCap)
		}
		if len(line) > 0 {
			fmt.Fprintf(w, "; %s", strings.Join(line, " "))
		}
		fmt.Fprintln(w)
		printStreamLine(w, st)
		if st.LoadError != nil {
			fmt.Fprintf(w, "analyzer %s: did not load: %v\n", st.Analyzer, firstLine(st.LoadError))
		}
		if st.Failures > 0 || st.Quarantined {
			fmt.Fprintf(w, "analyzer %s: %d failures (fuel %d, time %d, traps %d, ABI %d, guest %d), quarantined %v, %d packets given the fail policy\n",
				st.Analyzer, st.Failures, st.Fuel, st.Timeouts, st.Traps, st.ABI, st.Guest, st.Quarantined, st.PolicyPackets+st.QuarantinedPackets)
		}
		if st.Interrupted > 0 {
			fmt.Fprintf(w, "analyzer %s: %d calls interrupted or skipped while stopping\n", st.Analyzer, st.Interrupted)
		}
	}
	printStreamTotals(w, h)
}

// loadErrors joins the errors of the analyzers that did not load.
func loadErrors(h *wasm.Host) error {
	var errs []error
	for _, st := range h.Stats() {
		if st.LoadError != nil {
			errs = append(errs, errors.New(firstLine(st.LoadError)))
		}
	}
	return errors.Join(errs...)
}

// firstLine is the first line of err's message (wazero's errors go on with
// a stack trace).
func firstLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
