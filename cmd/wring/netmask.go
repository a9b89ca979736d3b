package main

import (
	"encoding/binary"
	"net"
)

// interfaceNetmask returns the IPv4 netmask of the interface's first IPv4
// address, which "ip broadcast" needs, as tcpdump gets it from
// pcap_lookupnet. Like tcpdump, an interface without an IPv4 address gets
// netmask 0 (so "ip broadcast" matches 0.0.0.0 and 255.255.255.255).
func interfaceNetmask(name string) uint32 {
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		return 0
	}
	addrs, err := ifi.Addrs()
	if err != nil {
		return 0
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && len(n.Mask) == net.IPv4len {
			return binary.BigEndian.Uint32(n.Mask)
		}
	}
	return 0
}
