package expr

import (
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/wringcap/wring/spec"
)

// Host, network and link-layer address primitives.

func (g *gen) hostop(addr, mask uint32, dir int, srcOff, dstOff uint32) pred {
	switch dir {
	case dSrc:
		return g.mcmp(orLinkPL, srcOff, spec.SizeW, addr, mask)
	case dDst:
		return g.mcmp(orLinkPL, dstOff, spec.SizeW, addr, mask)
	case dAnd:
		return and(g.hostop(addr, mask, dSrc, srcOff, dstOff), g.hostop(addr, mask, dDst, srcOff, dstOff))
	}
	return or(g.hostop(addr, mask, dSrc, srcOff, dstOff), g.hostop(addr, mask, dDst, srcOff, dstOff))
}

func (g *gen) hostop6(addr, mask [16]byte, dir int) pred {
	var off uint32
	switch dir {
	case dSrc:
		off = 8
	case dDst:
		off = 24
	case dAnd:
		return and(g.hostop6(addr, mask, dSrc), g.hostop6(addr, mask, dDst))
	default:
		return or(g.hostop6(addr, mask, dSrc), g.hostop6(addr, mask, dDst))
	}
	b1 := g.gtrue()
	for i := 3; i >= 0; i-- {
		a := uint32(addr[4*i])<<24 | uint32(addr[4*i+1])<<16 | uint32(addr[4*i+2])<<8 | uint32(addr[4*i+3])
		m := uint32(mask[4*i])<<24 | uint32(mask[4*i+1])<<16 | uint32(mask[4*i+2])<<8 | uint32(mask[4*i+3])
		b0 := g.mcmp(orLinkPL, off+4*uint32(i), spec.SizeW, a, m)
		b1 = and(b0, b1)
	}
	return b1
}

