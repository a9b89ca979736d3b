package expr

import "github.com/wringcap/wring/spec"

// Link-layer families: Ethernet, Linux cooked (SLL) and 802.2 LLC
// protocol tests.

func (g *gen) etherLinktype(p uint32) pred {
	switch p {
	case llcsapISONS, llcsapIP, llcsapNetBEUI:
		b0 := g.cmpLE(orLinkType, 0, spec.SizeH, etherMTU)
		b1 := g.cmp(orLLC, 0, spec.SizeH, p<<8|p)
		return and(b0, b1)
	case llcsapIPX:
		b0 := g.cmp(orLLC, 0, spec.SizeB, llcsapIPX)
		b1 := g.cmp(orLLC, 0, spec.SizeH, 0xffff)
		b1 = or(b0, b1)
		b0 = g.snap(0, etIPX)
		b1 = or(b0, b1)
		b0 = g.cmpLE(orLinkType, 0, spec.SizeH, etherMTU)
		b1 = and(b0, b1)
		b0 = g.cmp(orLinkType, 0, spec.SizeH, etIPX)
		return or(b0, b1)
	case etATALK, etAARP:
		b0 := g.cmpLE(orLinkType, 0, spec.SizeH, etherMTU)
		var b1 pred
		if p == etATALK {
			b1 = g.snap(0x080007, etATALK)
		} else {
			b1 = g.snap(0, etAARP)
		}
		b1 = and(b0, b1)
		b0 = g.cmp(orLinkType, 0, spec.SizeH, p)
		return or(b0, b1)
	}
	if p <= etherMTU {
		g.assertMax111("LLC DSAP", p, 0xff)
		b0 := g.cmpLE(orLinkType, 0, spec.SizeH, etherMTU)
		b1 := g.cmp(orLinkType, 2, spec.SizeB, p)
		return and(b0, b1)
	}
	g.assertMax111("EtherType", p, 0xffff)
	return g.cmp(orLinkType, 0, spec.SizeH, p)
}

func (g *gen) sllLinktype(p uint32) pred {
	switch p {
	case llcsapISONS, llcsapIP, llcsapNetBEUI:
		b0 := g.cmp(orLinkType, 0, spec.SizeH, sllP8022)
		b1 := g.cmp(orLLC, 0, spec.SizeH, p<<8|p)
		return and(b0, b1)
	case llcsapIPX:
		b0 := g.cmp(orLLC, 0, spec.SizeB, llcsapIPX)
		b1 := g.snap(0, etIPX)
		b1 = or(b0, b1)
		b0 = g.cmp(orLinkType, 0, spec.SizeH, sllP8022)
		b1 = and(b0, b1)
		b0 = g.cmp(orLinkType, 0, spec.SizeH, sllP8023)
		b1 = or(b0, b1)
		b0 = g.cmp(orLinkType, 0, spec.SizeH, etIPX)
		return or(b0, b1)
	case etATALK, etAARP:
		b0 := g.cmp(orLinkType, 0, spec.SizeH, sllP8022)
		var b1 pred
		if p == etATALK {
			b1 = g.snap(0x080007, etATALK)
		} else {
			b1 = g.snap(0, etAARP)
		}
		b1 = and(b0, b1)
		b0 = g.cmp(orLinkType, 0, spec.SizeH, p)
		return or(b0, b1)
	}
	if p <= etherMTU {
		g.assertMax111("LLC DSAP", p, 0xff)
		b0 := g.cmp(orLinkType, 0, spec.SizeH, sllP8022)
		b1 := g.cmp(orLinkHdr, g.offLinkPL.c, spec.SizeB, p)
		return and(b0, b1)
	}
	g.assertMax111("EtherType", p, 0xffff)
	return g.cmp(orLinkType, 0, spec.SizeH, p)
}

func (g *gen) llcLinktype(p uint32) pred {
	switch p {
	case llcsapIP, llcsapISONS, llcsapNetBEUI:
		return g.cmp(orLLC, 0, spec.SizeH, p<<8|p)
	case llcsapIPX:
		return g.cmp(orLLC, 0, spec.SizeB, llcsapIPX)
	case etATALK:
		return g.snap(0x080007, etATALK)
	}
	if p <= etherMTU {
		g.assertMax111("LLC DSAP", p, 0xff)
		return g.cmp(orLLC, 0, spec.SizeB, p)
	}
	g.assertMax111("EtherType", p, 0xffff)
	return g.cmp(orLLC, 6, spec.SizeH, p)
}
