package live

import (
	"fmt"
	"strings"

	"github.com/wringcap/wring/spec"
)

// Interface is one entry of Interfaces: a device and what wring can
// capture on it.
type Interface struct {
	Name     string
	Index    int // 0 for any
	Queues   int // receive queues
	LinkType spec.LinkType
	Up       bool
	Loopback bool
	Modes    []Mode // the capture modes the device supports, fastest first
}

// String formats an interface as a line of wring capture -D:
// "eth0 [Up, Running] queues 4, EN10MB, modes xdp packet".
func (i Interface) String() string {
	var flags []string
	if i.Up {
		flags = append(flags, "Up")
	}
	if i.Loopback {
		flags = append(flags, "Loopback")
	}
	modes := make([]string, len(i.Modes))
	for k, m := range i.Modes {
		modes[k] = m.String()
	}
	return fmt.Sprintf("%s [%s] queues %d, link-type %s, modes %s", i.Name, strings.Join(flags, ", "), i.Queues, i.LinkType, strings.Join(modes, " "))
}
