//go:build !unix

package main

import "io"

// onInfoSignal does nothing where there is no SIGUSR1: the counters are
// printed at the end of the run only.
func onInfoSignal(w io.Writer, print func(io.Writer)) func() { return func() {} }
