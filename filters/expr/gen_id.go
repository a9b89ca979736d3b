package expr

import (
	"net/netip"
	"strconv"
	"strings"
)

// Code generation: identifiers with their qualifiers (libpcap's gen_scode,
// gen_ncode, gen_mcode and gen_mcode6), dispatched by token kind.

// prim generates an identifier with its qualifiers.
func (g *gen) prim(n *nPrim) pred {
	q := n.q
	if q.addr == qUndef || q.proto == qUndef {
		g.fail("syntax error: %q needs a qualifier such as host, net or port", n.s)
	}
	switch n.kind {
	case tHID:
		if n.plen >= 0 || n.mask != "" {
			what := "prefix length"
			if n.mask != "" {
				what = "netmask"
			}
			switch q.addr {
			case aPort, aPortrange, aProto, aProtochain:
				g.fail("'%s' qualifier applied to IPv4 address and %s", addrQualName(q.addr), what)
			}
			return g.ipv4NetMask(n)
		}
		switch q.addr {
		case aPort, aPortrange, aProto, aProtochain:
			g.fail("'%s' qualifier applied to IPv4 address", addrQualName(q.addr))
		}
		return g.dottedID(n.s, 0, q)
	case tHID6:
		plen := 128
		if n.plen >= 0 {
			plen = n.plen
			switch q.addr {
			case aPort, aPortrange, aProto, aProtochain:
				g.fail("'%s' qualifier applied to IPv6 address and prefix length", addrQualName(q.addr))
			}
		} else {
			switch q.addr {
			case aPort, aPortrange, aProto, aProtochain:
				g.fail("'%s' qualifier applied to IPv6 address", addrQualName(q.addr))
			}
		}
		return g.ipv6Net(n.s, plen, q)
	case tNum:
		return g.numberID(n.num, q)
	case tEID:
		return g.macID(n.s, q)
	case tAID:
		return g.arcnetID(n.s, q)
	}
	return g.nameID(n.s, q)
}

// parseIPv4Prefix parses a dotted IPv4 address of 1 to 4 parts (each a
// decimal, hex or octal number) and returns it right-aligned with its
// length in bits (libpcap's __pcap_atoin).
func parseIPv4Prefix(s string) (uint32, int, bool) {
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return 0, 0, false
	}
	var v uint32
	for _, p := range parts {
		n, msg := parseNum(p)
		if msg != "" || p == "" || n > 255 {
			return 0, 0, false
		}
		v = v<<8 | n
	}
	return v, 8 * len(parts), true
}

// ipv4NetMask generates an IPv4 network given with "mask" or a /length
// (libpcap's gen_mcode).
func (g *gen) ipv4NetMask(n *nPrim) pred {
	q := n.q
	if q.proto == pDECNET {
		a := q.addr
		if a == qDefault {
			a = aHost
		}
		g.invalidQual("decnet", addrQualName(a))
	}
	v, nlen, ok := parseIPv4Prefix(n.s)
	if !ok {
		g.fail("invalid IPv4 address '%s'", n.s)
	}
	v <<= 32 - uint(nlen)
	var m uint32
	var idstr string
	if n.mask != "" {
		mv, mlen, ok := parseIPv4Prefix(n.mask)
		if !ok {
			g.fail("invalid IPv4 address '%s'", n.mask)
		}
		m = mv << (32 - uint(mlen))
		idstr = n.s + " mask " + n.mask
	} else {
		if n.plen > 32 {
			g.fail("netmask length %d greater than maximum 32", n.plen)
		}
		m = uint32(uint64(0xffffffff) << (32 - uint(n.plen)))
		idstr = n.s + "/" + strconv.Itoa(n.plen)
	}
	if v&^m != 0 {
		g.fail("non-network bits set in \"%s\"", idstr)
	}
	if q.addr != aNet {
		g.invalidQual(addrQualName(q.addr), idstr)
	}
	return g.ipv4Host([]uint32{v}, []uint32{m}, q.proto, q.dir, false, "net <IPv4 prefix>")
}

// numberID generates a plain number with its qualifiers (libpcap's
// gen_ncode with no string).
func (g *gen) numberID(v uint32, q qual) pred {
	if q.proto == pDECNET {
		g.assertNonWLANDir(q.dir)
		if q.addr != qDefault && q.addr != aHost {
			g.invalidQual("decnet", addrQualName(q.addr))
		}
		g.fail("invalid DECnet address '%d'", v)
	}
	return g.numericID("", v, 32, q, strconv.FormatUint(uint64(v), 10))
}

// dottedID generates a dotted number ("10.1") with its qualifiers
// (libpcap's gen_ncode with the string).
func (g *gen) dottedID(s string, v uint32, q qual) pred {
	if q.proto == pDECNET {
		return g.decnetHost(s, q)
	}
	v, vlen, ok := parseIPv4Prefix(s)
	if !ok {
		g.fail("invalid IPv4 address '%s'", s)
	}
	return g.numericID(s, v, vlen, q, s)
}

