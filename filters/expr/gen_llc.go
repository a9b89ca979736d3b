package expr

import "github.com/wringcap/wring/spec"

// Code generation: 802.2 LLC frame types.

func (g *gen) llcInternal() pred {
	switch lt := g.linktype; {
	case lt == ltEN10MB, g.dsa(lt):
		b0 := g.cmpLE(orLinkType, 0, spec.SizeH, etherMTU)
		b1 := g.cmpNE(orLLC, 0, spec.SizeH, 0xffff)
		return and(b0, b1)
	case lt == ltSunATM:
		b0 := g.atmPrototype(ptLLC)
		g.linktype = g.prevlinktype
		return b0
	case lt == ltIEEE802, lt == ltFDDI, lt == ltATMRFC1483:
		return g.gtrue()
	case is80211(lt):
		return g.cmpMasked(orLinkHdr, 0, spec.SizeB, 0x08, 0x0c)
	}
	g.failKwOnDLT("llc")
	return pred{}
}

func (g *gen) llc(kind string) pred {
	if kind == "" {
		return g.llcInternal()
	}
	switch lower(kind) {
	case "i":
		b0 := g.llcInternal()
		return and(b0, not(g.jsetTest(orLLC, 2, spec.SizeB, 0x01)))
	case "s":
		b0 := g.llcInternal()
		return and(b0, g.cmpMasked(orLLC, 2, spec.SizeB, 0x01, 0x03))
	case "u":
		b0 := g.llcInternal()
		return and(b0, g.cmpMasked(orLLC, 2, spec.SizeB, 0x03, 0x03))
	}
	if v, ok := llcSSubtypes[kind]; ok {
		b0 := g.llcInternal()
		return and(b0, g.cmpMasked(orLLC, 2, spec.SizeB, v, 0x0f))
	}
	if v, ok := llcUSubtypes[kind]; ok {
		b0 := g.llcInternal()
		return and(b0, g.cmpMasked(orLLC, 2, spec.SizeB, v, 0xef))
	}
	g.fail("unknown LLC type name \"%s\"", kind)
	return pred{}
}
