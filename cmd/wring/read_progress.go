package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/wringcap/wring/capture"
	"github.com/wringcap/wring/capture/pcapfile"
)

// progressDelay is how long a read runs before the progress line appears.
const progressDelay = time.Second

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// showProgress reports whether a read shows its progress line: only when
// standard error is a terminal and standard output is not that same
// terminal (where the line would land among the packet lines).
func showProgress(s *streams) bool {
	if !isTerminal(s.Err) {
		return false
	}
	if !isTerminal(s.Out) {
		return true
	}
	a, err1 := s.Out.(*os.File).Stat()
	b, err2 := s.Err.(*os.File).Stat()
	return err1 == nil && err2 == nil && !os.SameFile(a, b)
}

// startProgress shows a progress line on w, when w is a terminal and the
// read lasts more than a second, and returns the function that removes it.
func startProgress(w io.Writer, r *pcapfile.Reader, p *capture.Pipeline) func() {
	if !isTerminal(w) {
		return func() {}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		start := time.Now()
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		shown := false
		for {
			select {
			case <-stop:
				if shown {
					fmt.Fprint(w, "\r\033[K")
				}
				return
			case now := <-tick.C:
				el := now.Sub(start)
				if el < progressDelay {
					continue
				}
				t := capture.Sum(p.Counters())
				fmt.Fprintf(w, "\r\033[K%s: %d packets read, %d passed the filter, %.0f packets/s",
					r.Name(), t.Received, t.Received-t.FilteredOut, float64(t.Received)/el.Seconds())
				shown = true
			}
		}
	}()
	return func() { close(stop); wg.Wait() }
}
