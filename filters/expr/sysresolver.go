package expr

import (
	"bufio"
	"context"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"
)

// SystemResolver returns a Resolver that answers from the host's name
// services, as libpcap does: host names through the system resolver
// (/etc/hosts, DNS), Ethernet host names from /etc/ethers, network names
// from /etc/networks. Results then depend on the host; leave
// Options.Resolver nil to refuse names instead.
func SystemResolver() Resolver { return sysResolver{} }

type sysResolver struct{}

// LookupHost resolves a host name to its IPv4 and IPv6 addresses.
func (sysResolver) LookupHost(name string) ([]netip.Addr, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return net.DefaultResolver.LookupNetIP(ctx, "ip", name)
}

// LookupEther finds name in /etc/ethers.
func (sysResolver) LookupEther(name string) ([6]byte, bool) {
	var out [6]byte
	found := false
	scanFile("/etc/ethers", func(f []string) bool {
		if len(f) >= 2 && strings.EqualFold(f[1], name) {
			if e, ok := parseMAC(f[0]); ok {
				out, found = e, true
				return true
			}
		}
		return false
	})
	return out, found
}

// LookupNet finds name (or an alias) in /etc/networks and returns its
// number as inet_network(3) does (right-aligned: "10.20" is 0x0a14).
func (sysResolver) LookupNet(name string) (uint32, bool) {
	var out uint32
	found := false
	scanFile("/etc/networks", func(f []string) bool {
		if len(f) < 2 {
			return false
		}
		match := strings.EqualFold(f[0], name)
		for _, a := range f[2:] {
			match = match || strings.EqualFold(a, name)
		}
		if !match {
			return false
		}
		var v uint32
		parts := strings.Split(f[1], ".")
		if len(parts) > 4 {
			return false
		}
		for _, p := range parts {
			n, msg := parseNum(p)
			if msg != "" || p == "" || n > 255 {
				return false
			}
			v = v<<8 | n
		}
		out, found = v, true
		return true
	})
	return out, found
}

// scanFile calls fn with the fields of each non-comment line of path until
// fn returns true.
func scanFile(path string, fn func([]string) bool) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := s.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		if fn(strings.Fields(line)) {
			return
		}
	}
}
