package live

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/wringcap/wring/internal/linux"
	"github.com/wringcap/wring/spec"
)

// iface is what a capture needs to know of its device.
type iface struct {
	name      string
	index     int // 0 for any
	queues    int
	hwType    uint16        // ARPHRD_ type; 0 for any
	linkType  spec.LinkType // what libpcap reports for hwType
	cooked    bool          // AF_PACKET SOCK_DGRAM with an SLL2 header: any, and devices libpcap has no link type for
	loopIndex int           // ifindex of lo in the namespace, 0 when none: its outgoing copies are dropped, as libpcap does
}

// ARPHRD_ types libpcap maps to a link type of their own (pcap-linux.c,
// map_arphrd_to_dlt); every other type is captured cooked.
const (
	arphrdEther    = 1
	arphrdTunnel   = 768
	arphrdTunnel6  = 769
	arphrdSIT      = 776
	arphrdLoopback = 772
	arphrdRawIP    = 519
	arphrdNone     = 0xfffe
)

// lookup finds dev in the calling thread's network namespace.
func lookup(dev Device) (iface, error) {
	ifc := iface{name: dev.Name}
	if lo, err := net.InterfaceByName("lo"); err == nil {
		ifc.loopIndex = lo.Index
	}
	if dev.Name == Any {
		ifc.queues, ifc.linkType, ifc.cooked = 1, spec.LinkLinuxSLL2, true
		return ifc, nil
	}
	ifi, err := net.InterfaceByName(dev.Name)
	if err != nil {
		return ifc, err
	}
	ifc.index = ifi.Index
	if ifc.queues, err = rxQueues(dev.Name); err != nil {
		return ifc, err
	}
	if dev.Queue >= ifc.queues {
		return ifc, fmt.Errorf("the interface has %d receive queue(s), 0 to %d", ifc.queues, ifc.queues-1)
	}
	if ifc.hwType, err = linux.HardwareType(dev.Name); err != nil {
		return ifc, err
	}
	ifc.linkType, ifc.cooked = linkTypeOf(ifc.hwType)
	return ifc, nil
}

// linkTypeOf maps an ARPHRD_ type to the link type libpcap gives its
// frames; cooked is true for types libpcap captures in cooked mode.
func linkTypeOf(hw uint16) (lt spec.LinkType, cooked bool) {
	switch hw {
	case arphrdEther, arphrdLoopback:
		return spec.LinkEthernet, false
	case arphrdNone, arphrdRawIP, arphrdTunnel, arphrdTunnel6, arphrdSIT:
		return spec.LinkRaw, false
	}
	return spec.LinkLinuxSLL2, true
}

// xdpUsable says why AF_XDP cannot capture on the interface, or nil.
func xdpUsable(ifc iface) error {
	switch {
	case ifc.index == 0:
		return errors.New("AF_XDP needs one interface, not any")
	case ifc.linkType != spec.LinkEthernet || ifc.hwType == arphrdLoopback:
		return fmt.Errorf("AF_XDP captures Ethernet devices, %s is %s", ifc.name, hwName(ifc.hwType))
	}
	return nil
}

func hwName(hw uint16) string {
	switch hw {
	case arphrdEther:
		return "Ethernet"
	case arphrdLoopback:
		return "loopback"
	case arphrdNone, arphrdRawIP:
		return "raw IP (tun)"
	case arphrdTunnel, arphrdTunnel6, arphrdSIT:
		return "an IP tunnel"
	}
	return fmt.Sprintf("hardware type %d", hw)
}

// rxQueues returns the number of receive queues of an interface in the
// calling thread's network namespace: from ethtool's channel count when the
// driver reports it, else from /sys.
func rxQueues(name string) (int, error) {
	if _, err := net.InterfaceByName(name); err != nil {
		return 0, fmt.Errorf("interface %s: %w", name, err)
	}
	if n, err := linux.EthtoolRxChannels(name); err == nil && n > 0 {
		return n, nil
	}
	ents, err := os.ReadDir(filepath.Join("/sys/class/net", name, "queues"))
	if err != nil {
		return 1, nil // no queue information: a single-queue device
	}
	n := 0
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "rx-") {
			n++
		}
	}
	return max(n, 1), nil
}

// Interfaces lists the interfaces of the calling thread's network
// namespace, then the any device, as tcpdump -D does, with what wring can
// do on each.
func Interfaces() ([]Interface, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("list interfaces: %w", err)
	}
	var out []Interface
	for _, ifi := range ifs {
		ifc, err := lookup(Device{Name: ifi.Name, Queue: -1})
		if err != nil {
			continue // gone since the listing
		}
		it := Interface{Name: ifi.Name, Index: ifi.Index, Queues: ifc.queues, LinkType: ifc.linkType,
			Up: ifi.Flags&net.FlagUp != 0, Loopback: ifi.Flags&net.FlagLoopback != 0, Modes: []Mode{ModePacket}}
		if passiveUsable(ifc) == nil {
			it.Modes = []Mode{ModePassive, ModePacket}
		}
		if xdpUsable(ifc) == nil {
			it.Modes = append([]Mode{ModeXDP}, it.Modes...)
		}
		out = append(out, it)
	}
	out = append(out, Interface{Name: Any, Queues: 1, LinkType: spec.LinkLinuxSLL2, Up: true, Modes: []Mode{ModePacket}})
	return out, nil
}

// LinkTypeOf returns the link type a capture on dev delivers, to compile
// its filter for; it must be called in the device's network namespace.
func LinkTypeOf(dev Device) (spec.LinkType, error) {
	ifc, err := lookup(dev)
	if err != nil {
		return 0, fmt.Errorf("capture %s: %w", dev, err)
	}
	return ifc.linkType, nil
}
