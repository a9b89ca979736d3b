//go:build !linux

package live

import (
	"runtime"

	"github.com/wringcap/wring/capture"
	"github.com/wringcap/wring/spec"
)

// Capture is an open live capture; off Linux none can be opened.
type Capture struct{}

func notLinux(what string) error { return platformError(what, runtime.GOOS, runtime.GOARCH) }

// Open returns an error wrapping ErrNotSupported that names the platform.
func Open(dev Device, opts Options) (*Capture, error) {
	return nil, notLinux("capture " + dev.String())
}

// LinkTypeOf returns an error wrapping ErrNotSupported.
func LinkTypeOf(dev Device) (spec.LinkType, error) { return 0, notLinux("capture " + dev.String()) }

// Interfaces returns an error wrapping ErrNotSupported.
func Interfaces() ([]Interface, error) { return nil, notLinux("list interfaces") }

// LinkType returns Ethernet.
func (c *Capture) LinkType() spec.LinkType { return spec.LinkEthernet }

// Path returns "".
func (c *Capture) Path() string { return "" }

// Sources returns nil.
func (c *Capture) Sources() []capture.Source { return nil }

// FilterInKernel returns false.
func (c *Capture) FilterInKernel() bool { return false }

// Stats returns nil.
func (c *Capture) Stats() []QueueStats { return nil }

// InterfaceDropped returns 0, false.
func (c *Capture) InterfaceDropped() (uint64, bool) { return 0, false }

// PacketSocket returns false.
func (c *Capture) PacketSocket() bool { return false }

// Close does nothing.
func (c *Capture) Close() error { return nil }

// TakesPackets returns false.
func (c *Capture) TakesPackets() bool { return false }
