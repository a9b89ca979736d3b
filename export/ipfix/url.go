package ipfix

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ParseURL parses an export destination:
//
//	ipfix://HOST:PORT[?KEY=VALUE&...]       UDP
//	ipfix+udp://HOST:PORT[?...]             UDP
//	ipfix+tcp://HOST:PORT[?...]             TCP
//
// HOST is a name, an IPv4 address or a bracketed IPv6 address; PORT is 1
// to 65535. The keys are mtu (bytes, MinMTU to MaxMTU), domain (the
// observation domain id, 0 to 4294967295), template_interval and flush
// (Go durations, e.g. 30s), template_messages and queue (counts). Anything
// else (a user, a path, a fragment, an unknown or repeated key, a bad
// value) is an error that names the part at fault.
func ParseURL(s string) (Config, error) {
	var c Config
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return c, fmt.Errorf("%q: want ipfix://HOST:PORT or ipfix+tcp://HOST:PORT", s)
	}
	switch strings.ToLower(scheme) {
	case "ipfix", "ipfix+udp":
		c.Network = "udp"
	case "ipfix+tcp":
		c.Network = "tcp"
	default:
		return c, fmt.Errorf("%q: scheme %q: want ipfix, ipfix+udp or ipfix+tcp", s, scheme)
	}
	hostport, query, hasQuery := strings.Cut(rest, "?")
	if i := strings.IndexAny(hostport, "/#@"); i >= 0 {
		what := map[byte]string{'/': "a path", '#': "a fragment", '@': "user information"}[hostport[i]]
		return c, fmt.Errorf("%q: %s at column %d: want only HOST:PORT", s, what, len(scheme)+3+i+1)
	}
	if strings.ContainsRune(query, '#') {
		return c, fmt.Errorf("%q: a fragment after the query: not allowed", s)
	}
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return c, fmt.Errorf("%q: address %q: want HOST:PORT (IPv6 in brackets): %v", s, hostport, err)
	}
	if host == "" {
		return c, fmt.Errorf("%q: empty host", s)
	}
	if strings.ContainsAny(host, " \t%") || strings.ContainsRune(host, ':') && net.ParseIP(host) == nil {
		return c, fmt.Errorf("%q: host %q: not a name or an IP address", s, host)
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil || p == 0 {
		return c, fmt.Errorf("%q: port %q: want 1 to 65535", s, port)
	}
	c.Addr = net.JoinHostPort(host, port)
	if !hasQuery {
		return c, nil
	}
	if query == "" {
		return c, fmt.Errorf("%q: empty query after '?'", s)
	}
	seen := map[string]bool{}
	for _, kv := range strings.Split(query, "&") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" || v == "" {
			return c, fmt.Errorf("%q: option %q: want KEY=VALUE", s, kv)
		}
		if uk, err := url.QueryUnescape(k); err != nil || uk != k {
			return c, fmt.Errorf("%q: option key %q: escapes not allowed", s, k)
		}
		if seen[k] {
			return c, fmt.Errorf("%q: option %s given twice", s, k)
		}
		seen[k] = true
		if err := c.set(k, v); err != nil {
			return c, fmt.Errorf("%q: option %s=%s: %w", s, k, v, err)
		}
	}
	return c, nil
}

// set applies one URL option.
func (c *Config) set(k, v string) error {
	count := func(lo, hi uint64) (uint64, error) {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n < lo || n > hi {
			return 0, fmt.Errorf("want an integer from %d to %d", lo, hi)
		}
		return n, nil
	}
	dur := func() (time.Duration, error) {
		d, err := time.ParseDuration(v)
		if err != nil || d < 10*time.Millisecond || d > 24*time.Hour {
			return 0, fmt.Errorf("want a duration from 10ms to 24h (e.g. 30s)")
		}
		return d, nil
	}
	var err error
	var n uint64
	switch k {
	case "mtu":
		n, err = count(MinMTU, MaxMTU)
		c.MTU = int(n)
	case "domain":
		n, err = count(0, 1<<32-1)
		c.Domain = uint32(n)
	case "template_messages":
		n, err = count(1, 1<<20)
		c.TemplateMessages = int(n)
	case "queue":
		n, err = count(1, 1<<16)
		c.Queue = int(n)
	case "template_interval":
		c.TemplateInterval, err = dur()
	case "flush":
		c.FlushInterval, err = dur()
	default:
		return fmt.Errorf("unknown option (want mtu, domain, template_interval, template_messages, flush or queue)")
	}
	return err
}
