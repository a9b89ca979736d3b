package main

import (
	"context"
	"fmt"
	"io"
	"time"

	natsexport "github.com/wringcap/wring/export/nats"
)

// checkNATSEvents checks an --events nats://... URL before anything is
// opened; any other --events value is a file name and passes.
func checkNATSEvents(events string) error {
	if !natsexport.IsURL(events) {
		return nil
	}
	_, err := natsexport.ParseURL(events)
	if err != nil {
		return fmt.Errorf("--events: %w", err)
	}
	return nil
}

// dialNATSEvents connects the publisher of --events nats://HOST:PORT/STREAM,
// giving up after 15 seconds (or when ctx ends).
func dialNATSEvents(ctx context.Context, events string) (*natsexport.Publisher, error) {
	cfg, err := natsexport.ParseURL(events)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	return natsexport.Dial(ctx, cfg)
}

// printNATSReport prints the publisher's counters (spec/NATS.md) after it
// was closed; nothing without --events nats://.
func printNATSReport(w io.Writer, p *natsexport.Publisher) {
	if p == nil {
		return
	}
	fmt.Fprintf(w, "wring: events to %s: %v\n", p.Config().Redacted(), p.Stats())
}