func (g *gen) host(a, m []uint32, proto, dir int, negate bool, ctx string) pred {
	g.assertNonWLANDir(dir)
	var llproto, src, dst uint32
	switch proto {
	case qDefault:
		b0 := g.host(a, m, pIP, dir, negate, ctx)
		if g.labelDepth == 0 {
			b1 := g.host(a, m, pARP, dir, negate, ctx)
			b1 = or(b0, b1)
			b0 = g.host(a, m, pRARP, dir, negate, ctx)
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
		g.invalidQual(pqkw(proto), ctx)
	}
	b0 := g.linktypeTest(llproto)
	if b0.meaning == isFalse {
		return b0
	}
	b1 := g.gfalse()
	for i := range a {
		b1 = or(b1, g.hostop(a[i], m[i], dir, src, dst))
	}
	if negate {
		b1 = not(b1)
	}
	return and(b0, b1)
}

func (g *gen) host6(a, m [][16]byte, proto, dir int, negate bool, ctx string) pred {
	g.assertNonWLANDir(dir)
	if proto != qDefault && proto != pIPv6 {
		g.invalidQual(pqkw(proto), ctx)
	}
	lp := g.linktypeTest(etIPv6)
	h := g.gfalse()
	for i := range a {
		h = or(h, g.hostop6(a[i], m[i], dir))
	}
	if negate {
		h = not(h)
	}
	return and(lp, h)
}

// host46ByName resolves a host name through the caller's resolver.
func (g *gen) host46ByName(name string, proto4, proto6, dir int, negate bool) pred {
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
		p := g.host(v4, m, proto4, dir, negate, ctx)
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
		p := g.host6(v6, m, proto6, dir, negate, ctx)
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

func (g *gen) mac48Linktype(lt spec.LinkType) bool {
	switch lt {
	case ltEN10MB, ltFDDI, ltIEEE802, ltIEEE80211, ltRadiotap, ltAVS, ltIPOverFC, ltNetAnalyzer,
		ltNetAnalyzerTr, ltPPI, ltPrism:
		return true
	}
	return g.dsa(lt)
}

func (g *gen) mac48host(e [6]byte, dir int, kw string) pred {
	var b1 *pred
	var src, dst uint32
	switch lt := g.linktype; {
	case g.ethernetLike(lt):
		b1 = g.prevLinkHdrCheck()
		src, dst = 6, 0
	case lt == ltFDDI:
		src, dst = 7, 1
	case lt == ltIEEE802:
		src, dst = 8, 2
	case is80211(lt):
		return g.wlanhostop(e, dir)
	case lt == ltIPOverFC:
		src, dst = 10, 2
	default:
		g.failKwOnDLT(kw)
	}
	g.assertNonWLANDir(dir)
	var b0 pred
	switch dir {
	case dSrc:
		b0 = g.bcmp(orLinkHdr, src, e[:])
	case dDst:
		b0 = g.bcmp(orLinkHdr, dst, e[:])
	case dAnd:
		t := g.bcmp(orLinkHdr, src, e[:])
		b0 = and(t, g.bcmp(orLinkHdr, dst, e[:]))
	default:
		t := g.bcmp(orLinkHdr, src, e[:])
		b0 = or(t, g.bcmp(orLinkHdr, dst, e[:]))
	}
	if b1 != nil {
		return and(*b1, b0)
	}
	return b0
}

func (g *gen) wlanSet(off uint32, bits uint32) pred {
	return g.jsetTest(orLinkHdr, off, spec.SizeB, bits)
}

func (g *gen) wlanhostop(e [6]byte, dir int) pred {
	bc := func(off uint32) pred { return g.bcmp(orLinkHdr, off, e[:]) }
	switch dir {
	case dSrc, dDst:
		a1, a2, a3 := uint32(24), uint32(16), uint32(10) // src: DS-to-DS addr4, ToDS addr3, else addr2
		if dir == dDst {
			a1, a2, a3 = 16, 4, 4
		}
		b1 := g.wlanSet(1, 0x01)
		b0 := and(b1, bc(a1))
		b2 := not(g.wlanSet(1, 0x01))
		b1 = and(b2, bc(a2))
		b0 = or(b1, b0)
		if dir == dSrc {
			b1 = g.wlanSet(1, 0x02)
			b0 = and(b1, b0)
			b2 = not(g.wlanSet(1, 0x02))
			b1 = and(b2, bc(a3))
			b0 = or(b1, b0)
		}
		b1 = g.wlanSet(0, 0x08)
		b0 = and(b1, b0)
		b2 = not(g.wlanSet(0, 0x08))
		b1 = and(b2, bc(a3))
		b0 = or(b1, b0)
		b1 = not(g.wlanSet(0, 0x04))
		return and(b1, b0)
	case dAnd:
		return and(g.wlanhostop(e, dSrc), g.wlanhostop(e, dDst))
	case qDefault, dOr:
		return or(g.wlanhostop(e, dSrc), g.wlanhostop(e, dDst))
	case dAddr1:
		return bc(4)
	case dAddr2, dTA:
		b0 := not(g.mcmp(orLinkHdr, 0, spec.SizeB, 0x04, 0x0c))
		b1 := not(g.mcmp(orLinkHdr, 0, spec.SizeB, 0xc0, 0xf0))
		b2 := not(g.mcmp(orLinkHdr, 0, spec.SizeB, 0xd0, 0xf0))
		b2 = and(b1, b2)
		b2 = or(b0, b2)
		if dir == dTA {
			b1 = g.wlanSet(0, 0x08)
			b2 = and(b1, b2)
		}
		return and(b2, bc(10))
	case dAddr3:
		b0 := not(g.mcmp(orLinkHdr, 0, spec.SizeB, 0x04, 0x0c))
		return and(b0, bc(16))
	case dAddr4:
		b0 := g.mcmp(orLinkHdr, 1, spec.SizeB, 0x03, 0x03)
		return and(b0, bc(24))
	case dRA:
		b1 := g.wlanSet(0, 0x08)
		return and(b1, bc(4))
	}
	g.internal("wlanhostop dir %d", dir)
	return pred{}
}

func (g *gen) mac8host(v uint32, dir int, ctx string) pred {
	var src, dst uint32
	switch g.linktype {
	case ltArcnet, ltArcnetLinux:
		src, dst = 0, 1
	case ltBACnet:
		if g.opts.Libpcap110 {
			// libpcap 1.10 has 8-bit addresses on ARCnet only.
			g.failUnsupported("aid supported only on ARCnet")
		}
		src, dst = 4, 3
	default:
		g.failKwOnDLT(ctx)
	}
	switch dir {
	case dSrc:
		return g.cmp(orLinkHdr, src, spec.SizeB, v)
	case dDst:
		return g.cmp(orLinkHdr, dst, spec.SizeB, v)
	case dAnd:
		s := g.cmp(orLinkHdr, src, spec.SizeB, v)
		return and(s, g.cmp(orLinkHdr, dst, spec.SizeB, v))
	}
	s := g.cmp(orLinkHdr, src, spec.SizeB, v)
	return or(s, g.cmp(orLinkHdr, dst, spec.SizeB, v))
}

// parseMAC parses the Ethernet address forms the scanner accepts.
func parseMAC(s string) ([6]byte, bool) {
	var e [6]byte
	var groups []string
	switch {
	case strings.Count(s, ":") == 5:
		groups = strings.Split(s, ":")
	case strings.Count(s, "-") == 5:
		groups = strings.Split(s, "-")
	case strings.Count(s, ".") == 5:
		groups = strings.Split(s, ".")
	case strings.Count(s, ".") == 2 && len(s) == 14:
		t := strings.ReplaceAll(s, ".", "")
		for i := 0; i < 6; i++ {
			groups = append(groups, t[2*i:2*i+2])
		}
	case len(s) == 12:
		for i := 0; i < 6; i++ {
			groups = append(groups, s[2*i:2*i+2])
		}
	default:
		return e, false
	}
	for i, gs := range groups {
		v, err := strconv.ParseUint(gs, 16, 8)
		if err != nil || gs == "" || len(gs) > 2 {
			return e, false
		}
		e[i] = byte(v)
	}
	return e, true
}

func (g *gen) ecode(s string, q qual) pred {
	const ctx = "link host XX:XX:XX:XX:XX:XX"
	if !((q.addr == aHost || q.addr == qDefault) && q.proto == pLink) {
		g.fail("Ethernet address used in non-ether expression")
	}
	if !g.mac48Linktype(g.linktype) {
		g.failKwOnDLT(ctx)
	}
	e, ok := parseMAC(s)
	if !ok {
		g.fail("invalid MAC-48 address '%s'", s)
	}
	return g.mac48host(e, q.dir, ctx)
}

func (g *gen) acode(s string, q qual) pred {
	g.assertNonWLANDir(q.dir)
	if q.addr != aHost && q.addr != qDefault {
		g.invalidQual(tqkw(q.addr), "$XX")
	}
	if q.proto != pLink {
		g.fail("'link' is the only valid proto qualifier for 'host $XX'")
	}
	v, ok := parseMAC8(s)
	if !ok {
		g.fail("invalid MAC-8 address '%s'", s)
	}
	return g.mac8host(uint32(v), q.dir, "link host $XX")
}

func (g *gen) mac48ByName(name string, dir int, ctx string) pred {
	if !g.mac48Linktype(g.linktype) {
		g.failKwOnDLT(ctx)
	}
	var e [6]byte
	ok := false
	if g.opts.Resolver != nil {
		e, ok = g.opts.Resolver.LookupEther(name)
	} else {
		x := g.valueAt().errf("cannot resolve Ethernet host name '%s': name resolution is off", name)
		x.Err = ErrNoResolver
		panic(genError{x})
	}
	if !ok {
		g.fail("unknown Ethernet-like host '%s'", name)
	}
	return g.mac48host(e, dir, ctx)
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
		g.invalidQual(pqkw(proto), "gateway")
	}
	if g.labelDepth > 0 {
		g.fail("'gateway' cannot be used within MPLS")
	}
	if g.isEncap {
		g.fail("'gateway' cannot be used within VXLAN or Geneve")
	}
	b0 := g.mac48ByName(name, dOr, "gateway")
	b1 := g.host46ByName(name, proto, pIP, dOr, true)
	return and(b0, b1)
}

func (g *gen) dnhost(s string, q qual) pred {
	g.assertNonWLANDir(q.dir)
	if q.addr != qDefault && q.addr != aHost {
		g.invalidQual("decnet", tqkw(q.addr))
	}
	addr, ok := parseDECnet(s)
	if !ok {
		g.fail("invalid DECnet address '%s'", s)
	}
	b0 := g.linktypeTest(etDN)
	return and(b0, g.dnhostop(uint32(addr), q.dir))
}

// parseDECnet parses a DECnet address "area.node" (area 0-63, node
// 0-1023, decimal) into its 16-bit form.
func parseDECnet(s string) (uint16, bool) {
	area, node, ok := strings.Cut(s, ".")
	if !ok || area == "" || node == "" || strings.Contains(node, ".") {
		return 0, false
	}
	a, e1 := strconv.ParseUint(area, 10, 32)
	n, e2 := strconv.ParseUint(node, 10, 32)
	if e1 != nil || e2 != nil || a > 63 || n > 1023 {
		return 0, false
	}
	return uint16(a<<10 | n), true
}

// parseMAC8 parses an ARCnet (MAC-8) address "$xx" of one or two hex
// digits.
func parseMAC8(s string) (uint8, bool) {
	if len(s) < 2 || len(s) > 3 || s[0] != '$' {
		return 0, false
	}
	v, err := strconv.ParseUint(s[1:], 16, 8)
	return uint8(v), err == nil
}

func swap16(v uint32) uint32 { return (v&0xff)<<8 | (v>>8)&0xff }

func (g *gen) dnhostop(addr uint32, dir int) pred {
	var offLH, offSH uint32
	switch dir {
	case dDst:
		offSH, offLH = 1, 7
	case dSrc:
		offSH, offLH = 3, 15
	case dAnd:
		return and(g.dnhostop(addr, dSrc), g.dnhostop(addr, dDst))
	default:
		return or(g.dnhostop(addr, dSrc), g.dnhostop(addr, dDst))
	}
	sa := swap16(addr)
	tmp := g.mcmp(orLinkPL, 2, spec.SizeH, 0x8106, 0xff07)
	b1 := g.cmp(orLinkPL, 2+1+offLH, spec.SizeH, sa)
	b1 = and(tmp, b1)
	tmp = g.mcmp(orLinkPL, 2, spec.SizeB, 0x06, 0x07)
	b2 := g.cmp(orLinkPL, 2+offLH, spec.SizeH, sa)
	b2 = and(tmp, b2)
	b1 = or(b2, b1)
	if dir == dDst {
		b2 = g.mcmp(orLinkPL, 2, spec.SizeW, 0x81020000|sa, 0xff07ffff)
	} else {
		tmp = g.mcmp(orLinkPL, 2, spec.SizeH, 0x8102, 0xff07)
		b2 = g.cmp(orLinkPL, 2+1+offSH, spec.SizeH, sa)
		b2 = and(tmp, b2)
	}
	b1 = or(b2, b1)
	if dir == dDst {
		b2 = g.mcmp(orLinkPL, 2, spec.SizeW, 0x02000000|sa<<8, 0x07ffff00)
	} else {
		tmp = g.mcmp(orLinkPL, 2, spec.SizeB, 0x02, 0x07)
		b2 = g.cmp(orLinkPL, 2+offSH, spec.SizeH, sa)
		b2 = and(tmp, b2)
	}
	return or(b2, b1)
}
