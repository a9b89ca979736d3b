package expr

import (
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/wringcap/wring/spec"
)

func pqkw(p int) string {
	if p == qDefault {
		return "default"
	}
	if s, ok := pqualName[p]; ok {
		return s
	}
	return "?"
}
func dqkw(d int) string { return dqualName[d] }
func tqkw(a int) string {
	if a == qDefault {
		return "default"
	}
	return aqualName[a]
}

func (g *gen) invalidQual(a, b string) { g.fail("'%s' is not a valid qualifier for '%s'", a, b) }

func (g *gen) assertNonWLANDir(d int) {
	switch d {
	case dSrc, dDst, dAnd, qDefault, dOr:
		return
	}
	g.fail("'%s' is valid for 802.11 syntax only", dqkw(d))
}

func (g *gen) failKwOnDLT(kw string) {
	g.failUnsupported("'%s' not supported on %s", kw, dltName(g.linktype))
}

// dltName is how libpcap names a link type in messages (DLT_EN10MB).
func dltName(t spec.LinkType) string {
	n := linkName(t)
	if _, err := strconv.Atoi(n); err == nil {
		return "DLT " + n
	}
	return "DLT_" + n
}

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
				g.fail("'%s' qualifier applied to IPv4 address and %s", tqkw(q.addr), what)
			}
			return g.mcode(n)
		}
		switch q.addr {
		case aPort, aPortrange, aProto, aProtochain:
			g.fail("'%s' qualifier applied to IPv4 address", tqkw(q.addr))
		}
		return g.ncode(n.s, 0, q)
	case tHID6:
		plen := 128
		if n.plen >= 0 {
			plen = n.plen
			switch q.addr {
			case aPort, aPortrange, aProto, aProtochain:
				g.fail("'%s' qualifier applied to IPv6 address and prefix length", tqkw(q.addr))
			}
		} else {
			switch q.addr {
			case aPort, aPortrange, aProto, aProtochain:
				g.fail("'%s' qualifier applied to IPv6 address", tqkw(q.addr))
			}
		}
		return g.mcode6(n.s, plen, q)
	case tNum:
		return g.ncodeNum(n.num, q)
	case tEID:
		return g.ecode(n.s, q)
	case tAID:
		return g.acode(n.s, q)
	}
	return g.scode(n.s, q)
}

// atoin parses a dotted IPv4 address of 1 to 4 parts (each a decimal, hex
// or octal number) and returns it right-aligned with its length in bits.
func atoin(s string) (uint32, int, bool) {
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

func (g *gen) mcode(n *nPrim) pred {
	q := n.q
	if q.proto == pDECNET {
		a := q.addr
		if a == qDefault {
			a = aHost
		}
		g.invalidQual("decnet", tqkw(a))
	}
	v, nlen, ok := atoin(n.s)
	if !ok {
		g.fail("invalid IPv4 address '%s'", n.s)
	}
	v <<= 32 - uint(nlen)
	var m uint32
	var idstr string
	if n.mask != "" {
		mv, mlen, ok := atoin(n.mask)
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
		g.invalidQual(tqkw(q.addr), idstr)
	}
	return g.host([]uint32{v}, []uint32{m}, q.proto, q.dir, false, "net <IPv4 prefix>")
}

func (g *gen) ncodeNum(v uint32, q qual) pred {
	if q.proto == pDECNET {
		g.assertNonWLANDir(q.dir)
		if q.addr != qDefault && q.addr != aHost {
			g.invalidQual("decnet", tqkw(q.addr))
		}
		g.fail("invalid DECnet address '%d'", v)
	}
	return g.ncodeCommon("", v, 32, q, strconv.FormatUint(uint64(v), 10))
}

func (g *gen) ncode(s string, v uint32, q qual) pred {
	if q.proto == pDECNET {
		return g.dnhost(s, q)
	}
	v, vlen, ok := atoin(s)
	if !ok {
		g.fail("invalid IPv4 address '%s'", s)
	}
	return g.ncodeCommon(s, v, vlen, q, s)
}

func (g *gen) ncodeCommon(s string, v uint32, vlen int, q qual, idstr string) pred {
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
		return g.host([]uint32{v}, []uint32{mask}, q.proto, q.dir, false, ctx)
	case aPort, aPortrange:
		proto := g.portProto(q.proto, tqkw(q.addr))
		g.assertMax("port number", v, 0xffff)
		b := g.port(uint16(v), proto, q.dir, q.addr)
		b6 := g.port6(uint16(v), proto, q.dir, q.addr)
		return or(b6, b)
	case aProto:
		return g.proto(v, q.proto)
	case aProtochain:
		return g.protochain(v, q.proto)
	}
	g.invalidQual(tqkw(q.addr), idstr)
	return pred{}
}

