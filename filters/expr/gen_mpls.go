package expr

import "github.com/wringcap/wring/spec"

// Code generation: MPLS labels, which move later offsets.

func (g *gen) justAfterMPLSStack() pred {
	return g.jsetTest(orPrevMPLSHdr, 2, spec.SizeB, 0x01)
}

func (g *gen) mplsLinktype(p uint32) pred {
	switch p {
	case etIP:
		b0 := g.justAfterMPLSStack()
		return and(b0, g.ipVersion(orLinkPL, 4))
	case etIPv6:
		b0 := g.justAfterMPLSStack()
		return and(b0, g.ipVersion(orLinkPL, 6))
	}
	g.fail("unsupported protocol over mpls")
	return pred{}
}

func (g *gen) mpls(num uint32, has bool) pred {
	var b0 pred
	if g.labelDepth > 0 {
		b0 = not(g.justAfterMPLSStack())
	} else {
		switch lt := g.linktype; {
		case lt == ltCHDLC, lt == ltHDLC, g.ethernetLike(lt):
			b0 = g.linktypeTest(etMPLS)
		case lt == ltPPP:
			b0 = g.linktypeTest(0x0281)
		default:
			g.failKwOnDLT("mpls")
		}
	}
	if has {
		g.assertMax("MPLS label", num, 0xfffff)
		b1 := g.cmpMasked(orLinkPL, 0, spec.SizeW, num<<12, 0xfffff<<12)
		b0 = and(b0, b1)
	}
	g.offNLNoSnap += 4
	g.offNL += 4
	g.labelDepth++
	return b0
}
