package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// errStopped is the cause of the context stopOnSignal cancels.
var errStopped = errors.New("stopped by signal")

// stopOnSignal returns a context that SIGINT or SIGTERM cancels (with
// errStopped naming the signal as its cause), and the function that stops
// listening. Commands run until the context is done, then finish their
// output and print their summary: the analyzer host, which watches the same
// context, stops guest code still running after its grace (wasm.Host's
// Interrupt), so the summary comes within a second whatever the guests do.
// A second signal while wring is finishing exits at once, with 128 plus the
// signal's number, without finishing the output.
func stopOnSignal(errw io.Writer) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	quit := make(chan struct{})
	go func() {
		select {
		case sig := <-ch:
			cancel(fmt.Errorf("%w: %v", errStopped, sig))
		case <-quit:
			return
		}
		select {
		case sig := <-ch:
			fmt.Fprintf(errw, "wring: second signal (%v): exiting without finishing the output\n", sig)
			code := 128 + int(syscall.SIGINT)
			if s, ok := sig.(syscall.Signal); ok {
				code = 128 + int(s)
			}
			os.Exit(code)
		case <-quit:
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		close(quit)
		cancel(nil)
	}
}

// interrupted reports whether ctx was cancelled by a signal, and says so on
// errw.
func interrupted(ctx context.Context, errw io.Writer, while string) bool {
	cause := context.Cause(ctx)
	if !errors.Is(cause, errStopped) {
		return false
	}
	fmt.Fprintf(errw, "wring: %v while %s\n", cause, while)
	return true
}