func (g *gen) portProto(p int, kw string) int {
	switch p {
	case pUDP:
		return ipprotoUDP
	case pTCP:
		return ipprotoTCP
	case pSCTP:
		return ipprotoSCTP
	case qDefault:
		return protoUndef
	}
	g.invalidQual(pqkw(p), kw)
	return 0
}

func (g *gen) mcode6(s string, plen int, q qual) pred {
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
		return g.host6([][16]byte{addr}, [][16]byte{mask}, q.proto, q.dir, false, "host <IPv6 address>")
	case aNet:
		return g.host6([][16]byte{addr}, [][16]byte{mask}, q.proto, q.dir, false, "net <IPv6 prefix>")
	}
	g.invalidQual(tqkw(q.addr), buf)
	return pred{}
}

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
		e := g.at.errf("cannot resolve host name '%s': name resolution is off", name)
		e.Err = ErrNoResolver
		panic(genError{e})
	}
	addrs, err := g.opts.Resolver.LookupHost(name)
	if err != nil || len(addrs) == 0 {
		g.fail("unknown host '%s'", name)
	}
	return addrs
}

func isMAC48Linktype(lt spec.LinkType) bool {
	switch lt {
	case ltEN10MB, ltFDDI, ltIEEE802, ltIEEE80211, ltRadiotap, ltAVS, ltIPOverFC, ltNetAnalyzer,
		ltNetAnalyzerTr, ltDSABRCM, ltDSADSA, ltPPI, ltPrism:
		return true
	}
	return false
}

