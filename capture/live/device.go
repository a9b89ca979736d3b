package live

import (
	"fmt"
	"strconv"
	"strings"
)

// ifNameSize is IFNAMSIZ: interface names are at most 15 bytes.
const ifNameSize = 16

// Device names what to capture: an interface and one of its receive queues,
// or all of them. "eth0" is every queue of eth0; "eth0@2" is queue 2 only
// (PF_RING/TNAPI's virtual capture device). "any" is every interface, as
// tcpdump's -i any.
type Device struct {
	Name  string
	Queue int // -1: all queues
}

// Any is the name of the pseudo-device that captures on every interface.
const Any = "any"

// ParseDevice parses "IF" or "IF@Q".
func ParseDevice(s string) (Device, error) {
	name, q, hasQ := strings.Cut(s, "@")
	if name == "" {
		return Device{}, fmt.Errorf("interface %q: empty name", s)
	}
	if len(name) >= ifNameSize {
		return Device{}, fmt.Errorf("interface %q: name longer than %d bytes", s, ifNameSize-1)
	}
	d := Device{Name: name, Queue: -1}
	if hasQ {
		n, err := strconv.ParseUint(q, 10, 16)
		if err != nil {
			return Device{}, fmt.Errorf("interface %q: queue %q is not a number", s, q)
		}
		if name == Any {
			return Device{}, fmt.Errorf("interface %q: the any device has no queues", s)
		}
		d.Queue = int(n)
	}
	return d, nil
}

func (d Device) String() string {
	if d.Queue < 0 {
		return d.Name
	}
	return fmt.Sprintf("%s@%d", d.Name, d.Queue)
}
