package main

import (
	"fmt"
	"io"

	"github.com/wringcap/wring/wasm"
)

// printStreamLine prints what an analyzer taking TCP streams got, and lost.
func printStreamLine(w io.Writer, st wasm.Stats) {
	if st.StreamCalls == 0 && st.StreamLost == 0 {
		return
	}
	fmt.Fprintf(w, "analyzer %s: streams: %d calls, %d chunks, %d bytes", st.Analyzer, st.StreamCalls, st.StreamChunks, st.StreamBytes)
	if st.StreamLost > 0 {
		fmt.Fprintf(w, ", %d chunks lost (failures, quarantine)", st.StreamLost)
	}
	fmt.Fprintln(w)
}

// printStreamTotals prints the TCP reassemblers' counts, when analyzers
// took streams.
func printStreamTotals(w io.Writer, h *wasm.Host) {
	s := h.StreamStats()
	if s.Workers == 0 {
		return
	}
	fmt.Fprintf(w, "streams: %d flows (%d refused: table full), %d bytes handed over, %d gaps (%d bytes lost), %d bytes retransmitted, %d overlapping kept (%d differing)",
		s.Flows, s.FlowsRefused, s.Delivered, s.Gaps, s.GapBytes, s.Retransmitted, s.OverlapKept, s.OverlapDiffer)
	if s.WindowsOut+s.PastWindow+s.RangesFull+s.Refused > 0 {
		fmt.Fprintf(w, "; gave up: %d no window free, %d past the window, %d range list full, %d bytes refused", s.WindowsOut, s.PastWindow, s.RangesFull, s.Refused)
	}
	if s.Unparsed > 0 {
		fmt.Fprintf(w, "; %d TCP packets without a captured header", s.Unparsed)
	}
	if s.EarlyHandovers > 0 {
		fmt.Fprintf(w, "; staging full %d times (handed over early)", s.EarlyHandovers)
	}
	fmt.Fprintln(w)
}
