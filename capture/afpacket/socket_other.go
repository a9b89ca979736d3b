//go:build !linux

package afpacket

import (
	"fmt"
	"runtime"
	"time"

	"github.com/wringcap/wring/spec"
)

// Socket is an AF_PACKET socket; off Linux none can be opened.
type Socket struct{}

// Open returns an error wrapping ErrNotSupported: AF_PACKET is Linux's.
func Open(ifindex int, filter spec.Program, cfg Config) (*Socket, error) {
	return nil, fmt.Errorf("afpacket: AF_PACKET needs linux, not %s: %w", runtime.GOOS, ErrNotSupported)
}

// Receive returns ErrClosed.
func (s *Socket) Receive(dst []Frame, timeout time.Duration) ([]Frame, error) { return dst, ErrClosed }

// Release does nothing.
func (s *Socket) Release() {}

// Stats returns zero counters.
func (s *Socket) Stats() (Stats, error) { return Stats{}, nil }

// Close does nothing.
func (s *Socket) Close() error { return nil }
