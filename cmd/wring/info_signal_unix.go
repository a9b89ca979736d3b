//go:build unix

package main

import (
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// onInfoSignal prints the counters with print each time the process gets
// SIGUSR1 (tcpdump's "info" signal) until the returned function is called.
func onInfoSignal(w io.Writer, print func(io.Writer)) func() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGUSR1)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-ch:
				print(w)
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(ch)
		close(done)
		wg.Wait()
	}
}
