package capture

import (
	"fmt"
	"strings"
	"sync/atomic"
)

// DropReason says why a packet that passed the filter was not delivered.
type DropReason uint8

// Drop reasons.
const (
	DropKernel  DropReason = iota // lost before userspace (ring full, socket buffer); reported by the source
	DropHandler                   // a handler's verdict was ActionDrop
	DropSink                      // a sink failed to write it
	NumDropReasons
)

// String names the reason as the counters print it.
func (r DropReason) String() string {
	switch r {
	case DropKernel:
		return "kernel"
	case DropHandler:
		return "handler"
	case DropSink:
		return "sink"
	}
	return fmt.Sprintf("reason(%d)", uint8(r))
}

// Counters are one queue's counts, updated by its worker and safe to read
// at any time. They reconcile: Received = FilteredOut + the handler and
// sink drops + Delivered; kernel drops never reached the worker and are
// counted apart.
type Counters struct {
	Queue       int
	Received    atomic.Uint64 // packets the worker read from its source
	FilteredOut atomic.Uint64 // rejected by the userspace filter
	Dropped     [NumDropReasons]atomic.Uint64
	Delivered   atomic.Uint64 // packets that reached the sinks
}

// Snapshot is a plain copy of Counters.
type Snapshot struct {
	Queue       int
	Received    uint64
	FilteredOut uint64
	Dropped     [NumDropReasons]uint64
	Delivered   uint64
}

// Snapshot copies the counters.
func (c *Counters) Snapshot() Snapshot {
	s := Snapshot{Queue: c.Queue, Received: c.Received.Load(), FilteredOut: c.FilteredOut.Load(), Delivered: c.Delivered.Load()}
	for i := range c.Dropped {
		s.Dropped[i] = c.Dropped[i].Load()
	}
	return s
}

// DroppedTotal returns the drops of every reason, kernel drops included.
func (s Snapshot) DroppedTotal() uint64 {
	var n uint64
	for _, d := range s.Dropped {
		n += d
	}
	return n
}

// Reconciles reports whether every packet received is accounted for.
func (s Snapshot) Reconciles() bool {
	return s.Received == s.FilteredOut+s.Dropped[DropHandler]+s.Dropped[DropSink]+s.Delivered
}

// String formats the snapshot on one line.
func (s Snapshot) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "queue %d: received %d, filtered out %d, delivered %d, dropped %d", s.Queue, s.Received, s.FilteredOut, s.Delivered, s.DroppedTotal())
	sep := " ("
	for r, d := range s.Dropped {
		if d != 0 {
			fmt.Fprintf(&b, "%s%s %d", sep, DropReason(r), d)
			sep = ", "
		}
	}
	if sep == ", " {
		b.WriteString(")")
	}
	return b.String()
}

// Sum adds snapshots (the Queue of the result is -1).
func Sum(ss []Snapshot) Snapshot {
	t := Snapshot{Queue: -1}
	for _, s := range ss {
		t.Received += s.Received
		t.FilteredOut += s.FilteredOut
		t.Delivered += s.Delivered
		for i := range s.Dropped {
			t.Dropped[i] += s.Dropped[i]
		}
	}
	return t
}