func (g *gen) mac48host(e [6]byte, dir int, kw string) pred {
	var b1 *pred
	var src, dst uint32
	switch lt := g.linktype; {
	case isEthernetLike(lt):
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
	if !isMAC48Linktype(g.linktype) {
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
	if !isMAC48Linktype(g.linktype) {
		g.failKwOnDLT(ctx)
	}
	var e [6]byte
	ok := false
	if g.opts.Resolver != nil {
		e, ok = g.opts.Resolver.LookupEther(name)
	} else {
		x := g.at.errf("cannot resolve Ethernet host name '%s': name resolution is off", name)
		x.Err = ErrNoResolver
		panic(genError{x})
	}
	if !ok {
		g.fail("unknown Ethernet-like host '%s'", name)
	}
	return g.mac48host(e, dir, ctx)
}

func (g *gen) scode(name string, q qual) pred {
	if q.proto == pDECNET {
		a := q.addr
		if a == qDefault {
			a = aHost
		}
		g.invalidQual("decnet", tqkw(a))
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
		return g.host([]uint32{addr}, []uint32{mask}, q.proto, q.dir, false, "net <IPv4 network name>")
	case qDefault, aHost:
		if q.proto == pLink {
			return g.mac48ByName(name, q.dir, "link host NAME")
		}
		return g.host46ByName(name, q.proto, q.proto, q.dir, false)
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
	g.invalidQual(tqkw(q.addr), name)
	return pred{}
}

var ipprotoName = map[int]string{ipprotoTCP: "tcp", ipprotoUDP: "udp", ipprotoSCTP: "sctp"}

func (g *gen) checkPortProto(pq, real int, what string) int {
	want := map[int]int{pUDP: ipprotoUDP, pTCP: ipprotoTCP, pSCTP: ipprotoSCTP}[pq]
	if want == 0 {
		return real
	}
	if real != protoUndef && real != want {
		g.fail("%s is %s", what, ipprotoName[real])
	}
	return want
}

func (g *gen) resolveNet(name string) (uint32, bool) {
	if g.opts.Resolver == nil {
		e := g.at.errf("cannot resolve network name '%s': name resolution is off", name)
		e.Err = ErrNoResolver
		panic(genError{e})
	}
	return g.opts.Resolver.LookupNet(name)
}

// portOf parses a port number or service name.
func (g *gen) portOf(s string) (uint32, int, bool) {
	if v, msg := parseNum(s); msg == "" && s != "" && isDigit(s[0]) {
		return v, protoUndef, true
	}
	if pe, ok := serviceTable[s]; ok {
		return uint32(pe.port), pe.proto, true
	}
	return 0, 0, false
}

// portrangeOf splits "a-b" (each a number or service name) at the dash
// that makes both halves valid.
func (g *gen) portrangeOf(s string) (uint16, uint16, int) {
	for i := 0; i < len(s); i++ {
		if s[i] != '-' {
			continue
		}
		a, pa, ok1 := g.portOf(s[:i])
		b, pb, ok2 := g.portOf(s[i+1:])
		if !ok1 || !ok2 {
			continue
		}
		g.assertMax("port number", a, 0xffff)
		g.assertMax("port number", b, 0xffff)
		rp := protoUndef
		if pa == pb {
			rp = pa
		} else if pa == protoUndef {
			rp = pb
		} else if pb == protoUndef {
			rp = pa
		}
		return uint16(a), uint16(b), rp
	}
	if a, pa, ok := g.portOf(s); ok {
		g.assertMax("port number", a, 0xffff)
		return uint16(a), uint16(a), pa
	}
	g.fail("unknown port in range '%s'", s)
	return 0, 0, 0
}

func (g *gen) lookupProto(name string, q qual) uint32 {
	var v uint32
	ok := false
	switch q.proto {
	case qDefault, pIP, pIPv6:
		v, ok = ipProtocols[name]
	case pLink:
		if v, ok = etherProtos[name]; !ok {
			v, ok = llcProtos[name]
		}
	case pISO:
		v, ok = map[string]uint32{"esis": isoESIS, "isis": isoISIS, "clnp": isoCLNP}[name]
	}
	if ok {
		return v
	}
	if q.proto == qDefault {
		g.fail("unknown '%s' value '%s'", tqkw(q.addr), name)
	}
	g.fail("unknown '%s %s' value '%s'", pqkw(q.proto), tqkw(q.addr), name)
	return 0
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

func (g *gen) ipProto(p uint32) pred  { return g.cmp(orLinkPL, 9, spec.SizeB, p) }
func (g *gen) ip6Proto(p uint32) pred { return g.cmp(orLinkPL, 6, spec.SizeB, p) }

func (g *gen) ipfrag() pred {
	return not(g.jsetTest(orLinkPL, 6, spec.SizeH, 0x1fff))
}

func (g *gen) portAtom(off uint32, v uint16) pred {
	return g.cmp(orTranIPv4, off, spec.SizeH, uint32(v))
}
func (g *gen) portAtom6(off uint32, v uint16) pred {
	return g.cmp(orTranIPv6, off, spec.SizeH, uint32(v))
}

func (g *gen) dirCombine(dir int, addr int, atom func(off uint32) pred) pred {
	switch dir {
	case dSrc:
		return atom(0)
	case dDst:
		return atom(2)
	case dAnd:
		t := atom(0)
		return and(t, atom(2))
	case qDefault, dOr:
		t := atom(0)
		return or(t, atom(2))
	}
	g.invalidQual(dqkw(dir), tqkw(addr))
	return pred{}
}

func (g *gen) port(port uint16, proto, dir, addr int) pred {
	b1 := g.dirCombine(dir, addr, func(off uint32) pred { return g.portAtom(off, port) })
	return g.portCommon(proto, b1)
}

func (g *gen) portCommon(proto int, b1 pred) pred {
	var tmp pred
	switch proto {
	case ipprotoUDP, ipprotoTCP, ipprotoSCTP:
		tmp = g.ipProto(uint32(proto))
	default:
		tmp = g.ipProto(ipprotoSCTP)
		tmp = or(g.ipProto(ipprotoUDP), tmp)
		tmp = or(g.ipProto(ipprotoTCP), tmp)
	}
	b0 := g.ipfrag()
	b0 = and(tmp, b0)
	b1 = and(b0, b1)
	return and(g.linktypeTest(etIP), b1)
}

func (g *gen) port6(port uint16, proto, dir, addr int) pred {
	b1 := g.dirCombine(dir, addr, func(off uint32) pred { return g.portAtom6(off, port) })
	return g.port6Common(proto, b1)
}

func (g *gen) port6Common(proto int, b1 pred) pred {
	var tmp pred
	switch proto {
	case ipprotoUDP, ipprotoTCP, ipprotoSCTP:
		tmp = g.ip6Proto(uint32(proto))
	default:
		tmp = g.ip6Proto(ipprotoSCTP)
		tmp = or(g.ip6Proto(ipprotoUDP), tmp)
		tmp = or(g.ip6Proto(ipprotoTCP), tmp)
	}
	b1 = and(tmp, b1)
	return and(g.linktypeTest(etIPv6), b1)
}

func (g *gen) portrangeAtom(rel offrel, off uint32, v1, v2 uint16) pred {
	if v1 == v2 {
		return g.cmp(rel, off, spec.SizeH, uint32(v1))
	}
	lo, hi := min(v1, v2), max(v1, v2)
	b1 := g.cmpGE(rel, off, spec.SizeH, uint32(lo))
	b2 := g.cmpLE(rel, off, spec.SizeH, uint32(hi))
	return and(b1, b2)
}

func (g *gen) portrange(p1, p2 uint16, proto, dir int) pred {
	b1 := g.dirCombine(dir, aPortrange, func(off uint32) pred { return g.portrangeAtom(orTranIPv4, off, p1, p2) })
	return g.portCommon(proto, b1)
}

func (g *gen) portrange6(p1, p2 uint16, proto, dir int) pred {
	b1 := g.dirCombine(dir, aPortrange, func(off uint32) pred { return g.portrangeAtom(orTranIPv6, off, p1, p2) })
	return g.port6Common(proto, b1)
}

func (g *gen) proto(v uint32, proto int) pred {
	switch proto {
	case qDefault:
		b0 := g.proto(v, pIP)
		return or(b0, g.proto(v, pIPv6))
	case pLink:
		return g.linktypeTest(v)
	case pIP:
		g.assertMax("protocol number", v, 0xff)
		b0 := g.linktypeTest(etIP)
		return and(b0, g.ipProto(v))
	case pIPv6:
		g.assertMax("protocol number", v, 0xff)
		b0 := g.linktypeTest(etIPv6)
		b2 := g.ip6Proto(ipprotoFragment)
		b1 := g.cmp(orLinkPL, 40, spec.SizeB, v)
		b1 = and(b2, b1)
		b2 = g.ip6Proto(v)
		b1 = or(b2, b1)
		return and(b0, b1)
	case pISO:
		g.assertMax("ISO protocol", v, 0xff)
		switch g.linktype {
		case ltFrelay:
			return g.frelayNLPID(v)
		case ltCHDLC, ltHDLC:
			b0 := g.linktypeTest(llcsapISONS<<8 | llcsapISONS)
			return and(b0, g.cmp(orLinkPLNoSnap, 1, spec.SizeB, v))
		}
		b0 := g.linktypeTest(llcsapISONS)
		return and(b0, g.cmp(orLinkPLNoSnap, 0, spec.SizeB, v))
	case pISIS:
		g.assertMax("IS-IS PDU type", v, 0x1f)
		b0 := g.proto(isoISIS, pISO)
		off := uint32(4)
		if g.linktype == ltCHDLC || g.linktype == ltHDLC {
			off = 5
		}
		return and(b0, g.mcmp(orLinkPLNoSnap, off, spec.SizeB, v, 0x1f))
	}
	g.invalidQual(pqkw(proto), "proto")
	return pred{}
}

var pqToIPProto = map[int]uint32{pAH: ipprotoAH, pCARP: ipprotoVRRP, pESP: ipprotoESP, pICMP: ipprotoICMP,
	pICMPv6: ipprotoICMPv6, pIGMP: ipprotoIGMP, pIGRP: ipprotoIGRP, pPIM: ipprotoPIM, pSCTP: ipprotoSCTP,
	pTCP: ipprotoTCP, pUDP: ipprotoUDP, pVRRP: ipprotoVRRP}

var pqToEthertype = map[int]uint32{pIP: etIP, pARP: etARP, pRARP: etREVARP, pATALK: etATALK, pAARP: etAARP,
	pDECNET: etDN, pSCA: etSCA, pLAT: etLAT, pMOPDL: etMOPDL, pMOPRC: etMOPRC, pIPv6: etIPv6}

var pqToLLCSAP = map[int]uint32{pISO: llcsapISONS, pSTP: llcsap8021D, pIPX: llcsapIPX, pNETBEUI: llcsapNetBEUI}

var pqToNLPID = map[int]uint32{pESIS: isoESIS, pISIS: isoISIS, pCLNP: isoCLNP}

// abbrev generates a protocol name used alone ("tcp", "ip6", "l1").
func (g *gen) abbrev(proto int) pred {
	isis := func(ts ...uint32) pred {
		b := g.proto(ts[0], pISIS)
		for _, t := range ts[1:] {
			b = or(g.proto(t, pISIS), b)
		}
		return b
	}
	switch proto {
	case pSCTP, pTCP, pUDP, pAH, pESP, pPIM:
		return g.proto(pqToIPProto[proto], qDefault)
	case pICMP, pIGMP, pIGRP, pVRRP, pCARP:
		return g.proto(pqToIPProto[proto], pIP)
	case pICMPv6:
		return g.proto(pqToIPProto[proto], pIPv6)
	case pIP, pARP, pRARP, pATALK, pAARP, pDECNET, pSCA, pLAT, pMOPDL, pMOPRC, pIPv6:
		return g.linktypeTest(pqToEthertype[proto])
	case pISO, pSTP, pIPX, pNETBEUI:
		return g.linktypeTest(pqToLLCSAP[proto])
	case pESIS, pISIS, pCLNP:
		return g.proto(pqToNLPID[proto], pISO)
	case pISISL1:
		b0 := g.proto(15, pISIS)
		b1 := g.proto(17, pISIS)
		b1 = or(b0, b1)
		b0 = g.proto(18, pISIS)
		b1 = or(b0, b1)
		b0 = g.proto(24, pISIS)
		b1 = or(b0, b1)
		b0 = g.proto(26, pISIS)
		return or(b0, b1)
	case pISISL2:
		b0 := g.proto(16, pISIS)
		b1 := g.proto(17, pISIS)
		b1 = or(b0, b1)
		b0 = g.proto(20, pISIS)
		b1 = or(b0, b1)
		b0 = g.proto(25, pISIS)
		b1 = or(b0, b1)
		b0 = g.proto(27, pISIS)
		return or(b0, b1)
	case pISISIIH:
		b0 := g.proto(15, pISIS)
		b1 := g.proto(16, pISIS)
		b1 = or(b0, b1)
		b0 = g.proto(17, pISIS)
		return or(b0, b1)
	case pISISLSP:
		b0 := g.proto(18, pISIS)
		return or(b0, g.proto(20, pISIS))
	case pISISSNP:
		b0 := g.proto(24, pISIS)
		b1 := g.proto(25, pISIS)
		b1 = or(b0, b1)
		b0 = g.proto(26, pISIS)
		b1 = or(b0, b1)
		b0 = g.proto(27, pISIS)
		return or(b0, b1)
	case pISISCSNP:
		b0 := g.proto(24, pISIS)
		return or(b0, g.proto(25, pISIS))
	case pISISPSNP:
		b0 := g.proto(26, pISIS)
		return or(b0, g.proto(27, pISIS))
	}
	_ = isis
	g.fail("'%s' cannot be used as an abbreviation", pqkw(proto))
	return pred{}
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
