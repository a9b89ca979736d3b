package expr

import (
	"errors"
	"net/netip"
	"strings"
)

// testResolver answers the host, ethers and networks names of libpcap's
// test suite (the fixture tables of testprogs/TESTrun, BSD licence), so the
// corpus cases that use names compile without touching /etc.
type testResolver struct{}

const testHosts = `10.20.30.40 noeth-ipv4-noipv6.host123.libpcap.test
10.20.30.40 noeth-ipv4-ipv6.host123.libpcap.test
10.20.30.40 eth-ipv4-noipv6.host123.libpcap.test
10.20.30.40 eth-ipv4-ipv6.host123.libpcap.test
fd00:a1b2:c3d4::1020:3040:5060:7080 noeth-noipv4-ipv6.host123.libpcap.test
fd00:a1b2:c3d4::1020:3040:5060:7080 noeth-ipv4-ipv6.host123.libpcap.test
fd00:a1b2:c3d4::1020:3040:5060:7080 eth-noipv4-ipv6.host123.libpcap.test
fd00:a1b2:c3d4::1020:3040:5060:7080 eth-ipv4-ipv6.host123.libpcap.test
192.168.243.1 eth-ipv4x4-noipv6.host357.libpcap.test
192.168.242.4 eth-ipv4x4-noipv6.host357.libpcap.test
192.168.244.2 eth-ipv4x4-noipv6.host357.libpcap.test
192.168.241.3 eth-ipv4x4-noipv6.host357.libpcap.test
192.168.241.3 eth-ipv4x4-ipv6x2.host357.libpcap.test
192.168.244.2 eth-ipv4x4-ipv6x2.host357.libpcap.test
192.168.242.4 eth-ipv4x4-ipv6x2.host357.libpcap.test
192.168.243.1 eth-ipv4x4-ipv6x2.host357.libpcap.test
fd00:a1b2:c3d4::a0b0:c0d0:e0f0:1278 eth-noipv4-ipv6x2.host357.libpcap.test
fd00:a1b2:c3d4::a0b0:c0d0:e0f0:3456 eth-noipv4-ipv6x2.host357.libpcap.test
fd00:a1b2:c3d4::a0b0:c0d0:e0f0:3456 eth-ipv4x4-ipv6x2.host357.libpcap.test
fd00:a1b2:c3d4::a0b0:c0d0:e0f0:1278 eth-ipv4x4-ipv6x2.host357.libpcap.test`

const testEthers = `aa:00:04:00:14:0e eth-noipv4-noipv6.host123.libpcap.test
aa:00:04:00:14:0e eth-noipv4-ipv6.host123.libpcap.test
aa:00:04:00:14:0e eth-ipv4-noipv6.host123.libpcap.test
aa:00:04:00:14:0e eth-ipv4-ipv6.host123.libpcap.test
aa:00:04:00:01:08 eth-ipv4x4-noipv6.host357.libpcap.test
aa:00:04:00:01:08 eth-noipv4-ipv6x2.host357.libpcap.test
aa:00:04:00:01:08 eth-ipv4x4-ipv6x2.host357.libpcap.test`

var testNets = map[string]uint32{
	"net-10-0-0-0.libpcap.test":   0x0a000000,
	"net-10-20-0-0.libpcap.test":  0x0a140000,
	"net-10-20-30-0.libpcap.test": 0x0a141e00,
}

func (testResolver) LookupHost(name string) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, l := range strings.Split(testHosts, "\n") {
		f := strings.Fields(l)
		if strings.EqualFold(f[1], name) {
			out = append(out, netip.MustParseAddr(f[0]))
		}
	}
	if len(out) == 0 {
		return nil, errors.New("unknown host")
	}
	return out, nil
}

func (testResolver) LookupEther(name string) ([6]byte, bool) {
	for _, l := range strings.Split(testEthers, "\n") {
		f := strings.Fields(l)
		if strings.EqualFold(f[1], name) {
			e, _ := parseMAC(f[0])
			return e, true
		}
	}
	return [6]byte{}, false
}

func (testResolver) LookupNet(name string) (uint32, bool) {
	v, ok := testNets[strings.ToLower(name)]
	return v, ok
}