// numericID generates a numeric identifier (an IPv4 address or network,
// a port, a protocol number) with its qualifiers (libpcap's gen_ncode);
// idstr is the identifier as messages show it.
func (g *gen) numericID(s string, v uint32, vlen int, q qual, idstr string) pred {
	if q.proto == pDECNET {
		if s == "" {
			g.fail("invalid DECnet address '%d'", v)
		}
	}
	switch q.addr {
	case qDefault, aHost, aNet:
		if q.proto == pLink {
			g.fail("illegal link-layer address '%s'", idstr)
		}
		mask := uint32(0xffffffff)
		if s == "" && q.addr == aNet {
			for v != 0 && v&0xff000000 == 0 {
				v <<= 8
				mask <<= 8
			}
		} else {
			v <<= 32 - uint(vlen)
			mask <<= 32 - uint(vlen)
		}
		ctx := "host <IPv4 address>"
		if q.addr == aNet {
			ctx = "net <IPv4 address>"
		}
		return g.ipv4Host([]uint32{v}, []uint32{mask}, q.proto, q.dir, false, ctx)
	case aPort, aPortrange:
		proto := g.portProto(q.proto, addrQualName(q.addr))
		g.assertMax("port number", v, 0xffff)
		b := g.port(uint16(v), proto, q.dir, q.addr)
		b6 := g.port6(uint16(v), proto, q.dir, q.addr)
		return or(b6, b)
	case aProto:
		return g.proto(v, q.proto)
	case aProtochain:
		return g.protochain(v, q.proto)
	}
	g.invalidQual(addrQualName(q.addr), idstr)
	return pred{}
}

// ipv6Net generates an IPv6 address or prefix with its qualifiers
// (libpcap's gen_mcode6).
func (g *gen) ipv6Net(s string, plen int, q qual) pred {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is6() {
		g.fail("'%s' is not a valid IPv6 address", s)
	}
	if plen > 128 {
		g.fail("mask length must be <= 128")
	}
	addr := a.As16()
	var mask [16]byte
	for i := 0; i < plen/8; i++ {
		mask[i] = 0xff
	}
	if plen%8 != 0 {
		mask[plen/8] = byte(0xff << (8 - plen%8))
	}
	for i := range addr {
		if addr[i]&^mask[i] != 0 {
			g.fail("non-network bits set in \"%s/%d\"", s, plen)
		}
	}
	buf := s
	if plen != 128 {
		buf = s + "/" + strconv.Itoa(plen)
	}
	switch q.addr {
	case qDefault, aHost:
		if plen != 128 {
			g.invalidQual("host", buf)
		}
		return g.ipv6Host([][16]byte{addr}, [][16]byte{mask}, q.proto, q.dir, false, "host <IPv6 address>")
	case aNet:
		return g.ipv6Host([][16]byte{addr}, [][16]byte{mask}, q.proto, q.dir, false, "net <IPv6 prefix>")
	}
	g.invalidQual(addrQualName(q.addr), buf)
	return pred{}
}

// nameID generates a name (host, network, service, protocol) with its
// qualifiers (libpcap's gen_scode).
func (g *gen) nameID(name string, q qual) pred {
	if q.proto == pDECNET {
		a := q.addr
		if a == qDefault {
			a = aHost
		}
		g.invalidQual("decnet", addrQualName(a))
	}
	switch q.addr {
	case aNet:
		addr, ok := g.resolveNet(name)
		if !ok || addr == 0 {
			g.fail("unknown network '%s'", name)
		}
		mask := uint32(0xffffffff)
		for addr != 0 && addr&0xff000000 == 0 {
			addr <<= 8
			mask <<= 8
		}
		return g.ipv4Host([]uint32{addr}, []uint32{mask}, q.proto, q.dir, false, "net <IPv4 network name>")
	case qDefault, aHost:
		if q.proto == pLink {
			return g.mac48ByName(name, q.dir, "link host NAME")
		}
		return g.hostByName(name, q.proto, q.proto, q.dir, false)
	case aPort:
		g.portProto(q.proto, "port")
		pe, ok := serviceTable[name]
		if !ok {
			g.fail("unknown port '%s'", name)
		}
		real := g.checkPortProto(q.proto, pe.proto, "port '"+name+"'")
		b := g.port(uint16(pe.port), real, q.dir, q.addr)
		b6 := g.port6(uint16(pe.port), real, q.dir, q.addr)
		return or(b6, b)
	case aPortrange:
		g.portProto(q.proto, "portrange")
		p1, p2, rp := g.portrangeOf(name)
		real := g.checkPortProto(q.proto, rp, "port in range '"+name+"'")
		b := g.portrange(p1, p2, real, q.dir)
		b6 := g.portrange6(p1, p2, real, q.dir)
		return or(b6, b)
	case aGateway:
		return g.gateway(name, q.proto)
	case aProto:
		return g.proto(g.lookupProto(name, q), q.proto)
	case aProtochain:
		return g.protochain(g.lookupProto(name, q), q.proto)
	}
	g.invalidQual(addrQualName(q.addr), name)
	return pred{}
}
