package expr

import (
	"net/netip"
	"sort"

	"github.com/wringcap/wring/spec"
)

// Code generation: IPv4 and IPv6 host, network and gateway primitives.

// ipv4HostTest tests an IPv4 address under a mask in the given direction,
// the source at srcOff and the destination at dstOff (libpcap's
// gen_hostop).
func (g *gen) ipv4HostTest(addr, mask uint32, dir int, srcOff, dstOff uint32) pred {
	switch dir {
	case dSrc:
		return g.cmpMasked(orLinkPL, srcOff, spec.SizeW, addr, mask)
	case dDst:
		return g.cmpMasked(orLinkPL, dstOff, spec.SizeW, addr, mask)
	case dAnd:
		return and(g.ipv4HostTest(addr, mask, dSrc, srcOff, dstOff), g.ipv4HostTest(addr, mask, dDst, srcOff, dstOff))
	}
	return or(g.ipv4HostTest(addr, mask, dSrc, srcOff, dstOff), g.ipv4HostTest(addr, mask, dDst, srcOff, dstOff))
}

// ipv6HostTest tests an IPv6 address under a mask in the given direction
// (libpcap's gen_hostop6).
func (g *gen) ipv6HostTest(addr, mask [16]byte, dir int) pred {
	var off uint32
	switch dir {
	case dSrc:
		off = 8
	case dDst:
		off = 24
	case dAnd:
		return and(g.ipv6HostTest(addr, mask, dSrc), g.ipv6HostTest(addr, mask, dDst))
	default:
		return or(g.ipv6HostTest(addr, mask, dSrc), g.ipv6HostTest(addr, mask, dDst))
	}
	b1 := g.gtrue()
	for i := 3; i >= 0; i-- {
		a := uint32(addr[4*i])<<24 | uint32(addr[4*i+1])<<16 | uint32(addr[4*i+2])<<8 | uint32(addr[4*i+3])
		m := uint32(mask[4*i])<<24 | uint32(mask[4*i+1])<<16 | uint32(mask[4*i+2])<<8 | uint32(mask[4*i+3])
		b0 := g.cmpMasked(orLinkPL, off+4*uint32(i), spec.SizeW, a, m)
		b1 = and(b0, b1)
	}
	return b1
}

// ipv4Host generates IPv4 host or network tests for a protocol qualifier
// (libpcap's gen_host).
func (g *gen) ipv4Host(a, m []uint32, proto, dir int, negate bool, ctx string) pred {
	g.assertNonWLANDir(dir)
	var llproto, src, dst uint32
	switch proto {
	case qDefault:
		b0 := g.ipv4Host(a, m, pIP, dir, negate, ctx)
		if g.labelDepth == 0 {
			b1 := g.ipv4Host(a, m, pARP, dir, negate, ctx)
			b1 = or(b0, b1)
			b0 = g.ipv4Host(a, m, pRARP, dir, negate, ctx)
			b0 = or(b1, b0)
		}
		return b0
	case pIP:
		llproto, src, dst = etIP, 12, 16
	case pRARP:
		llproto, src, dst = etREVARP, 14, 24
	case pARP:
		llproto, src, dst = etARP, 14, 24
	default:
		g.invalidQual(protoQualName(proto), ctx)
	}
	b0 := g.linktypeTest(llproto)
	if b0.meaning == isFalse {
		return b0
	}
	b1 := g.gfalse()
	for i := range a {
		b1 = or(b1, g.ipv4HostTest(a[i], m[i], dir, src, dst))
	}
	if negate {
		b1 = not(b1)
	}
	return and(b0, b1)
}

// ipv6Host generates IPv6 host or network tests for a protocol qualifier
// (libpcap's gen_host6).
func (g *gen) ipv6Host(a, m [][16]byte, proto, dir int, negate bool, ctx string) pred {
	g.assertNonWLANDir(dir)
	if proto != qDefault && proto != pIPv6 {
		g.invalidQual(protoQualName(proto), ctx)
	}
	lp := g.linktypeTest(etIPv6)
	h := g.gfalse()
	for i := range a {
		h = or(h, g.ipv6HostTest(a[i], m[i], dir))
	}
	if negate {
		h = not(h)
	}
	return and(lp, h)
}

// hostByName resolves a host name through the caller's resolver.
func (g *gen) hostByName(name string, proto4, proto6, dir int, negate bool) pred {
	const ctx = "host <Internet hostname>"
	addrs := g.resolveHost(name)
	var v4 []uint32
	var v6 [][16]byte
	for _, a := range addrs {
		if a.Is4() || a.Is4In6() {
			b := a.Unmap().As4()
			v4 = append(v4, uint32(b[0])<<24|uint32(b[1])<<16|uint32(b[2])<<8|uint32(b[3]))
		} else {
			v6 = append(v6, a.As16())
		}
	}
	var ret *pred
	if proto4 != pIPv6 && len(v4) > 0 {
		sort.Slice(v4, func(i, j int) bool { return v4[i] < v4[j] })
		m := make([]uint32, len(v4))
		for i := range m {
			m[i] = 0xffffffff
		}
		p := g.ipv4Host(v4, m, proto4, dir, negate, ctx)
		ret = &p
	}
	if proto6 != pARP && proto6 != pIP && proto6 != pRARP && len(v6) > 0 {
		sort.Slice(v6, func(i, j int) bool { return string(v6[i][:]) < string(v6[j][:]) })
		m := make([][16]byte, len(v6))
		for i := range m {
			for k := range m[i] {
				m[i][k] = 0xff
			}
		}
		p := g.ipv6Host(v6, m, proto6, dir, negate, ctx)
		if ret != nil {
			p = or(*ret, p)
		}
		ret = &p
	}
	if ret == nil {
		if proto4 == qDefault {
			g.fail("unknown host '%s'", name)
		}
		g.fail("unknown host '%s' for specified address family", name)
	}
	return *ret
}

func (g *gen) resolveHost(name string) []netip.Addr {
	if g.opts.Resolver == nil {
		e := g.valueAt().errf("cannot resolve host name '%s': name resolution is off", name)
		e.Err = ErrNoResolver
		panic(genError{e})
	}
	addrs, err := g.opts.Resolver.LookupHost(name)
	if err != nil || len(addrs) == 0 {
		g.fail("unknown host '%s'", name)
	}
	return addrs
}

func (g *gen) resolveNet(name string) (uint32, bool) {
	if g.opts.Resolver == nil {
		e := g.valueAt().errf("cannot resolve network name '%s': name resolution is off", name)
		e.Err = ErrNoResolver
		panic(genError{e})
	}
	return g.opts.Resolver.LookupNet(name)
}

func (g *gen) gateway(name string, proto int) pred {
	switch proto {
	case qDefault, pIP, pARP, pRARP:
	default:
		g.invalidQual(protoQualName(proto), "gateway")
	}
	if g.labelDepth > 0 {
		g.fail("'gateway' cannot be used within MPLS")
	}
	if g.isEncap {
		g.fail("'gateway' cannot be used within VXLAN or Geneve")
	}
	b0 := g.mac48ByName(name, dOr, "gateway")
	b1 := g.hostByName(name, proto, pIP, dOr, true)
	return and(b0, b1)
}
