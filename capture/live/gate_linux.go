//go:build linux

package live

import (
	"io"
	"sync"

	"github.com/wringcap/wring/capture/packet"
)

// readGate keeps a source's rings mapped while its reader may still use
// them, so that Capture.Close under a running pipeline ends the pipeline's
// reads instead of pulling memory from under them. The packets of a batch
// point into the rings from the ReadBatch that returned them until the
// reader's next ReadBatch, or until its pipeline worker calls Finish.
//
// Close frees the rings at once when no reader holds them; otherwise it
// marks the source closing, and the reader frees them on its way: at its
// next ReadBatch (which returns io.EOF) or its Finish, or as a ReadBatch
// in progress returns empty-handed. A reader that holds a batch and never
// comes back leaves the rings mapped, which is safe.
type readGate struct {
	mu      sync.Mutex
	state   gateState
	closing bool
	freed   bool
	free    func() // unmaps the rings and closes the socket; run once
}

type gateState uint8

const (
	gateIdle    gateState = iota // no reader, or one that finished
	gateReading                  // inside ReadBatch
	gateHolding                  // ReadBatch returned packets that point into the rings
)

// read is a gated source's ReadBatch: it runs the source's own read
// between enter and leave, and returns io.EOF once the source is closed.
func (g *readGate) read(b *packet.Batch, limit int, read func(*packet.Batch, int) (int, error)) (int, error) {
	if !g.enter() {
		return 0, io.EOF
	}
	k, err := read(b, limit)
	if !g.leave(k) {
		return 0, io.EOF
	}
	return k, err
}

// enter is called as ReadBatch starts: the batch the reader held is done
// with. It reports false, having freed the rings, when the source is
// closing: ReadBatch then returns io.EOF.
func (g *readGate) enter() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closing {
		g.state = gateIdle
		g.release()
		return false
	}
	g.state = gateReading
	return true
}

// leave is called as ReadBatch returns k packets. It reports false, having
// freed the rings, when the source was closed during a read that returned
// nothing: ReadBatch then returns io.EOF.
func (g *readGate) leave(k int) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if k > 0 {
		g.state = gateHolding
		return true
	}
	g.state = gateIdle
	if g.closing {
		g.release()
		return false
	}
	return true
}

// finish is the pipeline worker saying it is done with the source.
func (g *readGate) finish() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.state = gateIdle
	if g.closing {
		g.release()
	}
}

// close frees the rings now if no reader holds them, else marks the source
// closing for the reader to free them.
func (g *readGate) close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closing = true
	if g.state == gateIdle {
		g.release()
	}
}

func (g *readGate) release() {
	if !g.freed {
		g.freed = true
		if g.free != nil {
			g.free()
		}
	}
}
