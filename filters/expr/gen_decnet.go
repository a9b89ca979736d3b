package expr

import (
	"strconv"
	"strings"

	"github.com/wringcap/wring/spec"
)

// Code generation: DECnet host primitives.

// decnetHost generates a DECnet host address "area.node" with its
// qualifiers.
func (g *gen) decnetHost(s string, q qual) pred {
	g.assertNonWLANDir(q.dir)
	if q.addr != qDefault && q.addr != aHost {
		g.invalidQual("decnet", addrQualName(q.addr))
	}
	addr, ok := parseDECnet(s)
	if !ok {
		g.fail("invalid DECnet address '%s'", s)
	}
	b0 := g.linktypeTest(etDN)
	return and(b0, g.decnetHostTest(uint32(addr), q.dir))
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

func swap16(v uint32) uint32 { return (v&0xff)<<8 | (v>>8)&0xff }

// decnetHostTest tests a DECnet address in the given direction (libpcap's
// gen_dnhostop).
func (g *gen) decnetHostTest(addr uint32, dir int) pred {
	var offLH, offSH uint32
	switch dir {
	case dDst:
		offSH, offLH = 1, 7
	case dSrc:
		offSH, offLH = 3, 15
	case dAnd:
		return and(g.decnetHostTest(addr, dSrc), g.decnetHostTest(addr, dDst))
	default:
		return or(g.decnetHostTest(addr, dSrc), g.decnetHostTest(addr, dDst))
	}
	sa := swap16(addr)
	tmp := g.cmpMasked(orLinkPL, 2, spec.SizeH, 0x8106, 0xff07)
	b1 := g.cmp(orLinkPL, 2+1+offLH, spec.SizeH, sa)
	b1 = and(tmp, b1)
	tmp = g.cmpMasked(orLinkPL, 2, spec.SizeB, 0x06, 0x07)
	b2 := g.cmp(orLinkPL, 2+offLH, spec.SizeH, sa)
	b2 = and(tmp, b2)
	b1 = or(b2, b1)
	if dir == dDst {
		b2 = g.cmpMasked(orLinkPL, 2, spec.SizeW, 0x81020000|sa, 0xff07ffff)
	} else {
		tmp = g.cmpMasked(orLinkPL, 2, spec.SizeH, 0x8102, 0xff07)
		b2 = g.cmp(orLinkPL, 2+1+offSH, spec.SizeH, sa)
		b2 = and(tmp, b2)
	}
	b1 = or(b2, b1)
	if dir == dDst {
		b2 = g.cmpMasked(orLinkPL, 2, spec.SizeW, 0x02000000|sa<<8, 0x07ffff00)
	} else {
		tmp = g.cmpMasked(orLinkPL, 2, spec.SizeB, 0x02, 0x07)
		b2 = g.cmp(orLinkPL, 2+offSH, spec.SizeH, sa)
		b2 = and(tmp, b2)
	}
	return or(b2, b1)
}
